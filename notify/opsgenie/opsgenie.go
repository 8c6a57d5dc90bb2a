// Package opsgenie is seqwatch's Opsgenie channel: it creates one alert per
// problem through the Alert API (POST /v2/alerts) and closes it by alias
// when the problem recovers (POST /v2/alerts/{alias}/close?identifierType=alias).
//
// It holds the channel's configuration, validation, rendering and sender.
// Of seqwatch it imports only the notify core and internal/text (with the
// internal/event and internal/secret leaves beneath notify): it must not
// import check, state, another channel or any database driver.
//
// # Alerts
//
// Each problem is one alert, whose alias is the application's name and the
// problem's key, in letters, digits and . _ - : with a hash of the whole
// ("shop_operation.failed_2024_01_13_120000_Foo_42~1f2e…"): while an alert
// with that alias is open, Opsgenie counts a new create as a repeat
// instead of opening a second alert. A failure, a stuck run, a pending
// backlog, an exhausted deferred operation or an unreachable database
// creates the alert; its recovery (operation.recovered, operation.unstuck,
// pending.cleared, source.recovered) closes it by alias, with a note that
// says what happened, and so does a problem.closed, which the daemon sends
// here for a problem that closes without a recovery to tell (a deleted
// failed row, deferred operations processed or reset, a rolled-back run
// out of its window). An event kind this version does not know creates an
// alert, so that it pages rather than being dropped. The message (130
// characters) is the summary, the description (15,000) the details with
// the exception, its message and the first 20 trace frames (escaped, within 15,000, cut with a marker); priority is
// P2, or P3 for a stuck run and a pending backlog; entity is the
// application; tags are seqwatch, the event kind and the environment.
// Opsgenie renders HTML in the message and description, so text from the
// database is escaped there (and in the details, for consistency): it can
// neither format nor link. `seqwatch notify test` creates a P5 alert of
// its own and closes it.
//
// # One alert per problem
//
// Opsgenie never receives a digest as one alert: a first-run digest, a
// reminder or several events in one Notify call become one request per
// problem, each under that problem's alias, at one request a second. A
// reminder creates each open problem again, which Opsgenie counts on the
// open alert.
//
// # Retries
//
// 202 is success (Opsgenie processes requests after answering); 400 and
// 422 (a request Opsgenie will not take) are permanent for that problem;
// 429, 5xx and transport errors are retried (notify.HTTPSender). The
// Notifier says what became of each event of a call (NotifyEach): the
// outbox records the ones Opsgenie took as delivered, gives up on a
// refused one alone, with its own reason, and retries only the rest, so a
// call that fails part-way (some problems sent, then a 5xx) sends nothing
// again that Opsgenie took. A retry is harmless anyway: a create for an open alert's
// alias only raises its count, so a re-sent create, or one sent again
// after a restart or by another instance taking over, never opens a second
// alert. Within one process the Notifier also remembers what Opsgenie took
// and skips it on the retry, so that a create is never sent again after
// its own close (which would open a new alert).
package opsgenie

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// acceptedIDs is how many accepted requests a Notifier remembers.
const acceptedIDs = 10_000

var _ notify.Notifier = (*Notifier)(nil)

// Notifier sends events to one Opsgenie API integration. It is safe for
// concurrent use.
type Notifier struct {
	auth   string // "GenieKey <key>"
	base   string
	sender *notify.HTTPSender
	pager  *notify.Pager[request]
	// templates word the message and the description (nil: the
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
	key := cfg.APIKey.Reveal()
	n := &Notifier{
		auth: "GenieKey " + key,
		base: strings.TrimSuffix(cfg.APIURL, "/"),
		sender: &notify.HTTPSender{
			Channel: "opsgenie", Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger,
			Secrets: []string{key},
		},
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

// request is one Alert API request.
type request struct {
	what string // names it in errors: "create shop_operation…"
	id   string // remembers it once accepted ("" for an event without an id)
	url  string
	body any
}

// Names is how errors name r and the id it is remembered by.
func (r request) Names() (what, id string) { return r.what, r.id }

// requests are what one problem's event sends: a create, a close, or for
// a test both. A request is remembered under the outbox event that carried
// it, so that a reminder's create goes out again while a retried batch's
// does not.
func (n *Notifier) requests(p notify.ProblemEvent) []request {
	ev := p.Event
	a := alias(ev)
	t := n.content(ev)
	mk := func(action, u string, body any) request {
		r := request{what: action + " " + a, url: u, body: body}
		if p.Via != "" {
			r.id = p.Via + "\x00" + ev.ID + "\x00" + action + "\x00" + a
		}
		return r
	}
	createReq := mk("create", n.base+AlertsPath, create(a, ev, t))
	closeReq := mk("close", n.base+AlertsPath+"/"+url.PathEscape(a)+"/close?identifierType=alias", closing(ev, t))
	switch {
	case notify.Informational(ev.Kind):
		return []request{createReq, closeReq}
	case notify.Closes(ev.Kind):
		return []request{closeReq}
	default:
		return []request{createReq}
	}
}

// Notify sends one request per problem (see the package documentation).
// It stops at the first answer worth retrying (429, 5xx, a transport
// error), returning retry=true and the peer's Retry-After; a 400 or 422
// for one problem does not stop the others, and the call then reports
// every refusal with retry=false.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (retry bool, err error) {
	return n.pager.Notify(ctx, events)
}

// NotifyEach sends as Notify does and says what became of each event
// (notify.Pager.NotifyEach), so that the outbox records a delivered event
// as delivered and gives up on a refused one alone.
func (n *Notifier) NotifyEach(ctx context.Context, events []notify.Event) []notify.Result {
	return n.pager.NotifyEach(ctx, events)
}

// newRequest is the HTTP request for r.
func (n *Notifier) newRequest(ctx context.Context, r request) (*http.Request, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the text is escaped already, for Opsgenie's HTML
	if err := enc.Encode(r.body); err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, &b)
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", n.auth)
	req.Header.Set("User-Agent", "seqwatch-opsgenie")
	return req, nil
}

// content is the Text of a problem's event, as the templates word it (the
// title is the alert's message, the body its description and a close's
// note), if any.
func (n *Notifier) content(ev notify.Event) Text {
	t := content(ev)
	r := n.templates.Render([]notify.Event{ev}, t.Title, t.Body)
	return Text{Title: r.Title, Body: r.Body}
}

// KeepsIncidents reports that Opsgenie keeps an incident open per problem
// until it is resolved, so that the daemon sends it problem.closed for a
// problem that closes without a recovery to tell (a deleted failed row, a
// deferred operation processed, a rolled-back run out of its window).
func (n *Notifier) KeepsIncidents() bool { return true }

// Preview is every request Notify would make for events, one or two per
// problem (whether or not this process sent them already), without the
// API key.
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	return n.pager.Preview(events)
}
