package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/alertmanager"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/state"
)

// store is what the daemon needs of the state store.
type store interface {
	Load() (*state.State, error)
	// Update applies a change under the state's write lock, picking up
	// what `seqwatch outbox` changed meanwhile (state.FileStore.Update).
	Update(ctx context.Context, cur *state.State, fn func(*state.State) error) (*state.State, error)
}

// stateLockWait bounds the wait for the state's write lock, which
// `seqwatch outbox` holds only for a moment.
const stateLockWait = 10 * time.Second

// tickGrace is what a tick may take beyond its two deadlines (the read's
// and the delivery's) before the watchdog counts it as wedged: a request in
// flight finishing (notify.DefaultAttemptGrace) and the state saves.
const tickGrace = 30 * time.Second

// daemon is one configured watcher: it reads snapshots, turns them into
// events against its state, and delivers them through the outbox.
type daemon struct {
	src        check.Source
	thresholds check.Thresholds
	policy     alerting.Policy
	routes     notify.Routes
	dispatch   *notify.Dispatcher
	store      store
	st         *state.State
	logger     *slog.Logger
	now        func() time.Time
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
	db   *check.DB
	// obs is told about each tick, for metrics, the status page and the
	// heartbeat (nil: nothing to tell).
	obs *observer
	// windows are the configuration's maintenance windows.
	windows []window
	// resenders are the channels that re-post the open problems at each
	// tick (resendOpen), by channel name.
	resenders map[string]resender
}

// buildChannels builds the configured notifiers.
// threads, when not nil, keeps a Slack bot's message ids so recoveries
// update the original alert.
func buildChannels(cfg *Config, stdout io.Writer, client *http.Client, now func() time.Time, logger *slog.Logger, threads func(channel string) slack.ThreadStore) (map[string]notify.Notifier, map[string]float64, error) {
	out := map[string]notify.Notifier{}
	rates := map[string]float64{}
	deps := notify.Deps{Client: client, Now: now, Logger: logger, Stdout: stdout, Threads: threads, EndsAfter: endsAfterOf(cfg)}
	for _, ch := range cfg.Channels {
		var n notify.Notifier
		var err error
		if len(ch.given) == 0 {
			err = fmt.Errorf("no channel type given (%s)", channelTypes().Choices())
		} else {
			t := ch.given[0].typ
			deps.Name = ch.Name
			n, err = t.New(ch.given[0].cfg, deps)
			if t.RatePerSecond > 0 {
				rates[ch.Name] = t.RatePerSecond
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("channel %q: %s", ch.Name, text.Redact(err.Error(), cfg.secrets...))
		}
		if ch.RatePerSecond > 0 {
			rates[ch.Name] = ch.RatePerSecond
		}
		out[ch.Name] = n
	}
	return out, rates, nil
}

// policyFrom is how the daemon tells about problems, from the configuration
// (what a problem is comes from cfg.thresholds).
func policyFrom(cfg *Config) alerting.Policy {
	return alerting.Policy{
		RepeatAfter:   time.Duration(cfg.RepeatAfter),
		FirstRun:      cfg.OnFirstRun,
		SeenRetention: time.Duration(cfg.State.SeenRetention),
	}
}

func routesFrom(cfg *Config) notify.Routes {
	if len(cfg.Routes) > 0 {
		return cfg.Routes
	}
	names := make([]string, 0, len(cfg.Channels))
	for _, ch := range cfg.Channels {
		names = append(names, ch.Name)
	}
	return notify.DefaultRoutes(names)
}

// snapshot reads the application, reconnecting after a failure.
func (d *daemon) snapshot(ctx context.Context) (*check.Snapshot, error) {
	if d.read != nil {
		return d.read(ctx)
	}
	if d.db == nil {
		db, err := check.Open(ctx, d.src.Conn)
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
	snap, next, err := check.ReadSince(ctx, d.db, d.src, d.now(), mark, check.IncrementalOptions{ReconcileEvery: d.reconcile, Watch: watch, Logger: d.logger})
	cost := d.db.Stats().Sub(before)
	d.logger.Debug("read", "duration", d.now().Sub(start), "queries", cost.Queries, "rows", cost.Rows, "error", err != nil)
	if err == nil && d.st != nil {
		d.st.Read = next
	}
	if err != nil {
		var se *check.SourceError
		if errors.As(err, &se) {
			d.db.Close()
			d.db = nil
		}
	}
	return snap, err
}

func (d *daemon) close() {
	if d.db != nil {
		d.db.Close()
		d.db = nil
	}
}

// tick is one round: read (within tickTimeout), evaluate, record the new
// events as due (saved before anything is sent), then deliver what is due
// (within tickTimeout again), saving after each message. A crash at any
// point therefore loses nothing and repeats at most the one message in
// flight. A read that does not finish by its deadline is a failed read,
// counted towards source.unreachable.
//
// The error is nil only when the read succeeded and nothing is left in the
// outbox or the dead letters; *undeliveredError says what is left.
func (d *daemon) tick(ctx context.Context) error {
	d.obs.tickStarted(d.maxTick())
	defer func() { d.obs.tickEnded(d.st, d.channelHash) }()
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
		}
	}
	// The snapshot is judged once: the status page, the metrics and the
	// alerts all work from these problems.
	var problems check.Problems
	if err == nil {
		problems = check.Assess(snap, d.thresholds)
	}
	d.obs.readEnded(now, problems, err, readCtx.Err())
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
		active = append(st.ActiveMutes(now), windowsAt(d.windows, now)...)
		gated = st.Gate(events, active)
		for _, ev := range gated.Send {
			st.Enqueue(ev, d.routes.Channels(ev.Kind), now)
		}
		return nil
	})
	if uerr != nil {
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
		return &undeliveredError{waiting: len(d.st.Outbox), dead: len(d.st.Dead), cfgPath: d.cfgPath}
	}
	return nil
}

