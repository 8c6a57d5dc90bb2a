package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/schedule"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// Observer is told about each tick, for metrics, the status page and the
// heartbeat. Its methods are called one at a time: from the tick's
// goroutine, and Delivered from the channels' goroutines while the tick
// waits for them.
type Observer interface {
	TickStarted(maxTick time.Duration)
	// ReadEnded is told what the read was judged to hold (nothing when
	// err is set).
	ReadEnded(started time.Time, problems check.Problems, err, readCtxErr error)
	Event(ev notify.Event, channels []string)
	MutedEvent(ev notify.Event)
	Mutes(active []state.Mute, muted int)
	Delivered(st *state.State, channel string, ids []string, result string)
	TickEnded(st *state.State, channelHash map[string]string)
}

// Config is one application's settings, as cmd/seqwatch builds them from
// seqwatch.yaml. Configure applies a new one (SIGHUP); Source and
// Schedule changes need a restart.
type Config struct {
	Source laravel.Source
	// Thresholds say what a problem is; Policy how to tell about them.
	Thresholds check.Thresholds
	Policy     alerting.Policy
	Routes     notify.Routes
	// Channels are the notifiers by name; Rates their rate limits
	// (messages a second).
	Channels map[string]notify.Notifier
	Rates    map[string]float64
	// ChannelHash is each channel's configuration hash, to tell whether a
	// channel disabled by its peer has been reconfigured since.
	ChannelHash map[string]string
	// TickTimeout bounds the read, and separately the delivery, of each
	// tick (0: DefaultTickTimeout).
	TickTimeout time.Duration
	// Reconcile is how often a tick reads everything again (0: check's
	// default, 1h).
	Reconcile time.Duration
	// Windows returns the maintenance windows in force at a time, as
	// mutes (nil: none).
	Windows func(now time.Time) []state.Mute
	// Schedule is when ticks run (nil: every minute).
	Schedule cron.Schedule
	// CloseAfterTick closes the application's database connection at the
	// end of each tick instead of keeping it for the next: with many
	// applications, idle connections would otherwise add up.
	CloseAfterTick bool
	// LeaseTTL is how long a shared store's lease lasts without renewal
	// (0: three of the schedule's intervals, at least a minute).
	LeaseTTL time.Duration
	// ConfigPath names the configuration in messages that suggest
	// commands.
	ConfigPath string
}

// Deps are what a worker takes from outside.
type Deps struct {
	Store  state.Store
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
	// Observer may be nil.
	Observer Observer
	// Read replaces the database read (tests); nil reads Config.Source.
	Read func(ctx context.Context) (*check.Snapshot, error)
	// Advise adds what to do to a failed read's error, for the log, the
	// source.unreachable alert and the page (nil: the error as it is).
	Advise func(error) error
}

// stateLockWait bounds the wait for the state's write lock, which
// `seqwatch outbox` holds only for a moment.
const stateLockWait = 10 * time.Second

// tickGrace is what a tick may take beyond its two deadlines (the read's
// and the delivery's) before the watchdog counts it as wedged: a request in
// flight finishing (notify.DefaultAttemptGrace) and the state saves.
const tickGrace = 30 * time.Second

// DefaultTickTimeout is the tick deadline when none is configured.
const DefaultTickTimeout = schedule.DefaultTickTimeout

// App is the worker of one application: it reads snapshots, judges them,
// turns them into events against its state, and hands them to its
// delivery stage (deliverer) through the outbox. With a shared store, its
// lease says whether it may.
type App struct {
	// cfg is the configuration in force: Configure replaces all of it
	// but Source and Schedule, which need a restart.
	cfg Config
	// deps are the worker's dependencies, with their defaults.
	deps   Deps
	logger *slog.Logger
	now    func() time.Time
	st     *state.State
	// db is the application's connection, kept between ticks unless
	// CloseAfterTick (nil when Deps.Read replaces the read).
	db    *reader.DB
	lease *lease // nil: the store is the instance's own
	out   *deliverer
	// stateDown counts the ticks since the state store last saved.
	stateDown int
	// unreadable are the unreadable values of the last read (nil before
	// the first), so that each is logged once, when first met.
	unreadable map[check.Unreadable]bool
	// warnings are the last read's warnings (a discovery directory that
	// does not exist, ...), logged when they change.
	warnings string
}

