package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"

	"github.com/seqwatch/seqwatch/internal/pause"
)

// Dispatcher defaults.
const (
	DefaultMaxAttempts    = 3
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = 30 * time.Second
	DefaultAttemptGrace   = 3 * time.Second
)

// ErrUnknownChannel is returned (wrapped) when Send names a channel the
// Dispatcher was not built with.
var ErrUnknownChannel = errors.New("unknown channel")

// ErrBackingOff is returned (wrapped) when a channel's peer asked for a
// wait (Retry-After) longer than the Dispatcher may sleep, so no request
// was made.
var ErrBackingOff = errors.New("channel is backing off at its peer's request")

// DispatcherOptions tunes a Dispatcher. The zero value gives the defaults.
type DispatcherOptions struct {
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
	// Sleep waits for d or until ctx ends; default a timer honouring ctx.
	// Tests inject one that advances their fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one line per failed attempt; default discards.
	Logger *slog.Logger
	// MaxAttempts is how many times one message is tried within one Send
	// call (default 3). The outbox retries later calls.
	MaxAttempts int
	// InitialBackoff and MaxBackoff bound the exponential backoff with
	// jitter between attempts (defaults 1s and 30s). A peer's Retry-After
	// longer than MaxBackoff ends the Send call with a RetryAt instead of
	// blocking the daemon.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// RatePerSecond limits the requests made to each named channel (e.g.
	// "slack": 1). Channels absent or with a rate <= 0 are not limited.
	RatePerSecond map[string]float64
	// MaxBatch is the most events put in one message; 0 (the default)
	// means no limit, since the notifiers render big digests themselves.
	MaxBatch int
	// AttemptGrace is how long a request already in flight may still run
	// after Send's ctx ends (default 3s). No new attempt starts once ctx
	// has ended, but a request the peer may already be acting on is let
	// finish, so an alert it accepted is recorded as sent rather than
	// sent again later.
	AttemptGrace time.Duration
}

// Outcome is the result of one Send call.
type Outcome struct {
	Channel   string
	Delivered bool
	// Permanent means trying again will not help (unknown channel, 4xx,
	// endpoint disabled): drop the events or alert the operator.
	Permanent bool
	// Err is the last error, nil when Delivered.
	Err error
	// RetryAt, when not zero, is the earliest time the channel may be tried
	// again (its peer asked for a wait, or the wait was cut short by ctx).
	RetryAt time.Time
	// Attempts counts the Notify calls made.
	Attempts int
	// Sent counts the events delivered by whole messages before the last
	// one; it is less than len(events) only when MaxBatch split them and
	// a later message failed.
	Sent int
	// Took and Refused say, when the last message was not delivered as a
	// whole, which of its events were (by id), and which the channel
	// refused for good, each with its own error: a channel that sends
	// each event on its own (a pager) may take some, refuse one and fail
	// on the next. Only Refused events are given up on; the others that
	// are neither wait for a retry (unless Permanent: an unknown channel).
	Took    map[string]bool
	Refused map[string]error
}

// eachNotifier is a channel that sends each event of a call on its own
// (a pager: one request per problem) and says what became of each
// (notify.Pager.NotifyEach): a retry then sends only the events not
// taken, and a refusal gives up on that event alone.
type eachNotifier interface {
	NotifyEach(ctx context.Context, events []Event) []Result
}

// notifyEach is one attempt to send events through n, with a result per
// event: n's own when it says, else the call's result for every event.
func notifyEach(ctx context.Context, n Notifier, events []Event) []Result {
	out := make([]Result, len(events))
	if e, ok := n.(eachNotifier); ok {
		res := e.NotifyEach(ctx, events)
		for i := range out {
			if i < len(res) {
				out[i] = res[i]
			} else {
				out[i] = Result{Err: fmt.Errorf("notify: the channel said nothing of event %s", events[i].ID), Retry: true}
			}
		}
		return out
	}
	retry, err := n.Notify(ctx, events)
	for i := range out {
		out[i] = Result{Err: err, Retry: retry}
	}
	return out
}

// settle records in o what became of each of events in one attempt and
// returns those worth trying again; o.Err becomes the first of their
// errors (nil when there are none).
func (o *Outcome) settle(events []Event, results []Result) []Event {
	var again []Event
	o.Err = nil
	for i, ev := range events {
		r := results[i]
		_, hasAfter := RetryAfter(r.Err)
		switch {
		case r.Err == nil:
			if o.Took == nil {
				o.Took = map[string]bool{}
			}
			o.Took[ev.ID] = true
		case !errors.Is(r.Err, ErrDisabled) && (r.Retry || hasAfter):
			again = append(again, ev)
			if o.Err == nil {
				o.Err = r.Err
			}
		default:
			if o.Refused == nil {
				o.Refused = map[string]error{}
			}
			o.Refused[ev.ID] = r.Err
		}
	}
	return again
}

