package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/seqwatch/seqwatch/internal/event"
)

// The shared parts of the channels that page (PagerDuty, Opsgenie): they
// open one incident per problem, so they never send a digest as one
// message. A Notify call becomes one request per problem, paced within the
// service's rate, and an outbox retry of a batch that partly went out does
// not send again what the service already took.

// ProblemEvent is one problem's event, and the ID of the event that
// carried it to the channel: itself, or the Digest or Reminder it is an
// item of (named apart from check.Problem, the judged problem, and
// state.OpenProblem, the one reported and open). A pager remembers what the service took under Via, so that a retried
// batch is not sent again while a later reminder of the same problem is.
type ProblemEvent struct {
	Event
	Via string
}

// ProblemEvents returns events as one event per problem, in order: a Digest or
// a Reminder stands for its Items (nested ones too), every other event for
// itself. Digest and Reminder events without items are left out: they
// speak of no problem.
func ProblemEvents(events []Event) []ProblemEvent {
	var out []ProblemEvent
	for _, top := range events {
		for _, ev := range flatten(top) {
			out = append(out, ProblemEvent{Event: ev, Via: top.ID})
		}
	}
	return out
}

func flatten(ev Event) []Event {
	if ev.Kind != Digest && ev.Kind != Reminder && len(ev.Items) == 0 {
		return []Event{ev}
	}
	var out []Event
	for _, it := range ev.Items {
		out = append(out, flatten(it)...)
	}
	return out
}

// Closes reports whether an event of kind k ends the problem its Key names
// (a recovery, or problem.closed), so that a pager resolves the incident
// it opened (event.Closes).
func Closes(k Kind) bool { return event.Closes(k) }

// Pacer spaces the requests of a channel that makes several in one Notify
// call, so that a first-run digest of a hundred problems does not exceed
// the service's rate: a token bucket of burst requests refilled at
// perSecond. The Dispatcher's RatePerSecond paces Notify calls; a Pacer
// paces the requests inside one. It is safe for concurrent use.
type Pacer struct {
	lim   *rate.Limiter
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewPacer returns a Pacer of perSecond requests a second with bursts of
// burst. now and sleep are the clock and the wait (nil: time.Now and a
// timer that honours ctx); tests pass a fake clock and a sleep that
// advances it.
func NewPacer(perSecond float64, burst int, now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) *Pacer {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepContext
	}
	return &Pacer{lim: rate.NewLimiter(rate.Limit(perSecond), max(burst, 1)), now: now, sleep: sleep}
}

// Wait returns when the next request may be sent, or ctx's error if ctx
// ends first (the request then keeps its turn for nobody).
func (p *Pacer) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := p.now()
	r := p.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			r.CancelAt(p.now())
			return err
		}
	}
	return nil
}

// Accepted remembers, in memory, which requests a service took, so that an
// outbox retry of a batch whose first problems went out before a 5xx does
// not send them again. Re-sending a trigger for an open incident is
// harmless to a pager, but a trigger re-sent after its own resolve opens a
// new incident: within one process this keeps that from happening. It
// holds at most a fixed number of ids, forgetting the oldest first, and is
// safe for concurrent use.
type Accepted struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
	limit int
}

// NewAccepted returns an Accepted that keeps at most limit ids.
func NewAccepted(limit int) *Accepted {
	return &Accepted{ids: map[string]struct{}{}, limit: max(limit, 1)}
}

// Has reports whether id was added and not yet forgotten. The empty id is
// never remembered.
func (a *Accepted) Has(id string) bool {
	if id == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.ids[id]
	return ok
}

// Add remembers id.
func (a *Accepted) Add(id string) {
	if id == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.ids[id]; ok {
		return
	}
	if len(a.order) >= a.limit {
		delete(a.ids, a.order[0])
		a.order = a.order[1:]
	}
	a.ids[id] = struct{}{}
	a.order = append(a.order, id)
}

// RefusesContent reports whether err is a peer's refusal of one request's
// content (400 Bad Request, 422 Unprocessable Entity), which says nothing
// about the channel: a pager's other problems in the same call may still
// go through. Any other permanent answer (401, 403, 404, a disabled
// endpoint) is about the channel and should end the call.
func RefusesContent(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Status == http.StatusBadRequest || se.Status == http.StatusUnprocessableEntity)
}

// Refusals is the error of a call in which the peer refused some of the
// tried requests for good: it counts them, names the first three on one
// line, and wraps the first (errors.As reaches its StatusError).
func Refusals(channel string, refused []error, tried int) error {
	if len(refused) == 0 {
		return nil
	}
	var rest []string
	for _, err := range refused[1:min(len(refused), 3)] {
		rest = append(rest, err.Error())
	}
	if more := len(refused) - 3; more > 0 {
		rest = append(rest, fmt.Sprintf("and %d more", more))
	}
	also := ""
	if len(rest) > 0 {
		also = "; " + strings.Join(rest, "; ")
	}
	return fmt.Errorf("%s: %d of %d requests refused: %w%s", channel, len(refused), tried, refused[0], also)
}

