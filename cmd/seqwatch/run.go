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
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/slack"
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
	d.cfgPath = *cfgPath
	defer d.close()
	obs, err := newObserver(cfg, *listen, !*once, d.src.Name, e, logger, secrets)
	if err != nil {
		return err
	}
	defer obs.close()
	d.obs = obs
	obs.stateLoaded()
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
	d.resenders = resendersOf(channels)
	d.thresholds, d.policy = cfg.thresholds(), policyFrom(cfg)
	d.routes = routesFrom(cfg)
	d.dispatch = notify.NewDispatcher(channels, notify.DispatcherOptions{Now: d.now, Sleep: e.sleep, Logger: d.logger, RatePerSecond: rates})
	d.channelHash = map[string]string{}
	for _, ch := range cfg.Channels {
		d.channelHash[ch.Name] = ch.configHash()
	}
	d.reconcile = time.Duration(cfg.Reconcile)
	if d.tickTimeout, err = tickTimeoutOf(cfg); err != nil {
		return err
	}
	if d.windows, err = windowsOf(cfg); err != nil {
		return err
	}
	return nil
}

// defaultTickTimeout is the longest default tick deadline.
const defaultTickTimeout = 30 * time.Second

// tickTimeoutOf is tick_timeout, or by default half the schedule's
// interval, at most defaultTickTimeout: well under the interval, so that a
// tick stuck on a lock ends, and counts as a failed read, before the next
// one is due.
func tickTimeoutOf(cfg *Config) (time.Duration, error) {
	if cfg.TickTimeout > 0 {
		return time.Duration(cfg.TickTimeout), nil
	}
	sched, err := parseSchedule(scheduleOf(cfg))
	if err != nil {
		return 0, fmt.Errorf("schedule %q: %w", cfg.Schedule, err)
	}
	return min(scheduleInterval(sched)/2, defaultTickTimeout), nil
}

// scheduleInterval is the shortest gap between two runs of sched over a
// sample of its next runs (cron expressions need not be regular).
func scheduleInterval(sched cron.Schedule) time.Duration {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	shortest := time.Duration(0)
	for range 64 {
		next := sched.Next(t)
		if next.IsZero() {
			break
		}
		if gap := next.Sub(t); shortest == 0 || gap < shortest {
			shortest = gap
		}
		t = next
	}
	return shortest
}

// serve runs ticks on the schedule until ctx ends, reloading on each
// signal from hup.
func serve(ctx context.Context, d *daemon, cfg *Config, cfgPath string, hup <-chan os.Signal, secrets *secretSet, e env, logger *slog.Logger) error {
	sched, err := parseSchedule(scheduleOf(cfg))
	if err != nil {
		return fmt.Errorf("schedule %q: %w", cfg.Schedule, err)
	}
	// Ticks get their own context, cancelled at the first signal: no new
	// delivery attempt starts after it (a request in flight gets the
	// dispatcher's grace), and the tick records what it did and ends.
	tickCtx, cancelTicks := context.WithCancel(context.Background())
	defer cancelTicks()
	runner := &tickRunner{d: d, ctx: tickCtx, logger: logger, now: e.now}
	c := cron.New()
	c.Schedule(sched, cron.FuncJob(runner.run))

	// Readiness only once the state is loaded (it is, by now).
	_, _ = sd.SdNotify(false, sd.SdNotifyReady)
	var watchdog <-chan time.Time
	if interval, err := sd.SdWatchdogEnabled(false); err == nil && interval > 0 {
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		watchdog = t.C
	}

	go runner.run() // the first tick at start, not a minute later
	c.Start()
	for {
		select {
		case <-ctx.Done():
			_, _ = sd.SdNotify(false, sd.SdNotifyStopping)
			logger.Info("shutting down: no new delivery attempts; what is unsent stays in the outbox")
			stopped := c.Stop()
			cancelTicks()
			idle := make(chan struct{})
			go func() {
				<-stopped.Done()
				runner.mu.Lock()
				runner.mu.Unlock()
				close(idle)
			}()
			select {
			case <-idle:
			case <-time.After(shutdownWait):
				// The state file is only ever replaced whole, so leaving
				// now loses at most what this tick had not yet saved.
				logger.Warn("the tick in flight did not end; exiting without it", "waited", shutdownWait)
			}
			logger.Info("stopped")
			return nil
		case <-hup:
			newCfg, err := loadValidConfig(cfgPath)
			if err == nil {
				runner.mu.Lock()
				err = d.configure(newCfg, e)
				if err == nil {
					// Before the next tick can log through the new channels.
					secrets.set(newCfg.secrets)
				}
				runner.mu.Unlock()
			}
			if err != nil {
				logger.Error("reload failed; keeping the previous configuration", "error", err.Error())
				continue
			}
			logger.Info("configuration reloaded (schedule and application changes need a restart)")
		case <-watchdog:
			runner.keepAlive(func() { _, _ = sd.SdNotify(false, sd.SdNotifyWatchdog) })
		}
	}
}