// NewApp makes the worker of one application and loads its state.
func NewApp(cfg Config, deps Deps) (*App, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Observer == nil {
		deps.Observer = nopObserver{}
	}
	d := &App{cfg: cfg, deps: deps, logger: deps.Logger, now: deps.Now}
	d.lease = newLease(deps.Store, deps.Logger, deps.Now)
	d.out = &deliverer{
		st:     func() *state.State { return d.st },
		update: d.update,
		lease:  d.lease,
		now:    deps.Now,
		logger: deps.Logger,
		obs:    deps.Observer,
	}
	d.Configure(cfg)
	if d.lease == nil {
		st, err := deps.Store.Load()
		if err != nil {
			return nil, err
		}
		d.st = st
	}
	// With a shared store, the state is loaded when this instance
	// becomes the leader.
	return d, nil
}

// Configure applies the parts of the configuration that SIGHUP may change.
func (d *App) Configure(cfg Config) {
	cfg.Source, cfg.Schedule = d.cfg.Source, d.cfg.Schedule
	d.cfg = cfg
	d.out.configure(cfg, d.deps.Sleep)
}

// Where names the application's database, for logs.
func (d *App) Where() string { return d.cfg.Source.Conn.Where() }

// Source is where the application is read from.
func (d *App) Source() laravel.Source { return d.cfg.Source }

// Name is the application's name.
func (d *App) Name() string { return d.cfg.Source.Name }

// State is the state as of the last tick (nil before a standby first
// leads).
func (d *App) State() *state.State { return d.st }

// nopObserver is the Observer of a worker given none.
type nopObserver struct{}

func (nopObserver) TickStarted(time.Duration)                         {}
func (nopObserver) ReadEnded(time.Time, check.Problems, error, error) {}
func (nopObserver) Event(notify.Event, []string)                      {}
func (nopObserver) MutedEvent(notify.Event)                           {}
func (nopObserver) Mutes([]state.Mute, int)                           {}
func (nopObserver) Delivered(*state.State, string, []string, string)  {}
func (nopObserver) TickEnded(*state.State, map[string]string)         {}

// snapshot reads the application, reconnecting after a failure.
func (d *App) snapshot(ctx context.Context) (*check.Snapshot, error) {
	if d.deps.Read != nil {
		return d.deps.Read(ctx)
	}
	if d.db == nil {
		db, err := reader.Open(ctx, d.cfg.Source.Conn)
		if err != nil {
			return nil, err
		}
		d.db = db
	}
	// The newest completed run is read only for the operations of open
	// problems: that is all recoveries need, whatever the table holds.
	var watch []string
	if d.st != nil {
		for _, p := range d.st.Open {
			if p.Event.Operation != nil {
				watch = append(watch, p.Event.Operation.Name)
			}
		}
	}
	var mark *check.Mark
	if d.st != nil {
		mark = d.st.Read
	}
	start, before := d.now(), d.db.Stats()
	if d.unreadable == nil && mark != nil {
		// A restart does not log again what the last read already met.
		d.unreadable = map[check.Unreadable]bool{}
		for _, u := range mark.Unreadable {
			d.unreadable[u] = true
		}
	}
	snap, next, err := reader.ReadSince(ctx, d.db, d.cfg.Source, d.now(), mark, reader.IncrementalOptions{ReconcileEvery: d.cfg.Reconcile, Watch: watch,
		RolledBackLookback: d.cfg.Thresholds.RolledBackLookback(), Logger: d.logger, Reported: d.reported})
	cost := d.db.Stats().Sub(before)
	d.logger.Debug("read", "duration", d.now().Sub(start), "queries", cost.Queries, "rows", cost.Rows, "error", err != nil)
	if err == nil && d.st != nil {
		d.st.Read = next
	}
	if err != nil {
		var se *reader.SourceError
		if errors.As(err, &se) {
			d.db.Close()
			d.db = nil
		}
	}
	return snap, err
}

