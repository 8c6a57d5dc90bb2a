package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/runner"
	"github.com/seqwatch/seqwatch/internal/text"
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
	o := runner.Options{Deps: appDeps(e, logger), Once: *once, Listen: *listen, Version: resolvedVersion(), Secrets: secrets,
		Load:   func(ctx context.Context) (*config.Config, error) { return loadValidConfig(ctx, *cfgPath) },
		Notify: func(s string) { _, _ = sd.SdNotify(false, s) }}
	if interval, err := sd.SdWatchdogEnabled(false); err == nil && interval > 0 {
		o.Watchdog = interval
	}
	return runner.Run(ctx, cfg, o, hup)
}

// appDeps are the daemon's dependencies from e, logging to logger.
func appDeps(e env, logger *slog.Logger) runner.Deps {
	return runner.Deps{Now: e.now, Sleep: e.sleep, Stdout: e.stdout, Logger: logger,
		// The daemon is told where the application is by the file alone.
		Advise: func(err error) error { return advised(fromFile(err)) }}
}

// loadValidConfig is config.LoadValid, with the advice to run seqwatch
// validate for a file with problems.
func loadValidConfig(ctx context.Context, path string) (*config.Config, error) {
	cfg, err := config.LoadValid(ctx, path)
	if errors.As(err, new(*config.InvalidError)) {
		err = fmt.Errorf("%w\n(run seqwatch validate --config %s)", err, path)
	}
	return cfg, err
}

// newLogger is the daemon's logger (runner.NewLogger) to e.stderr, as
// the flags --log-format and --log-level ask.
func newLogger(e env, format, level string, secrets *text.SecretSet) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	if format != "text" && format != "json" {
		return nil, errors.New("--log-format must be text or json")
	}
	return runner.NewLogger(e.stderr, format == "json", lvl, secrets), nil
}
