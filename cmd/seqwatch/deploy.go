package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/gate"
	"github.com/seqwatch/seqwatch/internal/mutes"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

const deployHelp = `Usage: seqwatch deploy [--config FILE [--name APP] | --app DIR | --dsn URL] [--timeout 15m] [--notify]
                       [--async-retry-grace 2m] [--require-all] [--keep-unreachable] [-t 10s] -- COMMAND [ARG...]

Wraps the deploy step that runs Sequencer, for instance
  seqwatch deploy --config /etc/seqwatch/seqwatch.yaml -- php artisan sequencer:process --isolated

  1. With --config, it mutes the alerting daemon for the application
     (reason "deploy: COMMAND") for --timeout plus 2 minutes, so that
     nobody is paged for what the person deploying is watching.
  2. It runs COMMAND with its output passed through untouched, and
     forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to it.
  3. It waits as "seqwatch wait" does for the runs started since the
     moment before COMMAND started (not when a signal was forwarded).
  4. It unmutes: problems still open are then sent once, at the daemon's
     next tick.
  5. It prints the summary and exits with the worse of COMMAND's own
     failure and the wait's verdict.

If deploy itself is killed (kill -9), the mute ends by itself at the
timeout plus 2 minutes: the mute's length bounds the silence.

  --notify            send one deploy.finished event through the configured
                      channels (routes apply): what ran, what failed with its
                      exception, what was rolled back or skipped, how long it
                      took. Without it the channels hear nothing from a deploy
                      that went well; one that failed unmutes, and the daemon
                      alerts as usual, once.
  --keep-unreachable  while muted, still send source.unreachable
  --timeout, --async-retry-grace, --require-all, -t: as for seqwatch wait.

Exit status:
  0  COMMAND succeeded and everything that ran has completed
  1  --timeout reached with work still running (or files not run with
     --require-all)
  2  COMMAND failed (its own exit status is in the summary), or a run of
     this deploy failed or was rolled back
  3  the application cannot be read, or bad flags (COMMAND is not run)
`

func runDeploy(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("deploy", e.stderr, deployHelp)
	var w waitFlags
	w.register(fs, false)
	notifyFlag := fs.Bool("notify", false, "send a deploy.finished event through the configured channels")
	keep := fs.Bool("keep-unreachable", false, "while muted, still send source.unreachable")
	flags, argv := splitCommand(args)
	unknown := func(err error) int {
		fmt.Fprintln(e.stdout, check.UnknownVerdict(err).Line())
		return int(check.Unknown)
	}
	err := parseFlagsQuietly(fs, flags)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		err = w.check()
	}
	if err == nil && len(argv) == 0 {
		err = &usageError{msg: "give the command to run after --, such as: seqwatch deploy --config FILE -- php artisan sequencer:process --isolated"}
	}
	if err == nil && *notifyFlag && w.sf.config == "" {
		err = &usageError{msg: "--notify sends through the channels of a configuration: give --config FILE too"}
	}
	if err != nil {
		return unknown(fmt.Errorf("usage: %w", err))
	}
	src, th, err := w.sf.resolve(ctx, e)
	if err != nil {
		return unknown(advised(err))
	}
	w.thresholds(th)
	var muter gate.Muter
	var reporter gate.Reporter
	if w.sf.config != "" {
		cfg, err := deployConfig(ctx, w.sf.config, w.sf.name, *notifyFlag)
		if err != nil {
			return unknown(advised(err))
		}
		if max := cfg.File().MuteLimit(); w.timeout+gate.DefaultMargin > max {
			return unknown(fmt.Errorf("usage: --timeout %s and the mute's margin of %s make a mute longer than mute_max (%s): give a shorter --timeout, or raise mute_max in %s",
				w.timeout, gate.DefaultMargin, max, w.sf.config))
		}
		muter = &stateMuter{cfg: cfg, cfgPath: w.sf.config, keep: *keep, now: e.now}
		if *notifyFlag {
			reporter = &channelReporter{cfg: cfg, e: e}
		}
	}
	db, err := openForWait(ctx, src)
	if err != nil {
		return unknown(advised(err))
	}
	defer db.Close()

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	p, obs := waitObserver(e, false, w.grace)
	opt := w.options(time.Time{}, e)
	opt.Location = src.Location
	d := gate.Deploy(ctx, &gate.DBSource{DB: db, App: src, Now: e.now}, gate.DeployOptions{
		Command: gate.Command{Argv: argv, Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr, Signals: sigs},
		Wait:    opt,
		Muter:   muter, Reporter: reporter,
		Warn: func(s string) { fmt.Fprintln(e.stderr, "seqwatch deploy: "+advise(errors.New(s))) },
	}, obs)
	if d.Wait.Err != nil {
		d.Wait.Err = advised(d.Wait.Err)
	}
	v := gate.DeployVerdict(d)
	p.Finish(d.Wait, v)
	return v.Code
}

