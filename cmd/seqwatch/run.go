package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/state"
)

const runHelp = `Usage: seqwatch run --config FILE [--once] [--listen ADDR] [--log-format text|json] [--log-level info|debug]

Runs the alerting daemon: on the configured schedule (default @every 1m)
it reads the application, works out what is new since the last tick
(operation.failed, operation.recovered, operation.stuck/unstuck,
pending.threshold/cleared, deferred.failed, source.unreachable/recovered,
reminders) and sends it through the configured channels. What was sent is
kept in state.path, so a restart never repeats an alert and never forgets
one; undelivered alerts stay in its outbox and are retried with backoff
(10s, doubling, at most every 10m). Alerts refused for good go to the dead
letters: see them with seqwatch outbox list --config FILE.

Each tick's read has a deadline (tick_timeout, default half the schedule's
interval, at most 30s); a read that misses it counts as a failed read
towards source.unreachable. A tick still running when the next is due
makes that one skip, with a warning.

Signals: SIGTERM/SIGINT stop at once: no new delivery attempt starts, a
request in flight gets 3s to finish, and what is unsent stays in the
outbox. SIGHUP reloads the configuration (keeping the old one if the new
one is invalid). Under systemd (Type=notify) it reports readiness once the
state is loaded, and feeds the watchdog only while ticks end in time, so
that systemd restarts a daemon whose tick is wedged.

With apps: in the configuration it watches every application listed, each
on its own schedule, with its own state and deadline, at most 8 reading at
once. With state.postgres, several seqwatch on several servers share the
state; one at a time (the lease holder) reads and sends, the others stand
by and take over within the lease (state.lease) and one tick.

With --listen ADDR (or http.listen) it serves a status page at /, the
same as JSON at /api/v1/status, Prometheus metrics at /metrics, and
/healthz and /readyz for probes; with heartbeat.url it pings a monitor
such as healthchecks.io after each tick. Changes to http: and heartbeat:
need a restart.

Exit status:
  0  clean shutdown; with --once: the read succeeded, and every alert was
     delivered (the outbox and the dead letters are empty)
  1  an error (bad configuration, state locked or corrupt, the database
     could not be read); with --once also: alerts still waiting in the
     outbox, or alerts in the dead letters (until they are retried or
     dropped with seqwatch outbox)
  2  bad usage
`

