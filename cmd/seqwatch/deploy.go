package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/deploy"
	"github.com/seqwatch/seqwatch/internal/gate"
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
	err := w.parse(fs, flags)
	if errors.Is(err, flag.ErrHelp) {
		return 0
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
	var muter gate.Muter
	var reporter gate.Reporter
	if w.sf.config != "" {
		ac, err := deployApp(ctx, w.sf.config, w.sf.name, *notifyFlag)
		if err != nil {
			return unknown(advised(err))
		}
		if max := ac.File().MuteLimit(); w.timeout+gate.DefaultMargin > max {
			return unknown(fmt.Errorf("usage: --timeout %s and the mute's margin of %s make a mute longer than mute_max (%s): give a shorter --timeout, or raise mute_max in %s",
				w.timeout, gate.DefaultMargin, max, w.sf.config))
		}
		// The application is read as the configuration just parsed says.
		w.sf.picked = ac
		muter = &deploy.Muter{App: ac, KeepUnreachable: *keep, Now: e.now}
		if *notifyFlag {
			reporter = &deploy.Reporter{App: ac, Stdout: e.stdout, Now: e.now, Sleep: e.sleep}
		}
	}
	db, opt, err := w.open(ctx, time.Time{}, e)
	if err != nil {
		return unknown(advised(err))
	}
	defer db.Close()

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	p, obs := waitObserver(e, false, w.grace)
	d := gate.Deploy(ctx, db, gate.DeployOptions{
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

// deployApp loads the configuration of the application deployed: all
// of it (channels and their secrets) with --notify, else what the mute
// needs.
func deployApp(ctx context.Context, path, name string, notify bool) (*config.App, error) {
	load := config.LoadForReading
	if notify {
		load = loadValidConfig
	}
	cfg, err := load(ctx, path)
	if err != nil {
		return nil, err
	}
	return deploy.App(cfg, name)
}