// PagerRequest is one request a pager makes for a problem.
type PagerRequest interface {
	// Names is how errors name the request ("trigger shop/…") and the id
	// it is remembered by once accepted ("" for one never remembered).
	Names() (what, id string)
}

// Pager sends a paging channel's requests, one or two per problem, by the
// shared rules: each is paced, one the service took already is not sent
// again, a refusal of one problem's content does not stop the others, and
// the first answer worth retrying stops the call. The channel says what
// it sends (Requests) and how (Build); errors name it by Sender.Channel.
type Pager[R PagerRequest] struct {
	Sender   *HTTPSender
	Pace     *Pacer
	Accepted *Accepted
	// Requests is a problem's requests, in the order they are sent.
	Requests func(ProblemEvent) []R
	// Build is the HTTP request for one of them.
	Build func(context.Context, R) (*http.Request, error)
}

// Notify sends the requests of every problem of events. It stops at the
// first answer worth retrying (429, 5xx, a transport error), returning
// retry=true; a refusal of one request (RefusesContent) does not stop the
// others, and the call then reports every refusal with retry=false.
func (p *Pager[R]) Notify(ctx context.Context, events []Event) (retry bool, err error) {
	var refused []error
	tried := 0
	for _, r := range p.notifyEach(ctx, events) {
		tried += r.tried
		refused = append(refused, r.refused...)
		if r.Err != nil && (r.Retry || !RefusesContent(r.Err)) {
			return r.Retry, r.Err
		}
	}
	return false, Refusals(p.Sender.Channel, refused, tried)
}

// Result is what became of one event of a NotifyEach call.
type Result struct {
	// Err is nil when the service took the event (all its requests).
	Err error
	// Retry: Err is worth retrying (429, 5xx, a transport error), or the
	// event was not tried because an earlier one met such an answer.
	Retry bool
}

// NotifyEach sends the requests of every problem of events, as Notify
// does, and says what became of each event: nil when the service took all
// its requests; its refusal (a 400 for one of a digest's problems does
// not stop the others) with Retry false; or, from the first answer worth
// retrying on, that answer with Retry true for it and every event after
// it, which are not tried. An answer about the channel rather than one
// request (401, 403, 404) is given to that event and every one after it,
// with Retry false. A retry of the events not taken never repeats what
// was (Accepted).
func (p *Pager[R]) NotifyEach(ctx context.Context, events []Event) []Result {
	out := make([]Result, len(events))
	for i, r := range p.notifyEach(ctx, events) {
		out[i] = r.Result
	}
	return out
}

// eventRun is what became of one event's requests.
type eventRun struct {
	Result
	refused []error
	tried   int
}

func (p *Pager[R]) notifyEach(ctx context.Context, events []Event) []eventRun {
	out := make([]eventRun, len(events))
	for i, ev := range events {
		r := p.sendEvent(ctx, ev)
		out[i] = r
		if r.Err != nil && (r.Retry || !RefusesContent(r.Err)) {
			// The service will take nothing more now: the rest waits,
			// or shares the channel's refusal.
			for j := i + 1; j < len(out); j++ {
				out[j].Result = r.Result
			}
			break
		}
	}
	return out
}

// sendEvent sends the requests of one event's problems that the service
// did not take before.
func (p *Pager[R]) sendEvent(ctx context.Context, ev Event) eventRun {
	var run eventRun
	for _, pr := range ProblemEvents([]Event{ev}) {
		for _, r := range p.Requests(pr) {
			_, id := r.Names()
			if p.Accepted.Has(id) {
				continue
			}
			run.tried++
			retry, err := p.send(ctx, r)
			switch {
			case err == nil:
				p.Accepted.Add(id)
			case retry || !RefusesContent(err):
				run.Result = Result{Err: err, Retry: retry}
				return run
			default:
				run.refused = append(run.refused, err)
			}
		}
	}
	if len(run.refused) > 0 {
		run.Err = Refusals(p.Sender.Channel, run.refused, run.tried)
	}
	return run
}

// send builds, paces and posts one request.
func (p *Pager[R]) send(ctx context.Context, r R) (bool, error) {
	what, _ := r.Names()
	req, err := p.Build(ctx, r)
	if err != nil {
		return false, fmt.Errorf("%s: %s: %w", p.Sender.Channel, what, err)
	}
	if err := p.Pace.Wait(ctx); err != nil {
		return true, fmt.Errorf("%s: %s: waiting for its turn: %w", p.Sender.Channel, what, err)
	}
	_, retry, err := p.Sender.Do(req, what, 0)
	return retry, err
}

// Preview is every request Notify would make for events (whether or not
// this process sent them already), with the sender's secrets redacted.
func (p *Pager[R]) Preview(events []Event) ([]Request, error) {
	var out []Request
	for _, pr := range ProblemEvents(events) {
		for _, r := range p.Requests(pr) {
			what, _ := r.Names()
			req, err := p.Build(context.Background(), r)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", p.Sender.Channel, what, err)
			}
			preview, err := PreviewHTTP(req, p.Sender.Secrets)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", p.Sender.Channel, what, err)
			}
			out = append(out, preview)
		}
	}
	return out, nil
}