func runDaemon(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("run", e.stderr, runHelp)
	cfgPath := fs.String("config", "", "seqwatch.yaml `FILE` (required)")
	once := fs.Bool("once", false, "run one tick and exit (for cron and timers)")
	logFormat := fs.String("log-format", "text", "log format: `text` or json")
	logLevel := fs.String("log-level", "info", "log level: debug, `info`, warn, error")
	listen := fs.String("listen", "", "serve the status page, /metrics, /healthz and /readyz on `ADDR` such as 127.0.0.1:9477 (overrides http.listen)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fmt.Fprintln(e.stderr, "seqwatch run: --config FILE is required (see seqwatch.yaml in the repository for an example)")
		return errUsage
	}
	// SIGHUP is taken over before anything else: its default action ends
	// the process, and a reload sent as soon as the daemon says it started
	// must not kill it.
	var hup chan os.Signal
	if !*once {
		hup = make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}
	cfg, err := loadValidConfig(ctx, *cfgPath)
	if err != nil {
		return err
	}
	secrets := &text.SecretSet{}
	secrets.Set(cfg.Secrets())
	logger, err := newLogger(e, *logFormat, *logLevel, secrets)
	if err != nil {
		return err
	}
	stores, err := statestore.Open(ctx, cfg, !*once, e.sleep, logger)
	if err != nil {
		return err
	}
	defer stores.Close()

	obs, err := newObserver(cfg, *listen, !*once, cfg.Applications()[0].DisplayName(), e, logger, secrets)
	if err != nil {
		return err
	}
	defer obs.Close()
	var apps []*daemon.App
	for _, ac := range cfg.Applications() {
		app, err := newApp(ac, stores.ForApp(ac), e, logger, func(d *daemon.Deps) { d.Observer = observerFor(obs, ac) })
		if err != nil {
			return err
		}
		defer app.Close()
		apps = append(apps, app)
		logger.Info("seqwatch started", "version", resolvedVersion(), "app", app.Name(), "where", app.Where(), "state", stores.Where(ac), "schedule", ac.ScheduleSpec(), "channels", len(ac.Channels()))
	}
	obs.StateLoaded()
	opts := daemon.Options{Now: e.now, Logger: logger, MaxConcurrent: cfg.Concurrency, Notify: func(s string) { _, _ = sd.SdNotify(false, s) }}
	if *once {
		return daemon.New(apps, opts).Once(ctx)
	}
	if interval, err := sd.SdWatchdogEnabled(false); err == nil && interval > 0 {
		opts.Watchdog = interval
	}
	var next *config.Config
	opts.Reload = func() (map[string]daemon.Config, error) {
		newCfg, err := loadValidConfig(ctx, *cfgPath)
		if err != nil {
			return nil, err
		}
		out := map[string]daemon.Config{}
		for _, ac := range newCfg.Applications() {
			i := slices.IndexFunc(apps, func(a *daemon.App) bool { return a.Name() == ac.DisplayName() })
			if i < 0 {
				return nil, fmt.Errorf("application %q is new: adding applications needs a restart", ac.DisplayName())
			}
			app := apps[i]
			dc, err := appConfig(ac, e, logger.With("app", app.Name()), app.State)
			if err != nil {
				return nil, err
			}
			out[dc.Source.Name] = dc
		}
		next = newCfg
		return out, nil
	}
	// Before the next tick can log through the new channels.
	opts.Reloaded = func() { secrets.Set(next.Secrets()) }
	d := daemon.New(apps, opts)
	signals := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case signals <- struct{}{}:
			default:
			}
		}
	}()
	return d.Run(ctx, signals)
}

// newApp makes the worker of one application, its state loaded, with its
// dependencies adjusted by opts (tests replace the read or the observer).
func newApp(ac *config.App, st state.Store, e env, logger *slog.Logger, opts ...func(*daemon.Deps)) (*daemon.App, error) {
	var app *daemon.App
	logger = logger.With("app", ac.DisplayName())
	dc, err := appConfig(ac, e, logger, func() *state.State {
		if app == nil {
			return nil
		}
		return app.State()
	})
	if err != nil {
		return nil, err
	}
	deps := daemon.Deps{Store: st, Now: e.now, Sleep: e.sleep, Logger: logger,
		// The daemon is told where the application is by the file alone.
		Advise: func(err error) error { return advised(fromFile(err)) }}
	for _, o := range opts {
		o(&deps)
	}
	app, err = daemon.NewApp(dc, deps)
	return app, err
}

func loadValidConfig(ctx context.Context, path string) (*config.Config, error) {
	cfg, err := config.Load(ctx, path)
	if err != nil {
		return nil, err
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("%s has %d problem(s):\n  %s\n(run seqwatch validate --config %s)", path, len(problems), strings.Join(problems, "\n  "), path)
	}
	return cfg, nil
}

// newLogger builds the daemon's logger; every string it writes passes
// through the secret scrubber.
func newLogger(e env, format, level string, secrets *text.SecretSet) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		switch a.Value.Kind() {
		case slog.KindString:
			a.Value = slog.StringValue(secrets.Redact(a.Value.String()))
		case slog.KindAny:
			if err, ok := a.Value.Any().(error); ok {
				a.Value = slog.StringValue(secrets.Redact(err.Error()))
			} else {
				a.Value = slog.StringValue(secrets.Redact(fmt.Sprint(a.Value.Any())))
			}
		}
		return a
	}}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, errors.New("--log-format must be text or json")
}