// Dispatcher sends events to named channels with retries, backoff,
// per-channel rate limits and Retry-After handling. It is safe for
// concurrent use.
type Dispatcher struct {
	channels    map[string]Notifier
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	logger      *slog.Logger
	maxAttempts int
	initial     time.Duration
	maxBackoff  time.Duration
	maxBatch    int
	grace       time.Duration

	limiters map[string]*rate.Limiter

	mu        sync.Mutex
	notBefore map[string]time.Time
}

// NewDispatcher returns a Dispatcher over the given channels, keyed by the
// names routes use.
func NewDispatcher(channels map[string]Notifier, opts DispatcherOptions) *Dispatcher {
	d := &Dispatcher{
		channels:    maps.Clone(channels),
		now:         opts.Now,
		sleep:       opts.Sleep,
		logger:      opts.Logger,
		maxAttempts: opts.MaxAttempts,
		initial:     opts.InitialBackoff,
		maxBackoff:  opts.MaxBackoff,
		maxBatch:    opts.MaxBatch,
		grace:       opts.AttemptGrace,
		limiters:    make(map[string]*rate.Limiter),
		notBefore:   make(map[string]time.Time),
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.sleep == nil {
		d.sleep = sleepContext
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	if d.maxAttempts <= 0 {
		d.maxAttempts = DefaultMaxAttempts
	}
	if d.initial <= 0 {
		d.initial = DefaultInitialBackoff
	}
	if d.maxBackoff <= 0 {
		d.maxBackoff = DefaultMaxBackoff
	}
	if d.grace <= 0 {
		d.grace = DefaultAttemptGrace
	}
	if d.maxBackoff < d.initial {
		d.maxBackoff = d.initial
	}
	for name, r := range opts.RatePerSecond {
		if r > 0 {
			// Burst 1: a burst is exactly what chat APIs punish.
			d.limiters[name] = rate.NewLimiter(rate.Limit(r), 1)
		}
	}
	return d
}

// sleepContext is the default sleep of the Dispatcher and the Pacer: the
// one real sleep every stage shares (pause.For).
func sleepContext(ctx context.Context, d time.Duration) error { return pause.For(ctx, d) }

// Send delivers events to the named channel as one Notify call (one per
// MaxBatch events when that is set), retrying retryable failures with
// backoff up to MaxAttempts times per message. After a Retry-After no
// request goes to the channel before the time its peer named, in this or
// any later call. An empty events is Delivered without a call. Send does
// not return an error: the Outcome says what happened and what to do next.
func (d *Dispatcher) Send(ctx context.Context, channel string, events []Event) Outcome {
	n, ok := d.channels[channel]
	if !ok {
		return Outcome{
			Channel:   channel,
			Permanent: true,
			Err: fmt.Errorf("notify: %w %q (configured: %s)", ErrUnknownChannel, channel,
				strings.Join(slices.Sorted(maps.Keys(d.channels)), ", ")),
		}
	}
	total := Outcome{Channel: channel, Delivered: true}
	for _, batch := range d.batches(events) {
		o := d.sendOne(ctx, channel, n, batch)
		total.Attempts += o.Attempts
		if !o.Delivered {
			o.Attempts = total.Attempts
			o.Sent = total.Sent
			return o
		}
		total.Sent += len(batch)
	}
	return total
}

// batches splits events into messages of at most MaxBatch events.
func (d *Dispatcher) batches(events []Event) [][]Event {
	if len(events) == 0 {
		return nil
	}
	if d.maxBatch <= 0 || len(events) <= d.maxBatch {
		return [][]Event{events}
	}
	return slices.Collect(slices.Chunk(events, d.maxBatch))
}

// sendOne delivers one message, retrying as allowed.
func (d *Dispatcher) sendOne(ctx context.Context, channel string, n Notifier, events []Event) Outcome {
	out := Outcome{Channel: channel}
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     d.initial,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         d.maxBackoff,
	}
	bo.Reset()
	var wait time.Duration // backoff owed before the next attempt
	left := events         // the events not yet taken nor refused
	for attempt := 1; ; attempt++ {
		if !d.awaitTurn(ctx, channel, wait, &out) {
			return out
		}
		out.Attempts = attempt
		reqCtx, release := d.attemptContext(ctx)
		left = out.settle(left, notifyEach(reqCtx, n, left))
		release()
		if len(left) == 0 && len(out.Refused) == 0 {
			out.Delivered, out.Err, out.RetryAt = true, nil, time.Time{}
			out.Sent, out.Took = len(events), nil
			return out
		}
		if len(left) == 0 {
			// Nothing is worth trying again: what was refused is given
			// up on; the others were taken.
			out.Permanent = true
			for _, ev := range events {
				if err, ok := out.Refused[ev.ID]; ok && out.Err == nil {
					out.Err = err
				}
			}
			decision := "give up: not retryable"
			if errors.Is(out.Err, ErrDisabled) {
				decision = "give up: endpoint disabled"
			}
			d.logger.Warn("notification failed", "channel", channel, "attempt", attempt, "max_attempts", d.maxAttempts,
				"error", out.Err.Error(), "decision", decision, "refused", len(out.Refused), "taken", len(out.Took))
			return out
		}
		err := out.Err
		log := d.logger.With("channel", channel, "attempt", attempt,
			"max_attempts", d.maxAttempts, "error", err.Error())
		after, hasAfter := RetryAfter(err)
		if hasAfter {
			d.deferChannel(channel, d.now().Add(after))
		}
		if attempt >= d.maxAttempts {
			out.RetryAt = d.NotBefore(channel)
			log.Warn("notification failed", "decision", "give up: attempts exhausted")
			return out
		}
		wait = 0
		if !hasAfter {
			wait = min(bo.NextBackOff(), d.maxBackoff)
		}
		log.Warn("notification failed", "decision", "retry",
			"retry_in", max(wait, d.channelNotBefore(channel).Sub(d.now())))
	}
}

// attemptContext returns the context of one request: ctx's values, ended
// AttemptGrace after ctx ends (see DispatcherOptions.AttemptGrace). release
// must be called when the request is over.
func (d *Dispatcher) attemptContext(ctx context.Context) (_ context.Context, release func()) {
	rc, cancel := context.WithCancel(context.WithoutCancel(ctx))
	over := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(d.grace)
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-over:
			}
		case <-over:
		}
	}()
	return rc, func() { close(over); cancel() }
}

