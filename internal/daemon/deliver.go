package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/seqwatch/seqwatch/internal/event"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// deliverer is an application's delivery stage: it sends what the outbox
// holds through the channels (the dispatcher), records each outcome in the
// state, and re-posts the open problems to the channels that want them at
// every tick (resenders). Each channel is served by its own goroutine,
// under the tick's delivery deadline, so that a channel whose endpoint
// hangs costs the others nothing. The state and its store are the App's:
// the deliverer reaches them through st and update, one goroutine at a
// time (mu), and asks lease whether it may still send.
type deliverer struct {
	dispatch *notify.Dispatcher
	routes   notify.Routes
	// channelHash is each channel's configuration hash, to tell whether a
	// channel disabled by its peer has been reconfigured since.
	channelHash map[string]string
	// resenders are the channels that re-post the open problems at each
	// tick (resendOpen), by channel name.
	resenders map[string]resender

	st     func() *state.State
	update func(fn func(*state.State) error) error
	lease  *lease
	now    func() time.Time
	logger *slog.Logger
	obs    Observer

	// mu is held by the channels' goroutines around everything they do
	// with the state, the lease and the observer: neither is safe for
	// concurrent use. It is never held while a channel sends.
	mu sync.Mutex
}

// configure applies a configuration's channels and routes (at start and
// on SIGHUP).
func (d *deliverer) configure(cfg Config, sleep func(ctx context.Context, d time.Duration) error) {
	d.resenders = resendersOf(cfg.Channels)
	d.routes = cfg.Routes
	d.dispatch = notify.NewDispatcher(cfg.Channels, notify.DispatcherOptions{Now: d.now, Sleep: sleep, Logger: d.logger, RatePerSecond: cfg.Rates})
	d.channelHash = cfg.ChannelHash
}

// dueSlack is how early a delivery counts as due. Cron fires a tick a
// moment after its time and the read before delivery takes its own: a
// backoff of a whole number of ticks must come due at the tick it was
// meant for, not one later.
const dueSlack = 500 * time.Millisecond

// deliver serves every channel with something due, and every resender,
// each in its own goroutine, until ctx ends: no new attempt starts after
// that (a SIGTERM, or the tick's delivery deadline), and what is unsent
// stays in the outbox. started is when the tick began: a failed round's
// backoff counts from it. It returns when every channel is done.
func (d *deliverer) deliver(ctx context.Context, started time.Time) {
	if d.st() == nil {
		return
	}
	d.enableAgain()
	channels := slices.Collect(maps.Keys(d.resenders))
	for _, b := range d.st().DueBatches(d.now().Add(dueSlack)) {
		if !slices.Contains(channels, b.Channel) {
			channels = append(channels, b.Channel)
		}
	}
	slices.Sort(channels)
	var wg sync.WaitGroup
	for _, ch := range channels {
		wg.Go(func() {
			if r, ok := d.resenders[ch]; ok {
				d.resendOpen(ctx, ch, r)
			}
			d.deliverChannel(ctx, ch, started)
		})
	}
	wg.Wait()
}

// deliverChannel is one round of channel: its due batches, one after the
// other, until one is not delivered: then the rest waits for the
// channel's next round (state.Record holds it), since its endpoint is
// down. A delivery makes the channel's waiting batches due (Record), and
// they go in this round. It stops when ctx ends or the lease says so.
func (d *deliverer) deliverChannel(ctx context.Context, channel string, started time.Time) {
	// Each batch sent leaves the due ones (delivered, dead or waiting),
	// so this bounds the loop.
	limit := 1
	d.mu.Lock()
	for _, dl := range d.st().Outbox {
		if dl.Channel == channel {
			limit++
		}
	}
	d.mu.Unlock()
	for range limit {
		b, ok, why := d.nextBatch(channel)
		if !ok {
			return
		}
		if why != "" {
			d.logger.Warn("not sending: "+why+"; the rest waits for the next tick", "channel", channel)
			return
		}
		if ctx.Err() != nil {
			d.logger.Info("delivery stopped; the rest stays in the outbox", "channel", channel, "why", context.Cause(ctx).Error())
			return
		}
		switch d.send(ctx, b, started) {
		case state.Delivered, state.Dead:
			// The endpoint answers (a refusal of one message says
			// nothing of the next): the channel's next batch goes.
		default:
			return
		}
	}
}

// nextBatch is the channel's first due batch; why, when not empty, says
// why this instance may not send it (the lease).
func (d *deliverer) nextBatch(channel string) (b state.Batch, ok bool, why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, b := range d.st().DueBatches(d.now().Add(dueSlack)) {
		if b.Channel == channel {
			// The new leader sends what is left.
			_, why := d.lease.leads()
			return b, true, why
		}
	}
	return state.Batch{}, false, ""
}

