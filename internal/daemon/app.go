package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// Store is what an application's worker needs of its state store:
// state.FileStore, or a shared store such as internal/pgstate's.
type Store interface {
	Load() (*state.State, error)
	// Update applies a change under the state's write lock, picking up
	// what `seqwatch outbox` changed meanwhile (state.FileStore.Update).
	// A store that cannot save applies fn to cur all the same and
	// returns an error: what was detected stays in memory.
	Update(ctx context.Context, cur *state.State, fn func(*state.State) error) (*state.State, error)
}

// Leaser is a Store shared by several seqwatch instances, of which one at
// a time may send. Acquire takes or renews this instance's lease and says
// how long it has left; Update refuses to save for an instance that lost
// it (the fence), and starts from the stored state when another instance
// changed it since this one last saved.
type Leaser interface {
	Acquire(ctx context.Context, ttl time.Duration) (leader bool, holder string, remaining time.Duration, err error)
	Release(ctx context.Context) error
}

// Observer is told about each tick, for metrics, the status page and the
// heartbeat. Its methods are called from the tick's goroutine.
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
	// Channels are the notifiers by name; Rates their rate limits.
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
	Store  Store
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
const DefaultTickTimeout = 30 * time.Second

// App is the worker of one application: it reads snapshots, turns them
// into events against its state, and delivers them through the outbox.
type App struct {
	src        laravel.Source
	thresholds check.Thresholds
	policy     alerting.Policy
	routes     notify.Routes
	dispatch   *notify.Dispatcher
	store      Store
	leaser     Leaser
	st         *state.State
	logger     *slog.Logger
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	schedule   cron.Schedule
	// tickTimeout bounds the read of the application, and separately the
	// delivery, of each tick.
	tickTimeout time.Duration
	// reconcile is how often a tick reads everything again instead of
	// what changed since the state's read mark (0: check's default, 1h).
	reconcile time.Duration
	// channelHash is each channel's configHash, to tell whether a channel
	// disabled by its peer has been reconfigured since.
	channelHash map[string]string
	// cfgPath names the configuration in messages that suggest commands.
	cfgPath string
	// read takes a snapshot; the default opens src (keeping the
	// connection between ticks).
	read func(ctx context.Context) (*check.Snapshot, error)
	db   *reader.DB
	// obs is told about each tick (never nil: a no-op when not given).
	obs Observer
	// windows are the configuration's maintenance windows.
	windows func(now time.Time) []state.Mute
	// resenders are the channels that re-post the open problems at each
	// tick (resendOpen), by channel name.
	resenders map[string]resender
	// leader is whether this instance held the lease at its last tick
	// (always true without a Leaser); stateDown counts the ticks since
	// the state store last saved.
	leader      bool
	stateDown   int
	leaseTTLCfg time.Duration
	closeAfter  bool
	// leaseUntil is when the lease ends unless renewed, by this clock.
	leaseUntil time.Time
	// toldStandby is set while standing by, once that was logged.
	toldStandby bool
	advise      func(error) error
}

// NewApp makes the worker of one application and loads its state.
func NewApp(cfg Config, deps Deps) (*App, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	d := &App{src: cfg.Source, store: deps.Store, logger: deps.Logger, now: deps.Now, sleep: deps.Sleep, read: deps.Read, obs: deps.Observer, advise: deps.Advise, leader: true}
	if d.obs == nil {
		d.obs = nopObserver{}
	}
	d.leaser, _ = deps.Store.(Leaser)
	d.schedule = cfg.Schedule
	d.Configure(cfg)
	if d.leaser == nil {
		st, err := d.store.Load()
		if err != nil {
			return nil, err
		}
		d.st = st
	} else {
		// Loaded when this instance becomes the leader.
		d.leader = false
	}
	return d, nil
}

// Configure applies the parts of the configuration that SIGHUP may change.
func (d *App) Configure(cfg Config) {
	d.resenders = resendersOf(cfg.Channels)
	d.thresholds, d.policy = cfg.Thresholds, cfg.Policy
	d.routes = cfg.Routes
	d.dispatch = notify.NewDispatcher(cfg.Channels, notify.DispatcherOptions{Now: d.now, Sleep: d.sleep, Logger: d.logger, RatePerSecond: cfg.Rates})
	d.channelHash = cfg.ChannelHash
	d.reconcile = cfg.Reconcile
	d.tickTimeout = cfg.TickTimeout
	d.windows = cfg.Windows
	d.cfgPath = cfg.ConfigPath
	d.leaseTTLCfg = cfg.LeaseTTL
	d.closeAfter = cfg.CloseAfterTick
}