// reported says whether the state has seen a failed run (its alert was
// made, held or silenced on the first run): the read takes the errors of
// the runs it has not from the database, whole, not from the mark.
func (d *App) reported(f check.Failure) bool {
	if d.st == nil {
		return false
	}
	key := check.FailedKey(f.Name, f.ID)
	if _, ok := d.st.Open[key]; ok {
		return true
	}
	_, ok := d.st.Seen[key]
	return ok
}

func (d *App) Close() {
	if d.db != nil {
		d.db.Close()
		d.db = nil
	}
}

// disconnect closes the connection pool after the tick of an application
// that connects for each tick, and logs how many connections the pool
// still counts once Close has returned. Close closes the idle ones before
// it returns, but one still in use (rows left open, a query still
// running) only when it is given back, after the tick is reported done:
// that would be a leak, so it is a warning. The server may list a closed
// connection for a moment longer, until its backend has exited.
func (d *App) disconnect() {
	db := d.db
	if db == nil {
		return
	}
	d.Close()
	open := db.SQL.Stats().OpenConnections
	level := slog.LevelDebug
	if open > 0 {
		level = slog.LevelWarn
	}
	d.logger.Log(context.Background(), level, "disconnected from the application", "open_connections", open)
}

// Tick is one round for this application. With a shared store it first
// takes or renews the lease: a standby does nothing else, and an instance
// that just became the leader loads the state its predecessor left.
func (d *App) Tick(ctx context.Context) error {
	if d.lease != nil {
		lead, err := d.lead(ctx)
		if err != nil {
			// Shown as a failed read: on the page, in the read error
			// metrics, and to the heartbeat, which fails.
			d.deps.Observer.TickStarted(d.MaxTick())
			d.deps.Observer.ReadEnded(d.now(), check.Problems{}, fmt.Errorf("the state database: %w", err), nil)
			d.deps.Observer.TickEnded(d.st, d.cfg.ChannelHash)
			return err
		}
		if !lead {
			return nil
		}
	}
	return d.tick(ctx)
}

// lead takes or renews the lease and reports whether this instance leads.
func (d *App) lead(ctx context.Context) (bool, error) {
	lctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	var loadErr error
	was := d.lease.leader
	leader, err := d.lease.lead(lctx, d.leaseTTL(), func() error {
		// A shared store's Update starts from what another leader
		// saved, so the state is loaded only the first time: what this
		// instance found while the store was unreachable stays.
		if d.st == nil {
			st, err := d.deps.Store.Load()
			if err != nil {
				loadErr = err
				return err
			}
			d.st = st
		}
		d.logger.Info("this seqwatch leads now: it reads the application and sends its alerts", "outbox", len(d.st.Outbox))
		return nil
	})
	if err != nil && loadErr == nil {
		d.stateDown++
		d.logger.Error("cannot reach the state database to take or renew the lease; not reading or sending until it answers",
			"error", err.Error(), "consecutive_failures", d.stateDown, "leader", was)
	}
	return leader, err
}

// leaseTTL is how long a lease lasts without renewal: LeaseTTL, else
// three of the schedule's intervals, at least a minute.
func (d *App) leaseTTL() time.Duration {
	if d.cfg.LeaseTTL > 0 {
		return d.cfg.LeaseTTL
	}
	if d.cfg.Schedule == nil {
		return DefaultLeaseTTL
	}
	return max(3*schedule.Interval(d.cfg.Schedule), time.Minute)
}

// Release gives the lease up (on shutdown) so that a standby takes over
// at its next tick instead of after the lease expires.
func (d *App) Release(ctx context.Context) { d.lease.Release(ctx) }

