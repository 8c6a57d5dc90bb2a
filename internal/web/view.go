package web

import (
	"slices"
	"sync"
	"time"
)

// SchemaVersion is the version of the /api/v1/status document. Fields are
// added, never renamed or removed; a breaking change is a new version (and
// path).
const SchemaVersion = 1

// MaxEvents is how many recent events the page and the API show per
// application.
const MaxEvents = 50

// Status is the document behind the status page and /api/v1/status.
type Status struct {
	Version     int         `json:"version"`
	GeneratedAt time.Time   `json:"generated_at"`
	Apps        []AppStatus `json:"apps"`
}

// AppStatus is what the daemon saw of one application at its last tick.
type AppStatus struct {
	Name        string `json:"name"`
	Environment string `json:"environment,omitempty"`
	// Verdict is OK, WARNING, CRITICAL or UNKNOWN (before the first read,
	// and when the last read failed).
	Verdict string `json:"verdict"`
	Summary string `json:"summary"`
	// LastReadAt is when the last read ended, successful or not; zero
	// before the first.
	LastReadAt           time.Time `json:"last_read_at,omitzero"`
	LastSuccessfulReadAt time.Time `json:"last_successful_read_at,omitzero"`
	// ReadError is why the last read failed, empty when it succeeded.
	ReadError string `json:"read_error"`
	// Notices are lines worth reading that the lists below do not show:
	// a discovery directory that does not exist, deferred operations that
	// no one runs.
	Notices    []string  `json:"notices"`
	Failing    []Failure `json:"failing"`
	InProgress []Running `json:"in_progress"`
	// Scheduled are Scheduled operations waiting for their time; Stuck
	// is set past thresholds.scheduled_stuck_after.
	Scheduled         []Running      `json:"scheduled"`
	Pending           Pending        `json:"pending"`
	DeferredExhausted []Deferred     `json:"deferred_exhausted"`
	Events            []EventView    `json:"events"`
	Mutes             []Mute         `json:"mutes"`
	Channels          []ChannelState `json:"channels"`
}

// Failure is an operation whose newest run failed and has not completed
// since.
type Failure struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	FailedAt time.Time   `json:"failed_at,omitzero"`
	Errors   []ErrorView `json:"errors"`
}

// ErrorView is one recorded exception.
type ErrorView struct {
	Exception string    `json:"exception"`
	Message   string    `json:"message"`
	Trace     string    `json:"trace"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Running is an operation in progress.
type Running struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Type       string    `json:"type"`
	ExecutedAt time.Time `json:"executed_at,omitzero"`
	// RunningForSeconds is how long it had been running at the read.
	RunningForSeconds int64 `json:"running_for_seconds"`
	// Stuck is true past thresholds.stuck_after.
	Stuck bool `json:"stuck"`
}

// Pending is the pending-operations backlog against its threshold.
type Pending struct {
	Count int `json:"count"`
	// Threshold is thresholds.max_pending; 0 means no threshold.
	Threshold int      `json:"threshold"`
	Names     []string `json:"names"`
}

// Over reports whether the backlog is over its threshold.
func (p Pending) Over() bool { return p.Threshold > 0 && p.Count > p.Threshold }

// Deferred is a deferred operation that used up its attempts.
type Deferred struct {
	ID          string `json:"id"`
	Operation   string `json:"operation"`
	Attempts    int    `json:"attempts"`
	MaxAttempts int    `json:"max_attempts"`
	LastError   string `json:"last_error"`
}

// EventView is one event the daemon raised and what each channel did with
// it.
type EventView struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	Key        string          `json:"key"`
	Summary    string          `json:"summary"`
	OccurredAt time.Time       `json:"occurred_at,omitzero"`
	Channels   []ChannelResult `json:"channels"`
	// Muted is true while a mute holds the event back, and stays true for
	// an event a mute kept from being sent at all (its problem opened and
	// closed while muted).
	Muted bool `json:"muted,omitempty"`
}

// Channel results of an event.
const (
	ResultQueued    = "queued"
	ResultDelivered = "delivered"
	ResultRetrying  = "retrying"
	ResultDead      = "dead"
)

// ChannelResult is what one channel did with an event.
type ChannelResult struct {
	Channel   string `json:"channel"`
	Result    string `json:"result"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
}

// Mute is a mute in force: made by seqwatch mute or POST /api/v1/mutes
// (by cli or api, id mut_...), or a maintenance window of the
// configuration (by maintenance, id maintenance[N]). While it lasts,
// events are recorded and shown but not sent.
type Mute struct {
	ID     string    `json:"id"`
	Reason string    `json:"reason"`
	Start  time.Time `json:"start,omitzero"`
	Until  time.Time `json:"until"`
	// KeepUnreachable is true when source.unreachable still goes out.
	KeepUnreachable bool   `json:"keep_unreachable"`
	By              string `json:"by"`
}