// Where names the application's database, for logs.
func (d *App) Where() string { return d.src.Conn.Where() }

// Source is where the application is read from.
func (d *App) Source() laravel.Source { return d.src }

// Name is the application's name.
func (d *App) Name() string { return d.src.Name }

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
	if d.read != nil {
		return d.read(ctx)
	}
	if d.db == nil {
		db, err := reader.Open(ctx, d.src.Conn)
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
	snap, next, err := reader.ReadSince(ctx, d.db, d.src, d.now(), mark, reader.IncrementalOptions{ReconcileEvery: d.reconcile, Watch: watch, Logger: d.logger})
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

// tick is one round: read (within tickTimeout), evaluate, record the new
// events as due (saved before anything is sent), then deliver what is due
// (within tickTimeout again), saving after each message. A crash at any
// point therefore loses nothing and repeats at most the one message in
// flight. A read that does not finish by its deadline is a failed read,
// counted towards source.unreachable.
//
// The error is nil only when the read succeeded and nothing is left in the
// outbox or the dead letters; *UndeliveredError says what is left.
// ErrNotLeader is what a Leaser's store returns (wrapped) from Update for
// an instance that no longer holds the lease: nothing was saved, and the
// instance must not send.
var ErrNotLeader = errors.New("this seqwatch no longer holds the lease")

// DefaultLeaseTTL is how long a lease lasts without renewal unless told:
// three ticks of the default schedule.
const DefaultLeaseTTL = 3 * time.Minute

// Tick is one round for this application. With a shared store it first
// takes or renews the lease: a standby does nothing else, and an instance
// that just became the leader loads the state its predecessor left.
func (d *App) Tick(ctx context.Context) error {
	if d.leaser != nil {
		lead, err := d.lead(ctx)
		if err != nil {
			// Shown as a failed read: on the page, in the read error
			// metrics, and to the heartbeat, which fails.
			d.obs.TickStarted(d.MaxTick())
			d.obs.ReadEnded(d.now(), check.Problems{}, fmt.Errorf("the state database: %w", err), nil)
			d.obs.TickEnded(d.st, d.channelHash)
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
	asked := d.now()
	leader, holder, remaining, err := d.leaser.Acquire(lctx, d.leaseTTL())
	if err != nil {
		d.stateDown++
		d.logger.Error("cannot reach the state database to take or renew the lease; not reading or sending until it answers",
			"error", err.Error(), "consecutive_failures", d.stateDown, "leader", d.leader)
		d.leader = false
		return false, err
	}
	// Counted from before the request: errs on the safe side by the
	// round trip.
	d.leaseUntil = asked.Add(remaining)
	switch {
	case leader && !d.leader:
		// A shared store's Update starts from what another leader
		// saved, so the state is loaded only the first time: what this
		// instance found while the store was unreachable stays.
		if d.st == nil {
			st, err := d.store.Load()
			if err != nil {
				return false, err
			}
			d.st = st
		}
		d.leader = true
		d.logger.Info("this seqwatch leads now: it reads the application and sends its alerts", "outbox", len(d.st.Outbox))
	case !leader && d.leader:
		d.leader = false
		d.logger.Warn("another seqwatch holds the lease now; standing by", "holder", holder)
	case !leader && !d.toldStandby:
		// Once at Info, so that a standby's run --once (exit 0: the
		// leader is on it) says why it read nothing.
		d.logger.Info("standing by: another seqwatch leads for this application", "holder", holder)
	case !leader:
		d.logger.Debug("standing by", "holder", holder)
	}
	d.toldStandby = !leader
	return leader, nil
}

// leaseTTL is how long a lease lasts without renewal: LeaseTTL, else
// three of the schedule's intervals, at least a minute.
func (d *App) leaseTTL() time.Duration {
	if d.leaseTTLCfg > 0 {
		return d.leaseTTLCfg
	}
	if d.schedule == nil {
		return DefaultLeaseTTL
	}
	return max(3*Interval(d.schedule), time.Minute)
}

// Release gives the lease up (on shutdown) so that a standby takes over
// at its next tick instead of after the lease expires.
func (d *App) Release(ctx context.Context) {
	if d.leaser == nil || !d.leader {
		return
	}
	if err := d.leaser.Release(ctx); err != nil {
		d.logger.Warn("cannot release the lease; a standby takes over once it expires", "error", err.Error())
	}
	d.leader = false
}

func (d *App) tick(ctx context.Context) error {
	d.obs.TickStarted(d.MaxTick())
	defer func() { d.obs.TickEnded(d.st, d.channelHash) }()
	if d.closeAfter {
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
		} else if d.advise != nil {
			err = d.advise(err)
		}
	}
	// The snapshot is judged once: the status page, the metrics and the
	// alerts all work from these problems.
	var problems check.Problems
	if err == nil {
		problems = check.Assess(snap, d.thresholds)
	}
	d.obs.ReadEnded(now, problems, err, readCtx.Err())
	var events []notify.Event
	var notes []string
	var ended, active []state.Mute
	var gated state.Gated
	first := false
	uerr := d.update(func(st *state.State) error {
		if err != nil {
			d.logger.Warn("cannot read the application", "error", err.Error(), "consecutive_failures", st.Source.Failures+1)
			events = alerting.SourceFailed(st, err, now, d.thresholds, d.src.Name)
		} else {
			first = !st.Initialized
			var evaluated []notify.Event
			evaluated, notes = alerting.Evaluate(st, problems, now, d.policy)
			events = append(alerting.SourceOK(st, now, d.src.Name), evaluated...)
		}
		// Mutes made by seqwatch mute since the last write are in st by
		// now (Update took them from the file).
		ended = st.ExpireMutes(now)
		active = append(st.ActiveMutes(now), d.windowsAt(now)...)
		gated = st.Gate(events, active)
		for _, ev := range gated.Send {
			st.Enqueue(ev, d.routes.Channels(ev.Kind), now)
		}
		return nil
	})
	if uerr != nil {
		if !errors.Is(uerr, ErrNotLeader) {
			d.stateDown++
			d.logger.Error("cannot save the state: what this tick found is kept in memory and nothing is sent until it saves again",
				"error", uerr.Error(), "consecutive_failures", d.stateDown, "outbox", len(d.st.Outbox))
		}
		return uerr
	}
	if snap != nil && err == nil {
		for _, n := range notes {
			d.logger.Info("closed without an alert", "why", n)
		}
		if first {
			mode := d.policy.FirstRun
			if mode == "" {
				mode = alerting.FirstRunDigest
			}
			d.logger.Info("first check done: the application's history is recorded", "on_first_run", mode, "failing", snap.Counts.Failing, "pending", snap.Counts.PendingOperations)
		}
		d.logger.Debug("snapshot", "failing", snap.Counts.Failing, "pending", snap.Counts.PendingOperations, "in_progress", snap.Counts.InProgress)
	}
	d.logMutes(events, ended, active, gated)
	deliverCtx, cancel := context.WithTimeout(ctx, d.timeout())
	d.resendOpen(deliverCtx)
	d.deliver(deliverCtx)
	cancel()
	if err != nil {
		return err
	}
	if len(d.st.Outbox) > 0 || len(d.st.Dead) > 0 {
		return &UndeliveredError{Waiting: len(d.st.Outbox), Dead: len(d.st.Dead), ConfigPath: d.cfgPath}
	}
	return nil
}

// logMutes logs and shows what a tick decided: the events sent (released
// from a mute or new), held back by a mute, or not sent at all, and the
// mutes that ended or are in force.
func (d *App) logMutes(events []notify.Event, ended, active []state.Mute, g state.Gated) {
	for _, m := range ended {
		d.logger.Info("mute ended", "id", m.ID, "reason", m.Reason, "by", m.By)
	}
	for _, ev := range g.Send {
		args := []any{"kind", string(ev.Kind), "key", ev.Key, "id", ev.ID, "channels", d.routes.Channels(ev.Kind)}
		if slices.ContainsFunc(g.Released, func(r notify.Event) bool { return r.ID == ev.ID }) {
			args = append(args, "held_by_mute", true)
		}
		d.logger.Info("event", args...)
		d.obs.Event(ev, d.routes.Channels(ev.Kind))
	}
	for _, ev := range g.Held {
		d.logger.Info("event muted: recorded, sent when no mute covers it if its problem is still open", "kind", string(ev.Kind), "key", ev.Key, "id", ev.ID)
		d.obs.MutedEvent(ev)
	}
	muted := len(g.Held)
	for _, ev := range g.Dropped {
		if slices.ContainsFunc(events, func(e notify.Event) bool { return e.ID == ev.ID }) {
			muted++
		}
		d.logger.Info("event not sent: muted, and its problem is closed (or a reminder due while muted)", "kind", string(ev.Kind), "key", ev.Key, "id", ev.ID)
		d.obs.MutedEvent(ev)
	}
	d.obs.Mutes(active, muted)
}

// timeout is the tick deadline (tick_timeout).
func (d *App) timeout() time.Duration {
	if d.tickTimeout <= 0 {
		return DefaultTickTimeout
	}
	return d.tickTimeout
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
	st, err := d.store.Update(ctx, d.st, fn)
	d.st = st
	switch {
	case err == nil:
		if d.stateDown > 0 {
			d.logger.Info("the state store saves again", "after_failures", d.stateDown)
		}
		d.stateDown = 0
	case errors.Is(err, ErrNotLeader):
		if d.leader {
			d.logger.Warn("lost the lease: another seqwatch leads now; not sending", "error", err.Error())
		}
		d.leader = false
	}
	return err
}

// deliver sends every due batch, one message each, until ctx ends: no new
// attempt starts after that (a SIGTERM, or the tick's delivery deadline),
// and what is unsent stays in the outbox. Channels whose deliveries failed
// most often go last, so a channel that is down cannot use up every tick's
// deadline before the healthy ones get their turn.
func (d *App) deliver(ctx context.Context) {
	batches := d.st.DueBatches(d.now())
	worst := map[string]int{}
	for _, b := range batches {
		for _, dl := range b.Deliveries {
			worst[b.Channel] = max(worst[b.Channel], dl.Attempts)
		}
	}
	slices.SortStableFunc(batches, func(a, b state.Batch) int { return cmp.Compare(worst[a.Channel], worst[b.Channel]) })
	for _, b := range batches {
		if !d.leader {
			return // fenced off: the new leader sends what is left
		}
		if d.leaser != nil && !d.now().Before(d.leaseUntil) {
			// The lease may have passed to a standby meanwhile: what is
			// left waits for the next tick's renewal.
			d.logger.Warn("the lease ran out during delivery; the rest waits for the next tick", "batches_left", len(batches))
			return
		}
		if ctx.Err() != nil {
			d.logger.Info("delivery stopped; the rest stays in the outbox", "why", context.Cause(ctx).Error())
			return
		}
		d.send(ctx, b)
	}
}

// send delivers one batch and records the result.
func (d *App) send(ctx context.Context, b state.Batch) {
	ch, ids := b.Channel, b.EventIDs()
	var dis state.DisabledChannel
	var disabled, cleared bool
	err := d.update(func(st *state.State) error {
		dis, disabled, cleared = st.IsDisabled(ch, d.channelHash[ch])
		if !disabled {
			// Attempted together from now on, so a digest keeps its id.
			st.Freeze(ch, ids)
			return nil
		}
		at := d.now()
		reason := fmt.Sprintf("not sent: channel %q is disabled since %s, when its endpoint asked to stop sending for good (410 Gone); change the channel's configuration to enable it again",
			ch, dis.Since.Format(time.RFC3339))
		for _, id := range ids {
			st.Failed(id, ch, reason, at, true)
		}
		return nil
	})
	if err != nil {
		d.logger.Error("cannot save state before sending; not sending", "channel", ch, "error", err.Error())
		return
	}
	if cleared {
		d.logger.Info("channel enabled again: its configuration changed since its endpoint answered 410 Gone", "channel", ch)
	}
	if disabled {
		d.logger.Error("channel is disabled; the alerts go to the dead letters", "channel", ch, "events", len(ids), "disabled_since", dis.Since)
		d.delivered(ch, ids, "dead")
		return
	}
	events := make([]notify.Event, len(b.Deliveries))
	for i, dl := range b.Deliveries {
		events[i] = dl.Event
	}
	// A channel held by its peer's Retry-After is the dispatcher's to
	// honour: it waits for a short hold and returns RetryAt otherwise.
	out := d.dispatch.Send(ctx, ch, events)
	at := d.now()
	err = d.update(func(st *state.State) error {
		switch {
		case out.Delivered:
			for _, id := range ids {
				st.Delivered(id, ch, at)
			}
		case out.Permanent:
			if errors.Is(out.Err, notify.ErrDisabled) {
				st.Disable(ch, d.channelHash[ch], errText(out.Err), at)
			}
			for _, id := range ids {
				st.Failed(id, ch, errText(out.Err), at, true)
			}
		default:
			for i, dl := range b.Deliveries {
				switch {
				case i < out.Sent:
					st.Delivered(dl.Event.ID, ch, at)
				case out.Attempts == 0:
					// No request was made (a Retry-After hold, or
					// shutting down): not a failed attempt.
					st.Postpone(dl.Event.ID, ch, out.RetryAt)
				default:
					next := at.Add(state.Backoff(dl.Attempts + 1))
					if out.RetryAt.After(next) {
						next = out.RetryAt
					}
					st.Failed(dl.Event.ID, ch, errText(out.Err), next, false)
				}
			}
		}
		return nil
	})
	switch {
	case out.Delivered:
		d.logger.Info("delivered", "channel", ch, "events", len(ids), "attempts", out.Attempts)
		d.delivered(ch, ids, "delivered")
	case out.Permanent:
		d.logger.Error("channel refused the alert for good; it is kept in the state's dead letters", "channel", ch, "events", len(ids), "error", errText(out.Err))
		d.delivered(ch, ids, "dead")
	default:
		d.logger.Warn("alert not delivered; kept in the outbox", "channel", ch, "events", len(ids)-out.Sent, "attempts", out.Attempts, "error", errText(out.Err))
		d.delivered(ch, ids[:out.Sent], "delivered")
		d.delivered(ch, ids[out.Sent:], "waiting")
	}
	if err != nil {
		d.logger.Error("cannot save state after delivery", "error", err.Error())
	}
}

// delivered is where each delivery attempt ends, with its channel, event
// ids and result: delivered, waiting (in the outbox) or dead.
func (d *App) delivered(channel string, ids []string, result string) {
	d.obs.Delivered(d.st, channel, ids, result)
	for _, id := range ids {
		d.logger.Debug("delivery", "channel", channel, "id", id, "result", result)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// resender is a channel that must be told the open problems at every tick,
// not only when they open and close: Alertmanager resolves an alert that
// is not posted again before its endsAt (notify/alertmanager).
type resender interface {
	Resend(ctx context.Context, open []notify.Event, untold map[string]bool) error
}

// resendersOf picks the channels that are resenders.
func resendersOf(channels map[string]notify.Notifier) map[string]resender {
	out := map[string]resender{}
	for name, n := range channels {
		if r, ok := n.(resender); ok {
			out[name] = r
		}
	}
	return out
}

// resendOpen gives each resender the open problems routed to it: their
// opening events, straight from the state. It makes no event and no outbox
// entry, so the other channels see nothing of it. Only problems already
// told through the channel are posted again; the others are passed as
// untold (still open, not to post): those whose event a mute holds (not
// to be told yet), is still in the outbox (it goes first, with its trace,
// through the outbox's retries) or was refused for good (a dead letter:
// the refusal is not repeated at every tick). A problem told before a
// mute began is still resent: Alertmanager would otherwise resolve it, and
// notify again when the mute ends. A failure is logged; the next tick
// resends anyway.
func (d *App) resendOpen(ctx context.Context) {
	if len(d.resenders) == 0 || d.st == nil {
		return
	}
	held := map[string]bool{} // problem keys; a reminder's were told before it
	for _, h := range d.st.Held {
		if h.Kind == notify.Reminder {
			continue
		}
		held[h.Key] = true
		for _, it := range h.Items {
			held[it.Key] = true
		}
	}
	problems := slices.SortedFunc(maps.Values(d.st.Open), func(a, b state.Problem) int { return cmp.Compare(a.Key, b.Key) })
	for _, name := range slices.Sorted(maps.Keys(d.resenders)) {
		// Event ids, a digest's items included; a reminder's items were
		// told before it.
		untold := map[string]bool{}
		for _, dl := range slices.Concat(d.st.Outbox, d.st.Dead) {
			if dl.Channel == name && dl.Event.Kind != notify.Reminder {
				untold[dl.Event.ID] = true
				for _, it := range dl.Event.Items {
					untold[it.ID] = true
				}
			}
		}
		var open []notify.Event
		skip := map[string]bool{}
		for _, p := range problems {
			if !slices.Contains(d.routes.Channels(p.Kind), name) {
				continue
			}
			open = append(open, p.Event)
			if held[p.Key] || untold[p.Event.ID] {
				skip[p.Key] = true
			}
		}
		if err := d.resenders[name].Resend(ctx, open, skip); err != nil {
			d.logger.Warn("cannot post the open problems again; tried again next tick", "channel", name, "open", len(open), "error", errText(err))
		}
	}
}

// windowsAt are the maintenance windows in force at now.
func (d *App) windowsAt(now time.Time) []state.Mute {
	if d.windows == nil {
		return nil
	}
	return d.windows(now)
}