// enableAgain lifts the marks of the channels disabled by a 410 that were
// enabled again since (seqwatch outbox enable, or a changed
// configuration), and says so.
func (d *deliverer) enableAgain() {
	var again []string
	for ch, dis := range d.st().Disabled {
		if dis.Config != d.channelHash[ch] || !dis.EnabledAt.IsZero() {
			again = append(again, ch)
		}
	}
	if len(again) == 0 {
		return
	}
	slices.Sort(again)
	why := map[string]string{}
	err := d.save(func(st *state.State) error {
		for _, ch := range again {
			if dis, _, cleared := st.IsDisabled(ch, d.channelHash[ch]); cleared {
				why[ch] = enabledBy(dis)
			}
		}
		return nil
	})
	if err != nil {
		d.logger.Error("cannot save the state; the channels enabled again stay disabled for now", "channels", again, "error", err.Error())
		return
	}
	for _, ch := range again {
		if w, ok := why[ch]; ok {
			d.logger.Info("channel enabled again: "+w, "channel", ch)
		}
	}
}

// enabledBy says how a disabled channel was enabled again.
func enabledBy(dis state.DisabledChannel) string {
	if !dis.EnabledAt.IsZero() {
		return "seqwatch outbox enable asked to send to it again (at " + dis.EnabledAt.UTC().Format(time.RFC3339) + ")"
	}
	return "its configuration changed since its endpoint answered 410 Gone"
}

// save applies fn to the state and saves it (App.update), one channel at a
// time.
func (d *deliverer) save(fn func(*state.State) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.update(fn)
}

// send delivers one batch and records the result: delivered, dead (a
// dead letter), waiting (in the outbox), or "" when the state could not
// be saved before or after.
func (d *deliverer) send(ctx context.Context, b state.Batch, started time.Time) string {
	ch, ids := b.Channel, b.EventIDs()
	var dis state.DisabledChannel
	var disabled, cleared bool
	err := d.save(func(st *state.State) error {
		dis, disabled, cleared = st.IsDisabled(ch, d.channelHash[ch])
		if !disabled {
			// Attempted together from now on, so a digest keeps its id.
			st.Freeze(ch, ids)
			return nil
		}
		at := d.now()
		reason := fmt.Sprintf("not sent: channel %q is disabled since %s, when its endpoint asked to stop sending for good (410 Gone); change the channel's configuration, or run seqwatch outbox enable %s once the endpoint is back, to enable it again",
			ch, dis.Since.Format(time.RFC3339), ch)
		for _, id := range ids {
			st.Failed(id, ch, reason, at, true)
		}
		return nil
	})
	if err != nil {
		d.logger.Error("cannot save state before sending; not sending", "channel", ch, "error", err.Error())
		return ""
	}
	if cleared {
		d.logger.Info("channel enabled again: "+enabledBy(dis), "channel", ch)
	}
	if disabled {
		d.logger.Error("channel is disabled; the alerts go to the dead letters", "channel", ch, "events", len(ids), "disabled_since", dis.Since)
		d.delivered(ch, ids, state.Dead)
		return state.Dead
	}
	events := make([]notify.Event, len(b.Deliveries))
	for i, dl := range b.Deliveries {
		events[i] = dl.Event
	}
	// A channel held by its peer's Retry-After is the dispatcher's to
	// honour: it waits for a short hold and returns RetryAt otherwise.
	out := d.dispatch.Send(ctx, ch, events)
	at := d.now()
	o := d.outcome(ch, out)
	o.Started = started
	err = d.save(func(st *state.State) error {
		st.Record(ch, b, o, at)
		return nil
	})
	// Each event's own result: a pager may take some events of a batch
	// and refuse one.
	byResult := map[string][]string{}
	for i, id := range ids {
		r, _ := o.Result(i, id)
		byResult[r] = append(byResult[r], id)
	}
	sent, dead, waiting := byResult[state.Delivered], byResult[state.Dead], byResult[state.Waiting]
	if len(sent) > 0 {
		d.logger.Info("delivered", "channel", ch, "events", len(sent), "attempts", out.Attempts)
		d.delivered(ch, sent, state.Delivered)
	}
	switch {
	case len(dead) == 0:
	case o.Disabled:
		d.logger.Error("the channel's endpoint answered 410 Gone: the channel is disabled, and its alerts go to the dead letters, until its configuration changes or seqwatch outbox enable "+ch+" (once the endpoint is back at the same address)",
			"channel", ch, "events", len(dead), "error", errText(out.Err))
	case len(o.Refused) > 0:
		for _, id := range dead {
			d.logger.Error("channel refused the alert for good; it is kept in the state's dead letters", "channel", ch, "id", id, "error", o.Refused[id])
		}
	default:
		d.logger.Error("channel refused the alert for good; it is kept in the state's dead letters", "channel", ch, "events", len(dead), "error", errText(out.Err))
	}
	d.delivered(ch, dead, state.Dead)
	if len(waiting) > 0 {
		d.logger.Warn("alert not delivered; kept in the outbox", "channel", ch, "events", len(waiting), "attempts", out.Attempts, "error", errText(out.Err))
		d.delivered(ch, waiting, state.Waiting)
	}
	result := state.Delivered
	switch {
	case len(waiting) > 0:
		result = state.Waiting
	case len(dead) > 0:
		result = state.Dead
	}
	if err != nil {
		// What the store did not take may still be due in memory: the
		// channel sends nothing more this tick, so nothing goes twice.
		d.logger.Error("cannot save state after delivery", "channel", ch, "error", err.Error())
		return ""
	}
	return result
}