// logMutes logs and shows what a tick decided: the events sent (released
// from a mute or new), held back by a mute, or not sent at all, and the
// mutes that ended or are in force.
func (d *daemon) logMutes(events []notify.Event, ended, active []state.Mute, g state.Gated) {
	for _, m := range ended {
		d.logger.Info("mute ended", "id", m.ID, "reason", m.Reason, "by", m.By)
	}
	for _, ev := range g.Send {
		args := []any{"kind", string(ev.Kind), "key", ev.Key, "id", ev.ID, "channels", d.routes.Channels(ev.Kind)}
		if slices.ContainsFunc(g.Released, func(r notify.Event) bool { return r.ID == ev.ID }) {
			args = append(args, "held_by_mute", true)
		}
		d.logger.Info("event", args...)
		d.obs.event(ev, d.routes.Channels(ev.Kind))
	}
	for _, ev := range g.Held {
		d.logger.Info("event muted: recorded, sent when no mute covers it if its problem is still open", "kind", string(ev.Kind), "key", ev.Key, "id", ev.ID)
		d.obs.mutedEvent(ev)
	}
	muted := len(g.Held)
	for _, ev := range g.Dropped {
		if slices.ContainsFunc(events, func(e notify.Event) bool { return e.ID == ev.ID }) {
			muted++
		}
		d.logger.Info("event not sent: muted, and its problem is closed (or a reminder due while muted)", "kind", string(ev.Kind), "key", ev.Key, "id", ev.ID)
		d.obs.mutedEvent(ev)
	}
	d.obs.mutes(active, muted)
}

// timeout is the tick deadline (tick_timeout).
func (d *daemon) timeout() time.Duration {
	if d.tickTimeout <= 0 {
		return defaultTickTimeout
	}
	return d.tickTimeout
}

// maxTick is how long a tick may run before the watchdog counts the
// daemon as wedged: past both deadlines and the grace.
func (d *daemon) maxTick() time.Duration {
	return 2*d.timeout() + tickGrace
}

// undeliveredError says that alerts are left after a tick: waiting in the
// outbox (retried later) or in the dead letters (given up on, until
// someone retries or drops them with seqwatch outbox).
type undeliveredError struct {
	waiting, dead int
	cfgPath       string
}

func (e *undeliveredError) Error() string {
	cfg := e.cfgPath
	if cfg == "" {
		cfg = "FILE"
	}
	var parts []string
	if e.waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d alert(s) not delivered yet; they stay in the outbox and are retried later, with backoff (seqwatch outbox list --config %s shows why)", e.waiting, cfg))
	}
	if e.dead > 0 {
		parts = append(parts, fmt.Sprintf("%d alert(s) refused for good are in the dead letters: see them with seqwatch outbox list --config %s, then retry or drop them", e.dead, cfg))
	}
	return strings.Join(parts, "; ")
}

// update applies fn to the state under its write lock and saves it; see
// state.FileStore.Update. It is not bound to the tick's context: what was
// sent must be recorded even while shutting down.
func (d *daemon) update(fn func(*state.State) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), stateLockWait)
	defer cancel()
	st, err := d.store.Update(ctx, d.st, fn)
	d.st = st
	return err
}

// deliver sends every due batch, one message each, until ctx ends: no new
// attempt starts after that (a SIGTERM, or the tick's delivery deadline),
// and what is unsent stays in the outbox. Channels whose deliveries failed
// most often go last, so a channel that is down cannot use up every tick's
// deadline before the healthy ones get their turn.
func (d *daemon) deliver(ctx context.Context) {
	batches := d.st.DueBatches(d.now())
	worst := map[string]int{}
	for _, b := range batches {
		for _, dl := range b.Deliveries {
			worst[b.Channel] = max(worst[b.Channel], dl.Attempts)
		}
	}
	slices.SortStableFunc(batches, func(a, b state.Batch) int { return cmp.Compare(worst[a.Channel], worst[b.Channel]) })
	for _, b := range batches {
		if ctx.Err() != nil {
			d.logger.Info("delivery stopped; the rest stays in the outbox", "why", context.Cause(ctx).Error())
			return
		}
		d.send(ctx, b)
	}
}

// send delivers one batch and records the result.
func (d *daemon) send(ctx context.Context, b state.Batch) {
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
func (d *daemon) delivered(channel string, ids []string, result string) {
	d.obs.delivered(d.st, channel, ids, result)
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

// alertHTTPClient is the client the HTTP channels send with.
func alertHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		// A webhook that redirects is misconfigured; do not re-send the
		// body and headers somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
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
func (d *daemon) resendOpen(ctx context.Context) {
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

// endsAfterOf is how long Alertmanager keeps a problem firing after its
// last post when the channel does not say: four of the schedule's
// intervals, as Prometheus does with its evaluation interval, and at least
// alertmanager.DefaultEndsAfter.
func endsAfterOf(cfg *Config) time.Duration {
	sched, err := parseSchedule(scheduleOf(cfg))
	if err != nil {
		return alertmanager.DefaultEndsAfter
	}
	return max(4*scheduleInterval(sched), alertmanager.DefaultEndsAfter)
}
