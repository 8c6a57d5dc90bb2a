// Package pagerduty is seqwatch's PagerDuty channel: it opens one incident
// per problem through the Events API v2 (POST /v2/enqueue) and resolves it
// when the problem recovers.
//
// It holds the channel's configuration, validation, rendering and sender.
// Of seqwatch it imports only the notify core and internal/text (with the
// internal/event and internal/secret leaves beneath notify): it must not
// import check, state, another channel or any database driver.
//
// # Incidents
//
// Each problem is one alert, whose dedup_key is the application's name and
// the problem's key ("shop/operation.failed/2024_01_13_120000_Foo/42"), at
// most 255 characters: a longer key keeps its start and ends in a stable
// hash of the whole. A failure, a stuck run, a pending backlog, an
// exhausted deferred operation or an unreachable database sends a trigger;
// its recovery (operation.recovered, operation.unstuck, pending.cleared,
// source.recovered) sends a resolve under the same key, and so does a
// problem.closed, which the daemon sends here for a problem that closes
// without a recovery to tell (a deleted failed row, deferred operations
// processed or reset, a rolled-back run out of its window). An event kind this
// version does not know is sent as a trigger, so that it pages rather than
// being dropped. Severity is critical, or warning for a stuck run and a
// pending backlog; source is the application, component the operation,
// group the environment, class the event kind. The custom details carry
// the exception, its message (4 KiB at most), the first 20 trace frames and
// how many are left out, and the body of the message ("description").
// `seqwatch notify test` triggers an info alert of its own and resolves it.
//
// # One incident per problem
//
// PagerDuty never receives a digest as one incident: a first-run digest, a
// reminder or several events in one Notify call become one request per
// problem, each under that problem's key, paced within the Events API's
// rate (about 120 events a minute per routing key). A reminder re-triggers
// each open problem, which PagerDuty adds to the open alert's log.
//
// # Retries
//
// 202 is success; 400 (an event PagerDuty will not take) is permanent;
// 429, 5xx and transport errors are retried (notify.HTTPSender). The
// Notifier says what became of each event of a call (NotifyEach): the
// outbox records the ones PagerDuty took as delivered, gives up on a
// refused one alone, with its own reason, and retries only the rest, so a
// call that fails part-way (some problems sent, then a 5xx) sends nothing
// again that PagerDuty took. A retry is harmless anyway: a trigger for an open alert's
// dedup_key only adds to that alert, so a re-sent trigger, or one sent
// again after a restart or by another instance taking over, never opens a
// second incident. Within one process the Notifier also remembers what
// PagerDuty took and skips it on the retry, so that a trigger is never sent
// again after its own resolve (which would open a new incident). A problem
// PagerDuty refuses with a 400 does not stop the others in the same call;
// the call then fails for good, naming each refusal.
package pagerduty

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// acceptedIDs is how many accepted requests a Notifier remembers.
const acceptedIDs = 10_000

var _ notify.Notifier = (*Notifier)(nil)

// Notifier sends events to one PagerDuty integration. It is safe for
// concurrent use.
type Notifier struct {
	routingKey string
	endpoint   string
	sender     *notify.HTTPSender
	pager      *notify.Pager[request]
	logger     *slog.Logger
	// templates word the summary and the description (nil: the
	// channel's own words).
	templates *notify.Templates
}

// Option configures a Notifier.
type Option func(*options)

type options struct {
	sleep func(ctx context.Context, d time.Duration) error
}

// WithSleep sets how the Notifier waits between the requests of one call
// (default: a timer that honours ctx). Tests pass one that advances their
// clock.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// New validates cfg and returns its Notifier. client sends the requests
// (nil: a default client; cfg.Timeout bounds each request either way), now
// is the clock (nil: time.Now), logger receives capped Retry-After notes
// (nil: discarded).
func New(cfg Config, client *http.Client, now func() time.Time, logger *slog.Logger, opts ...Option) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	key := cfg.RoutingKey.Reveal()
	n := &Notifier{
		routingKey: key,
		endpoint:   endpoint(cfg.APIURL),
		sender: &notify.HTTPSender{
			Channel: "pagerduty", Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger,
			Secrets: []string{key},
		},
		logger: logger,
	}
	n.pager = &notify.Pager[request]{
		Sender:   n.sender,
		Pace:     notify.NewPacer(pacerRate, pacerBurst, now, o.sleep),
		Accepted: notify.NewAccepted(acceptedIDs),
		Requests: n.requests,
		Build:    n.newRequest,
	}
	return n, nil
}

// request is one event to enqueue.
type request struct {
	what string // names it in errors: "trigger shop/operation.failed/…"
	id   string // remembers it once accepted ("" for an event without an id)
	body enqueued
}

// Names is how errors name r and the id it is remembered by.
func (r request) Names() (what, id string) { return r.what, r.id }

// requests are what one problem's event sends: a trigger, a resolve, or
// for a test both.
// A request is remembered under the outbox event that carried it, so
// that a reminder's trigger (a new outbox event carrying the same problem)
// goes out again while a retried batch's does not.
func (n *Notifier) requests(p notify.ProblemEvent) []request {
	ev := p.Event
	key := dedupKey(ev)
	mk := func(e enqueued) request {
		r := request{what: e.EventAction + " " + key, body: e}
		if p.Via != "" {
			r.id = p.Via + "\x00" + ev.ID + "\x00" + e.EventAction + "\x00" + key
		}
		return r
	}
	switch {
	case notify.Informational(ev.Kind):
		return []request{mk(trigger(n.routingKey, key, ev, n.content(ev))), mk(resolve(n.routingKey, key))}
	case notify.Closes(ev.Kind):
		return []request{mk(resolve(n.routingKey, key))}
	default:
		return []request{mk(trigger(n.routingKey, key, ev, n.content(ev)))}
	}
}

// Notify sends one request per problem (see the package documentation).
// It stops at the first answer worth retrying (429, 5xx, a transport
// error), returning retry=true and the peer's Retry-After; a 400 for one
// problem does not stop the others, and the call then reports every
// refusal with retry=false.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (retry bool, err error) {
	return n.pager.Notify(ctx, events)
}

// NotifyEach sends as Notify does and says what became of each event
// (notify.Pager.NotifyEach), so that the outbox records a delivered event
// as delivered and gives up on a refused one alone.
func (n *Notifier) NotifyEach(ctx context.Context, events []notify.Event) []notify.Result {
	return n.pager.NotifyEach(ctx, events)
}

// newRequest is the HTTP request that enqueues r.
func (n *Notifier) newRequest(ctx context.Context, r request) (*http.Request, error) {
	body, err := encode(r.body, maxEventBytes)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "seqwatch-pagerduty")
	return req, nil
}

// content is the Text of a problem's event, as the templates word it (the
// title is the summary, the body the description), if any.
func (n *Notifier) content(ev notify.Event) Text {
	t := content(ev)
	r := n.templates.Render([]notify.Event{ev}, t.Summary, t.Body)
	return Text{Summary: r.Title, Body: r.Body}
}

// KeepsIncidents reports that PagerDuty keeps an incident open per problem
// until it is resolved, so that the daemon sends it problem.closed for a
// problem that closes without a recovery to tell (a deleted failed row, a
// deferred operation processed, a rolled-back run out of its window).
func (n *Notifier) KeepsIncidents() bool { return true }

// Preview is every request Notify would make for events, one or two per
// problem (whether or not this process sent them already), with the
// routing key redacted.
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	return n.pager.Preview(events)
}
