package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/robfig/cron/v3"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/state"
)

const runHelp = `Usage: seqwatch run --config FILE [--once] [--log-format text|json] [--log-level info|debug]

Runs the alerting daemon: on the configured schedule (default @every 1m)
it reads the application, works out what is new since the last tick
(operation.failed, operation.recovered, operation.stuck/unstuck,
pending.threshold/cleared, deferred.failed, source.unreachable/recovered,
reminders) and sends it through the configured channels. What was sent is
kept in state.path, so a restart never repeats an alert and never forgets
one; undelivered alerts stay in its outbox and are retried.

Signals: SIGTERM/SIGINT finish the tick in flight and exit; SIGHUP reloads
the configuration (keeping the old one if the new one is invalid).
Under systemd (Type=notify) it reports readiness once the state is loaded
and sends watchdog keep-alives.

Exit status: 0 clean shutdown (or, with --once, every alert delivered);
1 error (bad configuration, state locked or corrupt, or with --once an
alert left undelivered); 2 bad usage.
`

func runDaemon(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("run", e.stderr, runHelp)
	cfgPath := fs.String("config", "", "seqwatch.yaml `FILE` (required)")
	once := fs.Bool("once", false, "run one tick and exit (for cron and timers)")
	logFormat := fs.String("log-format", "text", "log format: `text` or json")
	logLevel := fs.String("log-level", "info", "log level: debug, `info`, warn, error")
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
	cfg, err := loadValidConfig(*cfgPath)
	if err != nil {
		return err
	}
	secrets := &secretSet{}
	secrets.set(cfg.secrets)
	logger, err := newLogger(e, *logFormat, *logLevel, secrets)
	if err != nil {
		return err
	}

	statePath := cfg.State.Path
	if statePath == "" {
		statePath = DefaultStatePath
	}
	st, err := state.Open(statePath)
	if err != nil {
		return err
	}
	defer st.Close()

	d, err := newDaemon(cfg, st, e, logger)
	if err != nil {
		return err
	}
	defer d.close()
	logger.Info("seqwatch started", "version", version, "app", d.src.Name, "where", d.src.Conn.Where(), "state", statePath, "schedule", scheduleOf(cfg), "channels", len(cfg.Channels))

	if *once {
		return d.tick(ctx)
	}
	return serve(ctx, d, cfg, *cfgPath, hup, secrets, e, logger)
}

func loadValidConfig(path string) (*Config, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("%s has %d problem(s):\n  %s\n(run seqwatch validate --config %s)", path, len(problems), strings.Join(problems, "\n  "), path)
	}
	return cfg, nil
}

func scheduleOf(cfg *Config) string {
	if cfg.Schedule == "" {
		return "@every 1m"
	}
	return cfg.Schedule
}

// newDaemon wires a daemon from configuration and loads its state.
func newDaemon(cfg *Config, st store, e env, logger *slog.Logger) (*daemon, error) {
	src, err := check.Resolve(cfg.Settings())
	if err != nil {
		return nil, err
	}
	d := &daemon{src: src, store: st, logger: logger.With("app", src.Name), now: e.now}
	if err := d.configure(cfg, e); err != nil {
		return nil, err
	}
	if d.st, err = st.Load(); err != nil {
		return nil, err
	}
	return d, nil
}

// configure applies the parts of the configuration that SIGHUP may change.
func (d *daemon) configure(cfg *Config, e env) error {
	channels, rates, err := buildChannels(cfg, e.stdout, alertHTTPClient(), d.now, d.logger, func(channel string) slack.ThreadStore {
		return state.NewThreadStore(func() *state.State { return d.st }, channel)
	})
	if err != nil {
		return err
	}
	d.rules = rulesFrom(cfg)
	d.routes = routesFrom(cfg)
	d.unreachAft = cfg.Thresholds.UnreachableAfter
	if d.unreachAft <= 0 {
		d.unreachAft = state.DefaultUnreachableAfter
	}
	d.dispatch = notify.NewDispatcher(channels, notify.DispatcherOptions{Now: d.now, Sleep: e.sleep, Logger: d.logger, RatePerSecond: rates})
	return nil
}

// serve runs ticks on the schedule until ctx ends, reloading on each
// signal from hup.
func serve(ctx context.Context, d *daemon, cfg *Config, cfgPath string, hup <-chan os.Signal, secrets *secretSet, e env, logger *slog.Logger) error {
	sched, err := parseSchedule(scheduleOf(cfg))
	if err != nil {
		return fmt.Errorf("schedule %q: %w", cfg.Schedule, err)
	}
	// Ticks get their own context: a signal lets the tick in flight finish
	// (and save) for a while before it is cancelled.
	tickCtx, cancelTicks := context.WithCancel(context.Background())
	defer cancelTicks()
	var mu sync.Mutex // serialises ticks and reloads
	runTick := func() {
		mu.Lock()
		defer mu.Unlock()
		if err := d.tick(tickCtx); err != nil {
			logger.Warn("tick finished with a problem", "error", err.Error())
		}
	}
	c := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	c.Schedule(sched, cron.FuncJob(runTick))

	// Readiness only once the state is loaded (it is, by now).
	_, _ = sd.SdNotify(false, sd.SdNotifyReady)
	var watchdog <-chan time.Time
	if interval, err := sd.SdWatchdogEnabled(false); err == nil && interval > 0 {
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		watchdog = t.C
	}

	go runTick() // the first tick at start, not a minute later
	c.Start()
	for {
		select {
		case <-ctx.Done():
			_, _ = sd.SdNotify(false, sd.SdNotifyStopping)
			logger.Info("shutting down: finishing the tick in flight")
			stopped := c.Stop()
			// The bound covers the first tick too, which runs outside cron:
			// a tick stuck on a slow peer must not hold up the shutdown.
			idle := make(chan struct{})
			go func() {
				<-stopped.Done()
				mu.Lock()
				mu.Unlock()
				close(idle)
			}()
			select {
			case <-idle:
			case <-time.After(30 * time.Second):
				logger.Warn("the tick in flight is taking too long; cancelling it")
				cancelTicks()
				<-idle
			}
			logger.Info("stopped")
			return nil
		case <-hup:
			newCfg, err := loadValidConfig(cfgPath)
			if err == nil {
				mu.Lock()
				err = d.configure(newCfg, e)
				if err == nil {
					// Before the next tick can log through the new channels.
					secrets.set(newCfg.secrets)
				}
				mu.Unlock()
			}
			if err != nil {
				logger.Error("reload failed; keeping the previous configuration", "error", err.Error())
				continue
			}
			logger.Info("configuration reloaded (schedule and application changes need a restart)")
		case <-watchdog:
			_, _ = sd.SdNotify(false, sd.SdNotifyWatchdog)
		}
	}
}

// secretSet is the current list of secret values scrubbed from logs.
type secretSet struct {
	mu   sync.RWMutex
	vals []string
}

func (s *secretSet) set(v []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals = append([]string(nil), v...)
}

func (s *secretSet) scrub(msg string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return redactAll(msg, s.vals)
}

// newLogger builds the daemon's logger; every string it writes passes
// through the secret scrubber.
func newLogger(e env, format, level string, secrets *secretSet) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		switch a.Value.Kind() {
		case slog.KindString:
			a.Value = slog.StringValue(secrets.scrub(a.Value.String()))
		case slog.KindAny:
			if err, ok := a.Value.Any().(error); ok {
				a.Value = slog.StringValue(secrets.scrub(err.Error()))
			} else {
				a.Value = slog.StringValue(secrets.scrub(fmt.Sprint(a.Value.Any())))
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
