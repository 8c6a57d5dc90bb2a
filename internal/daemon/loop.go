package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Scheduler runs jobs on cron schedules. *cron.Cron is one (through
// CronScheduler); tests pass one they fire by hand.
type Scheduler interface {
	Schedule(s cron.Schedule, job func())
	Start()
	// Stop stops scheduling; the context is done once running jobs
	// returned.
	Stop() context.Context
}

// CronScheduler is robfig/cron's scheduler as a Scheduler.
func CronScheduler() Scheduler { return cronScheduler{cron.New()} }

type cronScheduler struct{ c *cron.Cron }

func (s cronScheduler) Schedule(sched cron.Schedule, job func()) {
	s.c.Schedule(sched, cron.FuncJob(job))
}
func (s cronScheduler) Start()                { s.c.Start() }
func (s cronScheduler) Stop() context.Context { return s.c.Stop() }

// DefaultMaxConcurrent is how many applications tick at once by default.
const DefaultMaxConcurrent = 8

// ShutdownWait bounds the wait for the ticks in flight after a signal:
// their reads and sends are cancelled at once, a request in flight gets
// notify.DefaultAttemptGrace, and the state saves are quick.
const ShutdownWait = 5 * time.Second

// Options are the loop's dependencies.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// Scheduler is nil for CronScheduler().
	Scheduler Scheduler
	// MaxConcurrent bounds the applications ticking at once (0:
	// DefaultMaxConcurrent). A tick waiting for a slot still has its
	// own deadlines, so a slow database delays others by at most them.
	MaxConcurrent int
	// Notify tells the service manager: "READY=1", "STOPPING=1",
	// "WATCHDOG=1" (nil: nobody to tell).
	Notify func(state string)
	// Watchdog is the service manager's watchdog interval (0: none).
	Watchdog time.Duration
	// Reload returns the new configuration of each application by name
	// (SIGHUP); nil when reloading is not possible.
	Reload func() (map[string]Config, error)
	// Reloaded is called after a successful reload, before the next tick.
	Reloaded func()
}

// Daemon runs the ticks of several applications, each on its own
// schedule and one at a time, until its context ends.
type Daemon struct {
	opts    Options
	runners []*runner
	slots   chan struct{}
}

// New makes the loop over apps.
func New(apps []*App, opts Options) *Daemon {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Scheduler == nil {
		opts.Scheduler = CronScheduler()
	}
	if opts.Notify == nil {
		opts.Notify = func(string) {}
	}
	n := opts.MaxConcurrent
	if n <= 0 {
		n = DefaultMaxConcurrent
	}
	d := &Daemon{opts: opts, slots: make(chan struct{}, n)}
	for _, a := range apps {
		d.runners = append(d.runners, &runner{app: a, logger: a.logger, now: opts.Now, slots: d.slots})
	}
	return d
}

// Once runs one tick of every application (at most MaxConcurrent at
// once) and returns their errors joined: nil only when every read
// succeeded and nothing is left undelivered.
func (d *Daemon) Once(ctx context.Context) error {
	errs := make([]error, len(d.runners))
	var wg sync.WaitGroup
	for i, r := range d.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.slots <- struct{}{}
			defer func() { <-d.slots }()
			errs[i] = r.app.Tick(ctx)
		}()
	}
	wg.Wait()
	// A run --once holds its lease no longer than its tick: the next run,
	// from any server and with a new holder id, takes it at once instead
	// of standing by until it expires.
	d.release()
	var failed AppErrors
	for i, err := range errs {
		if err == nil {
			continue
		}
		if len(d.runners) > 1 {
			err = &appError{app: d.runners[i].app.Name(), err: err}
		}
		failed = append(failed, err)
	}
	if len(failed) == 0 {
		return nil
	}
	return failed
}

// AppErrors are the errors of several applications' ticks, each naming
// its application, as one sentence.
type AppErrors []error

func (e AppErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e AppErrors) Unwrap() []error { return e }

// appError is one application's error among several.
type appError struct {
	app string
	err error
}

func (e *appError) Error() string { return e.app + ": " + e.err.Error() }
func (e *appError) Unwrap() error { return e.err }