// shutdownWait bounds the wait for the tick in flight after a signal: its
// read and sends are cancelled at once, a request in flight gets
// notify.DefaultAttemptGrace, and the state saves are quick.
const shutdownWait = 5 * time.Second

// tickRunner runs the daemon's ticks one at a time, logs the ticks it
// skips, and tells the watchdog whether ticks make progress.
type tickRunner struct {
	d      *daemon
	ctx    context.Context
	logger *slog.Logger
	now    func() time.Time
	// mu serialises ticks and reloads.
	mu sync.Mutex

	state   sync.Mutex // guards the fields below
	busy    bool
	started time.Time
	skipped int
	wedged  bool
}

// run is the scheduled job: a tick, unless the previous one still runs.
func (r *tickRunner) run() {
	if r.begin() {
		r.execute()
	}
}

// begin claims the next tick; when one is still running it logs the skip,
// with the count of ticks skipped so far, and returns false.
func (r *tickRunner) begin() bool {
	r.state.Lock()
	defer r.state.Unlock()
	if r.busy {
		r.skipped++
		r.logger.Warn("tick skipped: the previous tick is still running",
			"running_for", r.now().Sub(r.started).Round(time.Millisecond), "skipped_ticks", r.skipped)
		return false
	}
	r.busy, r.started = true, r.now()
	return true
}

// execute runs the tick claimed by begin.
func (r *tickRunner) execute() {
	defer func() {
		r.state.Lock()
		r.busy = false
		r.state.Unlock()
	}()
	r.mu.Lock()
	defer r.mu.Unlock()
	start := r.now()
	err := r.d.tick(r.ctx)
	r.tickEnded(r.now().Sub(start), err)
}

// tickEnded is where every tick ends, with how long it took and how.
func (r *tickRunner) tickEnded(took time.Duration, err error) {
	var u *undeliveredError
	switch {
	case err == nil:
		r.logger.Debug("tick done", "took", took)
	case errors.As(err, &u) && u.waiting == 0:
		// Dead letters were logged when they died; once is enough.
		r.logger.Debug("tick done", "took", took, "dead_letters", u.dead)
	default:
		r.logger.Warn("tick finished with a problem", "took", took, "error", err.Error())
	}
}

// keepAlive feeds the watchdog through feed unless a tick has been running
// longer than both its deadlines and the grace: then the tick is wedged
// (something ignores its deadline), and systemd is let restart seqwatch.
func (r *tickRunner) keepAlive(feed func()) bool {
	r.state.Lock()
	running := time.Duration(0)
	if r.busy {
		running = r.now().Sub(r.started)
	}
	wedged := running > r.d.maxTick()
	warn := wedged && !r.wedged
	r.wedged = wedged
	r.state.Unlock()
	if wedged {
		if warn {
			r.logger.Error("a tick has been running past its deadlines; no longer feeding the systemd watchdog, so that systemd restarts seqwatch",
				"running_for", running.Round(time.Second), "limit", r.d.maxTick())
		}
		return false
	}
	feed()
	return true
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
	return text.Redact(msg, s.vals...)
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