// awaitTurn waits out the backoff, the channel's not-before time and its
// rate limit. It returns false, with out filled in, when the Send call
// must stop instead: the wait is longer than MaxBackoff or ctx ended.
func (d *Dispatcher) awaitTurn(ctx context.Context, channel string, backoffWait time.Duration, out *Outcome) bool {
	now := d.now()
	until := now.Add(backoffWait)
	if nb := d.channelNotBefore(channel); nb.After(until) {
		until = nb
	}
	if wait := until.Sub(now); wait > 0 {
		if wait > d.maxBackoff {
			out.RetryAt = until
			if out.Err == nil {
				out.Err = fmt.Errorf("notify: channel %q: %w until %s", channel, ErrBackingOff,
					until.Format(time.RFC3339))
			}
			d.logger.Info("notification postponed", "channel", channel,
				"retry_at", until, "wait", wait)
			return false
		}
		if err := d.sleep(ctx, wait); err != nil {
			return d.stopWaiting(err, until, out)
		}
	}
	if err := ctx.Err(); err != nil {
		return d.stopWaiting(err, d.now(), out)
	}
	if lim := d.limiter(channel); lim != nil {
		now := d.now()
		r := lim.ReserveN(now, 1)
		if delay := r.DelayFrom(now); delay > 0 {
			if err := d.sleep(ctx, delay); err != nil {
				r.CancelAt(d.now())
				return d.stopWaiting(err, now.Add(delay), out)
			}
		}
	}
	return true
}

// stopWaiting records that ctx ended while waiting to send.
func (d *Dispatcher) stopWaiting(err error, retryAt time.Time, out *Outcome) bool {
	if out.Err == nil {
		out.Err = fmt.Errorf("notify: waiting to send: %w", err)
	}
	out.RetryAt = retryAt
	return false
}

// limiter needs no lock: limiters is never written after NewDispatcher.
func (d *Dispatcher) limiter(channel string) *rate.Limiter {
	return d.limiters[channel]
}

func (d *Dispatcher) channelNotBefore(channel string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.notBefore[channel]
}

// deferChannel records that the channel's peer asked for no request before
// t. A later, longer request wins; an earlier one never shortens it.
func (d *Dispatcher) deferChannel(channel string, t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.After(d.notBefore[channel]) {
		d.notBefore[channel] = t
	}
}

// NotBefore returns the time before which no request will go to channel
// (zero when it is not backing off), so a caller can skip it early.
func (d *Dispatcher) NotBefore(channel string) time.Time {
	t := d.channelNotBefore(channel)
	if !t.After(d.now()) {
		return time.Time{}
	}
	return t
}