// Run ticks each application on its schedule until ctx ends, reloading on
// each value from hup. The first ticks run at once.
func (d *Daemon) Run(ctx context.Context, hup <-chan struct{}) error {
	logger := d.opts.Logger
	// Ticks get their own context, cancelled at the first signal: no new
	// delivery attempt starts after it (a request in flight gets the
	// dispatcher's grace), and the tick records what it did and ends.
	tickCtx, cancelTicks := context.WithCancel(context.Background())
	defer cancelTicks()
	sched := d.opts.Scheduler
	for _, r := range d.runners {
		r.ctx = tickCtx
		s := r.app.cfg.Schedule
		if s == nil {
			s = cron.Every(time.Minute)
		}
		sched.Schedule(s, r.run)
	}
	// Readiness only once the state is loaded (it is, by now).
	d.opts.Notify("READY=1")
	var watchdog <-chan time.Time
	if d.opts.Watchdog > 0 {
		t := time.NewTicker(d.opts.Watchdog / 2)
		defer t.Stop()
		watchdog = t.C
	}
	for _, r := range d.runners {
		go r.run() // the first tick at start, not a minute later
	}
	sched.Start()
	for {
		select {
		case <-ctx.Done():
			d.opts.Notify("STOPPING=1")
			logger.Info("shutting down: no new delivery attempts; what is unsent stays in the outbox")
			stopped := sched.Stop()
			cancelTicks()
			idle := make(chan struct{})
			go func() {
				<-stopped.Done()
				for _, r := range d.runners {
					r.mu.Lock()
					//nolint:staticcheck // an empty critical section waits for the tick in flight
					r.mu.Unlock()
				}
				close(idle)
			}()
			select {
			case <-idle:
				d.release()
			case <-time.After(ShutdownWait):
				// The state is only ever replaced whole, so leaving now
				// loses at most what a tick had not yet saved.
				logger.Warn("a tick in flight did not end; exiting without it", "waited", ShutdownWait)
			}
			logger.Info("stopped")
			return nil
		case <-hup:
			d.reload()
		case <-watchdog:
			d.keepAlive()
		}
	}
}

// release gives up the leases held, so standbys take over at once.
func (d *Daemon) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, r := range d.runners {
		r.app.Release(ctx)
	}
}

// reload applies a new configuration to each application, between its
// ticks; on error the previous configuration stays.
func (d *Daemon) reload() {
	logger := d.opts.Logger
	if d.opts.Reload == nil {
		return
	}
	cfgs, err := d.opts.Reload()
	if err == nil {
		for _, r := range d.runners {
			if _, ok := cfgs[r.app.Name()]; !ok {
				err = errors.New("the applications changed (" + r.app.Name() + " is gone): adding or removing applications needs a restart")
			}
		}
	}
	if err != nil {
		logger.Error("reload failed; keeping the previous configuration", "error", err.Error())
		return
	}
	for _, r := range d.runners {
		r.mu.Lock()
		r.app.Configure(cfgs[r.app.Name()])
		r.mu.Unlock()
	}
	if d.opts.Reloaded != nil {
		d.opts.Reloaded()
	}
	logger.Info("configuration reloaded (schedule and application changes need a restart)")
}

// keepAlive feeds the watchdog unless one application's tick is wedged.
func (d *Daemon) keepAlive() bool {
	for _, r := range d.runners {
		if !r.alive() {
			return false
		}
	}
	d.opts.Notify("WATCHDOG=1")
	return true
}

// runner runs one application's ticks one at a time, logs the ticks it
// skips, and tells the watchdog whether ticks make progress.
type runner struct {
	app    *App
	ctx    context.Context
	logger *slog.Logger
	now    func() time.Time
	slots  chan struct{}
	// mu serialises ticks and reloads.
	mu sync.Mutex

	state   sync.Mutex // guards the fields below
	busy    bool
	started time.Time
	skipped int
	wedged  bool
}

// run is the scheduled job: a tick, unless the previous one still runs.
func (r *runner) run() {
	if r.begin() {
		r.execute()
	}
}

// begin claims the next tick; when one is still running it logs the skip,
// with the count of ticks skipped so far, and returns false.
func (r *runner) begin() bool {
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

// execute runs the tick claimed by begin, once a slot is free.
func (r *runner) execute() {
	defer func() {
		r.state.Lock()
		r.busy = false
		r.state.Unlock()
	}()
	if r.slots != nil {
		select {
		case r.slots <- struct{}{}:
			defer func() { <-r.slots }()
		case <-r.ctx.Done():
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	start := r.now()
	err := r.app.Tick(r.ctx)
	r.tickEnded(r.now().Sub(start), err)
}

// tickEnded is where every tick ends, with how long it took and how.
func (r *runner) tickEnded(took time.Duration, err error) {
	var u *UndeliveredError
	switch {
	case err == nil:
		r.logger.Debug("tick done", "took", took)
	case errors.As(err, &u) && u.Waiting == 0:
		// Dead letters were logged when they died; once is enough.
		r.logger.Debug("tick done", "took", took, "dead_letters", u.Dead)
	default:
		r.logger.Warn("tick finished with a problem", "took", took, "error", err.Error())
	}
}

// alive reports whether the application's loop makes progress: false
// once a tick has been running longer than both its deadlines and the
// grace (something ignores its deadline), which it logs once.
func (r *runner) alive() bool {
	r.state.Lock()
	running := time.Duration(0)
	if r.busy {
		running = r.now().Sub(r.started)
	}
	wedged := running > r.app.MaxTick()
	warn := wedged && !r.wedged
	r.wedged = wedged
	r.state.Unlock()
	if warn {
		r.logger.Error("a tick has been running past its deadlines; no longer feeding the systemd watchdog, so that systemd restarts seqwatch",
			"running_for", running.Round(time.Second), "limit", r.app.MaxTick())
	}
	return !wedged
}