// splitCommand splits deploy's arguments at the first "--": the flags
// before it, the command after.
func splitCommand(args []string) (flags, command []string) {
	if i := slices.Index(args, "--"); i >= 0 {
		return args[:i], args[i+1:]
	}
	return args, nil
}

// deployConfig loads the configuration of the application deployed: all
// of it (channels and their secrets) with --notify, else what the mute
// needs.
func deployConfig(ctx context.Context, path, name string, notify bool) (*config.App, error) {
	load := config.LoadForReading
	if notify {
		load = loadValidConfig
	}
	cfg, err := load(ctx, path)
	if err != nil {
		return nil, err
	}
	ac := cfg.TopLevel()
	if cfg.HasApps() {
		if ac, err = cfg.Application(name); err != nil {
			return nil, err
		}
	}
	if problems := cfg.ValidateMutes(); len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s (run seqwatch validate --config %s)", path, strings.Join(problems, "; "), path)
	}
	return ac, nil
}

// stateMuter is the deploy's mute, in the state the daemon reads (the
// state file, or state.postgres), as seqwatch mute makes it.
type stateMuter struct {
	cfg     *config.App
	cfgPath string
	keep    bool
	now     func() time.Time
}

func (m *stateMuter) edit(ctx context.Context, fn func(*state.State) error) error {
	editor, err := statestore.OpenEditor(ctx, m.cfg)
	if err != nil {
		return err
	}
	defer editor.Close()
	return editor.EditMutes(ctx, fn)
}

func (m *stateMuter) Mute(ctx context.Context, reason string, until time.Time) (string, error) {
	now := m.now()
	mu, err := mutes.New(m.cfg, m.cfgPath, mutes.Request{For: until.Sub(now), Reason: reason, KeepUnreachable: m.keep, By: "deploy"}, now)
	if err != nil {
		return "", err
	}
	err = m.edit(ctx, func(st *state.State) error {
		st.ExpireMutes(now)
		st.Mutes = append(st.Mutes, mu)
		return nil
	})
	return mu.ID, err
}

func (m *stateMuter) Extend(ctx context.Context, id, reason string, until time.Time) error {
	now := m.now()
	return m.edit(ctx, func(st *state.State) error {
		st.ExpireMutes(now)
		for i := range st.Mutes {
			if st.Mutes[i].ID == id {
				st.Mutes[i].End = until
				return nil
			}
		}
		// It ended meanwhile (a command that ran longer than the timeout):
		// mute again under the same id, for the wait.
		st.Mutes = append(st.Mutes, state.Mute{ID: id, Reason: reason, Start: now, End: until, KeepUnreachable: m.keep, By: "deploy"})
		return nil
	})
}

func (m *stateMuter) Unmute(ctx context.Context, id string) error {
	return m.edit(ctx, func(st *state.State) error {
		st.ExpireMutes(m.now())
		if _, err := st.Unmute([]string{id}, false); err != nil && !errors.Is(err, state.ErrNoMute) {
			return err
		}
		return nil
	})
}

// channelReporter sends the deploy.finished event through the channels
// routes give it to. What a channel does not take now waits in the
// state's outbox, for the daemon to deliver with its retries: a report is
// never lost, and never sent twice under two ids.
type channelReporter struct {
	cfg *config.App
	e   env
}

func (r *channelReporter) Report(ctx context.Context, d gate.DeployResult) error {
	ev := gate.Event(d, state.NewEventID(), r.cfg.DisplayName(), r.cfg.Environment)
	names := r.cfg.EffectiveRoutes().Channels(notify.DeployFinished)
	if len(names) == 0 {
		return nil
	}
	channels, rates, err := r.cfg.BuildChannels(notify.Deps{Client: notify.NewHTTPClient(), Now: time.Now, Logger: discardLogger(), Stdout: r.e.stdout})
	if err != nil {
		return err
	}
	disp := notify.NewDispatcher(channels, notify.DispatcherOptions{MaxAttempts: 3, Sleep: r.e.sleep, RatePerSecond: rates})
	var failed, why []string
	for _, n := range names {
		if out := disp.Send(ctx, n, []notify.Event{ev}); !out.Delivered {
			failed = append(failed, n)
			why = append(why, n+": "+text.Redact(errText(out.Err), r.cfg.File().Secrets()...))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	editor, err := statestore.OpenEditor(ctx, r.cfg)
	if err != nil {
		return err
	}
	defer editor.Close()
	if err := editor.Edit(ctx, func(st *state.State) error {
		st.Enqueue(ev, failed, r.e.now())
		return nil
	}); err != nil {
		return fmt.Errorf("%s; and it could not be queued for the daemon: %w", strings.Join(why, "; "), err)
	}
	return fmt.Errorf("%s; it waits in the outbox for the daemon (seqwatch outbox list --config %s)", strings.Join(why, "; "), r.cfg.File().Path())
}