// outcome is the dispatcher's outcome as the state records it.
func (d *deliverer) outcome(channel string, out notify.Outcome) state.Outcome {
	var refused map[string]string
	for id, err := range out.Refused {
		if refused == nil {
			refused = map[string]string{}
		}
		refused[id] = errText(err)
	}
	return state.Outcome{
		Took:      out.Took,
		Refused:   refused,
		Delivered: out.Delivered,
		Permanent: out.Permanent,
		Disabled:  out.Permanent && errors.Is(out.Err, notify.ErrDisabled),
		Config:    d.channelHash[channel],
		Err:       errText(out.Err),
		Attempts:  out.Attempts,
		Sent:      out.Sent,
		RetryAt:   out.RetryAt,
	}
}

// delivered is where each delivery attempt ends, with its channel, event
// ids and result: delivered, waiting (in the outbox) or dead.
func (d *deliverer) delivered(channel string, ids []string, result string) {
	d.mu.Lock()
	d.obs.Delivered(d.st(), channel, ids, result)
	d.mu.Unlock()
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

// incidentKeeper is a channel that keeps an incident open per problem
// until it is told the problem closed (PagerDuty, Opsgenie). Of the
// channels, only these are told of a problem.closed: a close that people
// were never told about, but that would leave a pager's incident open
// for good.
type incidentKeeper interface {
	KeepsIncidents() bool
}

// channelsFor are the channels an event goes to: those its kind is
// routed to; for a problem.closed, those of the channels its problem's
// kind (event.ProblemKind of its key) is routed to that keep incidents.
func (c Config) channelsFor(ev notify.Event) []string {
	if ev.Kind != notify.ProblemClosed {
		return c.Routes.Channels(ev.Kind)
	}
	var out []string
	for _, ch := range c.Routes.Channels(event.ProblemKind(ev.Key)) {
		if k, ok := c.Channels[ch].(incidentKeeper); ok && k.KeepsIncidents() {
			out = append(out, ch)
		}
	}
	return out
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

// resendOpen gives the resender of channel name the open problems routed
// to it: their opening events, straight from the state. It makes no event
// and no outbox entry, so the other channels see nothing of it. Only
// problems already told through the channel are posted again; the others
// are passed as untold (still open, not to post): those whose event a mute
// holds (not to be told yet), is still in the outbox (it goes first, with
// its trace, through the outbox's retries) or was refused for good (a dead
// letter: the refusal is not repeated at every tick). A problem told
// before a mute began is still resent: Alertmanager would otherwise
// resolve it, and notify again when the mute ends. A failure is logged;
// the next tick resends anyway.
func (d *deliverer) resendOpen(ctx context.Context, name string, r resender) {
	open, skip := d.openFor(name)
	if err := r.Resend(ctx, open, skip); err != nil {
		d.logger.Warn("cannot post the open problems again; tried again next tick", "channel", name, "open", len(open), "error", errText(err))
	}
}

// openFor is what resendOpen posts through channel name: the open
// problems routed to it, and the keys of those not to post.
func (d *deliverer) openFor(name string) (open []notify.Event, skip map[string]bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.st()
	held := map[string]bool{} // problem keys; a reminder's were told before it
	for _, h := range st.Held {
		if h.Kind == notify.Reminder {
			continue
		}
		held[h.Key] = true
		for _, it := range h.Items {
			held[it.Key] = true
		}
	}
	// Event ids, a digest's items included; a reminder's items were told
	// before it.
	untold := map[string]bool{}
	for _, dl := range slices.Concat(st.Outbox, st.Dead) {
		if dl.Channel == name && dl.Event.Kind != notify.Reminder {
			untold[dl.Event.ID] = true
			for _, it := range dl.Event.Items {
				untold[it.ID] = true
			}
		}
	}
	skip = map[string]bool{}
	problems := slices.SortedFunc(maps.Values(st.Open), func(a, b state.OpenProblem) int { return cmp.Compare(a.Key, b.Key) })
	for _, p := range problems {
		if !slices.Contains(d.routes.Channels(p.Kind), name) {
			continue
		}
		open = append(open, p.Event)
		if held[p.Key] || untold[p.Event.ID] {
			skip[p.Key] = true
		}
	}
	return open, skip
}