// tick is one round: read (within tickTimeout), evaluate, record the new
// events as due (saved before anything is sent), then deliver what is due
// (within tickTimeout again), saving after each message. A crash at any
// point therefore loses nothing and repeats at most the one message in
// flight. A read that does not finish by its deadline is a failed read,
// counted towards source.unreachable.
//
// The error is nil only when the read succeeded and nothing is left in the
// outbox or the dead letters; *UndeliveredError says what is left.
func (d *App) tick(ctx context.Context) error {
	d.deps.Observer.TickStarted(d.MaxTick())
	defer func() { d.deps.Observer.TickEnded(d.st, d.cfg.ChannelHash) }()
	if d.cfg.CloseAfterTick {
		defer d.disconnect()
	}
	now := d.now()
	readCtx, cancel := context.WithTimeout(ctx, d.timeout())
	snap, err := d.snapshot(readCtx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: not a failed read
		}
		if errors.Is(readCtx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("the database did not answer within tick_timeout (%s): a lock on Sequencer's tables (a deploy's ALTER TABLE?) or an unresponsive server", d.timeout())
		} else if d.deps.Advise != nil {
			err = d.deps.Advise(err)
		}
	}
	// The snapshot is judged once: the status page, the metrics and the
	// alerts all work from these problems.
	var problems check.Problems
	if err == nil {
		problems = check.Assess(snap, d.cfg.Thresholds)
	}
	d.deps.Observer.ReadEnded(now, problems, err, readCtx.Err())
	var events []notify.Event
	var notes []string
	var ended, active []state.Mute
	var gated state.Gated
	first := false
	uerr := d.update(func(st *state.State) error {
		if err != nil {
			d.logger.Warn("cannot read the application", "error", err.Error(), "consecutive_failures", st.Source.Failures+1)
			events = alerting.SourceFailed(st, err, now, d.cfg.Thresholds, d.cfg.Source.Name)
		} else {
			first = !st.Initialized
			var evaluated []notify.Event
			evaluated, notes = alerting.Evaluate(st, problems, now, d.cfg.Policy)
			events = append(alerting.SourceOK(st, now, d.cfg.Source.Name), evaluated...)
		}
		// Mutes made by seqwatch mute since the last write are in st by
		// now (Update took them from the file).
		ended = st.ExpireMutes(now)
		active = append(st.ActiveMutes(now), d.windowsAt(now)...)
		gated = st.Gate(events, active)
		for _, ev := range gated.Send {
			st.Enqueue(ev, d.cfg.channelsFor(ev), now)
		}
		return nil
	})
	if uerr != nil {
		if !errors.Is(uerr, state.ErrNotLeader) {
			d.stateDown++
			d.logger.Error("cannot save the state: what this tick found is kept in memory and nothing is sent until it saves again",
				"error", uerr.Error(), "consecutive_failures", d.stateDown, "outbox", len(d.st.Outbox))
		}
		return uerr
	}
	if snap != nil && err == nil {
		for _, n := range notes {
			d.logger.Info("closed without a recovery alert (only pagers are told, by problem.closed)", "why", n)
		}
		if first {
			mode := d.cfg.Policy.FirstRun
			if mode == "" {
				mode = alerting.FirstRunDigest
			}
			d.logger.Info("first check done: the application's history is recorded", "on_first_run", mode, "failing", snap.Counts.Failing, "pending", snap.Counts.PendingOperations)
		}
		d.logger.Debug("snapshot", "failing", snap.Counts.Failing, "pending", snap.Counts.PendingOperations, "in_progress", snap.Counts.InProgress)
		d.logUnreadable(snap)
		d.logWarnings(snap)
	}
	d.logMutes(events, ended, active, gated)
	deliverCtx, cancel := context.WithTimeout(ctx, d.timeout())
	d.out.deliver(deliverCtx, now)
	cancel()
	if err != nil {
		return err
	}
	if len(d.st.Outbox) > 0 || len(d.st.Dead) > 0 {
		return &UndeliveredError{Waiting: len(d.st.Outbox), Dead: len(d.st.Dead), ConfigPath: d.cfg.ConfigPath}
	}
	return nil
}

// logUnreadable logs each value the read could not read (see
// check.Unreadable) once, when a read first meets it: the row is reported
// without it, and the log says which row, column and value.
func (d *App) logUnreadable(snap *check.Snapshot) {
	seen := make(map[check.Unreadable]bool, len(snap.Unreadable))
	for _, u := range snap.Unreadable {
		seen[u] = true
		if d.unreadable[u] {
			continue
		}
		attrs := []any{"table", u.Table, "id", u.ID, "column", u.Column, "value", u.Value, "unreadable_rows", snap.Counts.UnreadableRows}
		if u.OperationID != "" {
			attrs = append(attrs, "operation_id", u.OperationID)
		}
		d.logger.Warn("a time stamp cannot be read; the row is reported without it", attrs...)
	}
	d.unreadable = seen
}