// ChannelState is a channel's backlog.
type ChannelState struct {
	Name     string `json:"name"`
	Outbox   int    `json:"outbox"`
	Dead     int    `json:"dead"`
	Disabled bool   `json:"disabled"`
}

// normalized returns a copy whose lists are never null in JSON.
func (a AppStatus) normalized() AppStatus {
	if a.Verdict == "" {
		a.Verdict = "UNKNOWN"
	}
	a.Notices = nonNil(a.Notices)
	a.Failing = nonNil(a.Failing)
	for i := range a.Failing {
		a.Failing[i].Errors = nonNil(a.Failing[i].Errors)
	}
	a.InProgress = nonNil(a.InProgress)
	a.Scheduled = nonNil(a.Scheduled)
	a.Pending.Names = nonNil(a.Pending.Names)
	a.DeferredExhausted = nonNil(a.DeferredExhausted)
	a.Events = nonNil(a.Events)
	for i := range a.Events {
		a.Events[i].Channels = nonNil(a.Events[i].Channels)
	}
	a.Mutes = nonNil(a.Mutes)
	a.Channels = nonNil(a.Channels)
	return a
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// Board holds the latest AppStatus of each application, for the handlers
// to render. The daemon sets it after each tick. It is safe for concurrent
// use.
type Board struct {
	mu   sync.RWMutex
	apps []AppStatus
	now  func() time.Time
}

// NewBoard returns an empty board; now stamps the documents.
func NewBoard(now func() time.Time) *Board {
	if now == nil {
		now = time.Now
	}
	return &Board{now: now}
}

// Set replaces the status of the application a.Name (adding it if new).
func (b *Board) Set(a AppStatus) {
	a = a.normalized()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.apps {
		if b.apps[i].Name == a.Name {
			b.apps[i] = a
			return
		}
	}
	b.apps = append(b.apps, a)
}

// SetMutes replaces the mutes shown for the application app, so that a
// mute made through the listener shows at once, before the next tick.
func (b *Board) SetMutes(app string, mutes []Mute) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.apps {
		if b.apps[i].Name == app {
			b.apps[i].Mutes = nonNil(mutes)
			return
		}
	}
}

// Status returns the current document.
func (b *Board) Status() Status {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return Status{Version: SchemaVersion, GeneratedAt: b.now(), Apps: slices.Clone(nonNil(b.apps))}
}

// EventLog keeps the most recent events of one application (at most
// MaxEvents) and what each channel did with them. The daemon owns it and
// copies it into AppStatus.Events after each tick. It is not persisted: it
// starts empty after a restart. It is safe for concurrent use.
type EventLog struct {
	mu     sync.Mutex
	events []EventView // oldest first
}

// Add records a new event, queued for each of channels. An event already
// in the log (one held by a mute, now sent) is updated in place.
func (l *EventLog) Add(ev EventView, channels []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev.Channels = nil
	for _, ch := range channels {
		ev.Channels = append(ev.Channels, ChannelResult{Channel: ch, Result: ResultQueued})
	}
	if i := slices.IndexFunc(l.events, func(e EventView) bool { return e.ID == ev.ID }); i >= 0 {
		l.events[i] = ev
		return
	}
	l.events = append(l.events, ev)
	if n := len(l.events) - MaxEvents; n > 0 {
		l.events = slices.Delete(l.events, 0, n)
	}
}

// Update records what channel did with event id: result is one of
// ResultDelivered, ResultRetrying, ResultDead. An event no longer in the
// log is ignored.
func (l *EventLog) Update(id, channel, result string, attempts int, lastError string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.events {
		if l.events[i].ID != id {
			continue
		}
		for j := range l.events[i].Channels {
			c := &l.events[i].Channels[j]
			if c.Channel == channel {
				c.Result, c.Attempts, c.LastError = result, attempts, lastError
				return
			}
		}
		l.events[i].Channels = append(l.events[i].Channels, ChannelResult{Channel: channel, Result: result, Attempts: attempts, LastError: lastError})
		return
	}
}

// Recent returns the events, newest first.
func (l *EventLog) Recent() []EventView {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]EventView, 0, len(l.events))
	for i := len(l.events) - 1; i >= 0; i-- {
		ev := l.events[i]
		ev.Channels = slices.Clone(ev.Channels)
		out = append(out, ev)
	}
	return out
}