// logWarnings logs the read's warnings when they differ from the last
// read's: a discovery directory that does not exist makes every figure
// from the files wrong, which the log says once, not every tick.
func (d *App) logWarnings(snap *check.Snapshot) {
	all := strings.Join(snap.Warnings, "\n")
	if all == d.warnings {
		return
	}
	d.warnings = all
	for _, w := range snap.Warnings {
		d.logger.Warn("the application's files", "warning", w)
	}
	if all == "" {
		d.logger.Info("the application's files: no warnings any more")
	}
}

// logMutes logs and shows what a tick decided: the events sent (released
// from a mute or new), held back by a mute, or not sent at all, and the
// mutes that ended or are in force.
func (d *App) logMutes(events []notify.Event, ended, active []state.Mute, g state.Gated) {
	for _, m := range ended {
		d.logger.Info("mute ended", "id", m.ID, "reason", m.Reason, "by", m.By)
	}
	for _, ev := range g.Send {
		args := []any{"kind", string(ev.Kind), "key", ev.Key, "id", ev.ID, "channels", d.cfg.channelsFor(ev)}
		if slices.ContainsFunc(g.Released, func(r notify.Event) bool { return r.ID == ev.ID }) {
			args = append(args, "held_by_mute", true)
		}
		d.logger.Info("event", args...)
		d.deps.Observer.Event(ev, d.cfg.channelsFor(ev))
	}
	for _, ev := range g.Held {
		d.logger.Info("event muted: recorded, sent when no mute covers it if its problem is still open", "kind", string(ev.Kind), "key", ev.Key, "id", ev.ID)
		d.deps.Observer.MutedEvent(ev)
	}
	muted := len(g.Held)
	for _, ev := range g.Dropped {
		if slices.ContainsFunc(events, func(e notify.Event) bool { return e.ID == ev.ID }) {
			muted++
		}
		d.logger.Info("event not sent: muted, and its problem is closed (or a reminder due while muted)", "kind", string(ev.Kind), "key", ev.Key, "id", ev.ID)
		d.deps.Observer.MutedEvent(ev)
	}
	d.deps.Observer.Mutes(active, muted)
}

// timeout is the tick deadline (tick_timeout).
func (d *App) timeout() time.Duration {
	if d.cfg.TickTimeout <= 0 {
		return DefaultTickTimeout
	}
	return d.cfg.TickTimeout
}

// MaxTick is how long a tick may run before the watchdog counts the
// daemon as wedged: past both deadlines and the grace.
func (d *App) MaxTick() time.Duration {
	return 2*d.timeout() + tickGrace
}

// UndeliveredError says that alerts are left after a tick: waiting in the
// outbox (retried later) or in the dead letters (given up on, until
// someone retries or drops them with seqwatch outbox).
type UndeliveredError struct {
	Waiting, Dead int
	// ConfigPath is the configuration whose outbox holds them.
	ConfigPath string
}

func (e *UndeliveredError) Error() string {
	var parts []string
	if e.Waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d alert(s) not delivered yet; they stay in the outbox and are retried later, with backoff", e.Waiting))
	}
	if e.Dead > 0 {
		parts = append(parts, fmt.Sprintf("%d alert(s) refused for good are in the dead letters", e.Dead))
	}
	return strings.Join(parts, "; ")
}

// update applies fn to the state under its write lock and saves it; see
// state.FileStore.Update. It is not bound to the tick's context: what was
// sent must be recorded even while shutting down.
func (d *App) update(fn func(*state.State) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), stateLockWait)
	defer cancel()
	st, err := d.deps.Store.Update(ctx, d.st, fn)
	d.st = st
	switch {
	case err == nil:
		if d.stateDown > 0 {
			d.logger.Info("the state store saves again", "after_failures", d.stateDown)
		}
		d.stateDown = 0
	case errors.Is(err, state.ErrNotLeader):
		d.lease.lost(err)
	}
	return err
}

// windowsAt are the maintenance windows in force at now.
func (d *App) windowsAt(now time.Time) []state.Mute {
	if d.cfg.Windows == nil {
		return nil
	}
	return d.cfg.Windows(now)
}
