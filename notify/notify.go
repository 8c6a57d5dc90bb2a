// Package notify holds the events seqwatch sends and the channels that send
// them. Each channel (Slack, email, webhook, console) implements Notifier;
// the Dispatcher routes events to channels, batches them into digests, rate
// limits and retries.
//
// It is the core every channel package (notify/...) builds on: Event,
// Notifier, the channel registry, routes, the console channel and the one
// headline rule (HeadlineError). Of seqwatch it imports only
// internal/text. It must not import check, state, internal/web or its own
// channel packages, nor any database driver or tablewriter, so that a
// receiver that imports notify/webhook stays small.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
)

// Kind is the stable name of an event.
type Kind string

// The event kinds. Their names are part of seqwatch's interface (routes,
// webhook payloads): never rename one.
const (
	OperationFailed    Kind = "operation.failed"
	OperationRecovered Kind = "operation.recovered"
	OperationStuck     Kind = "operation.stuck"
	OperationUnstuck   Kind = "operation.unstuck"
	PendingThreshold   Kind = "pending.threshold"
	PendingCleared     Kind = "pending.cleared"
	DeferredFailed     Kind = "deferred.failed"
	SourceUnreachable  Kind = "source.unreachable"
	SourceRecovered    Kind = "source.recovered"
	// Digest summarises past failures on the first run (on_first_run: digest).
	Digest Kind = "digest"
	// Reminder repeats an event that is still open after repeat_after.
	Reminder Kind = "reminder"
	// Test is sent by `seqwatch notify test`.
	Test Kind = "test"
)

// Event is one thing worth telling people about. It is stored in the state
// outbox (as JSON) before it is sent, so every field must survive a round
// trip through encoding/json.
type Event struct {
	// ID is unique per event and stable across retries and restarts: the
	// webhook-id of the Standard Webhooks convention.
	ID string `json:"id"`
	// Kind is the event's stable name.
	Kind Kind `json:"kind"`
	// Key identifies the problem the event is about, e.g.
	// "operation.failed/2024_01_13_120000_FailedOperation/42"; a recovery
	// carries the key of the failure it closes.
	Key string `json:"key"`
	// App and Environment name the application.
	App         string `json:"app"`
	Environment string `json:"environment,omitempty"`
	// OccurredAt is when the thing happened (the failure time, or when it
	// was detected for threshold and source events).
	OccurredAt time.Time `json:"occurred_at"`
	// Summary is one line of plain text describing the event.
	Summary string `json:"summary"`

	Operation *Operation     `json:"operation,omitempty"`
	Errors    []Error        `json:"errors,omitempty"`
	Pending   *PendingCount  `json:"pending,omitempty"`
	Deferred  *DeferredError `json:"deferred,omitempty"`
	// Items are the events a Digest or Reminder stands for.
	Items []Event `json:"items,omitempty"`
	// Source is the error that made the database unreachable (redacted).
	Source string `json:"source,omitempty"`
}

// HeadlineError is the error the event is summarised by: the one
// HeadlineError (the function) chooses, as `seqwatch check` does for the
// same failure.
func (e Event) HeadlineError() (Error, bool) {
	return HeadlineError(e.Errors, func(er Error) time.Time { return er.CreatedAt })
}

// HeadlineError chooses the error a failure is summarised by, wherever it
// is summarised (check's line, the daemon's alerts, every channel): the
// newest one, which is what made the run fail; of errors recorded at the
// same time, the later in the list (errors are read in created_at, id
// order). It is generic so that the database reader's records and the
// events' errors are chosen by the same rule.
func HeadlineError[E any](errs []E, createdAt func(E) time.Time) (E, bool) {
	var best E
	if len(errs) == 0 {
		return best, false
	}
	best = errs[0]
	for _, e := range errs[1:] {
		if !createdAt(e).Before(createdAt(best)) {
			best = e
		}
	}
	return best, true
}

// Operation is the operation an event is about.
type Operation struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Type        string        `json:"type"`
	ExecutedAt  time.Time     `json:"executed_at"`
	FailedAt    *time.Time    `json:"failed_at,omitempty"`
	CompletedAt *time.Time    `json:"completed_at,omitempty"`
	RunningFor  time.Duration `json:"running_for,omitempty"`
}

// Error is one recorded exception.
type Error struct {
	Exception string `json:"exception"`
	Message   string `json:"message"`
	// Trace is the trace as recorded, or only its first part: the state
	// cuts long traces at a frame boundary before an event is stored.
	Trace     string    `json:"trace"`
	Context   string    `json:"context,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// TraceFrames and TraceBytes describe the whole trace as recorded,
	// before any cut: how many frames (non-blank lines) and bytes it had.
	// Channels count the frames they leave out from these, never from the
	// cut text. 0 when not known (an event stored by an older seqwatch):
	// the carried trace is counted then.
	TraceFrames int `json:"trace_frames,omitempty"`
	TraceBytes  int `json:"trace_bytes,omitempty"`
}

// CountFrames returns the number of frames of a PHP trace
// (getTraceAsString: "#0 …" lines and "#N {main}"): its non-blank lines.
func CountFrames(trace string) int {
	n := 0
	for line := range strings.Lines(trace) {
		if strings.TrimSpace(line) != "" {
			n++
		}
	}
	return n
}

// AllFrames is the number of frames of the whole recorded trace, which
// may be more than the carried Trace holds.
func (e Error) AllFrames() int {
	if e.TraceFrames > 0 {
		return e.TraceFrames
	}
	return CountFrames(e.Trace)
}

// Frames returns the first n frames of the carried trace (each trimmed,
// blank lines skipped) and how many frames of the whole recorded trace
// they leave out.
func (e Error) Frames(n int) (frames []string, more int) {
	rest := e.Trace
	for rest != "" && len(frames) < n {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if line = strings.TrimSpace(line); line != "" {
			frames = append(frames, line)
		}
	}
	return frames, max(0, e.AllFrames()-len(frames))
}

// CleanText makes database text safe for a channel's message while
// keeping its lines: terminal control sequences, control characters, bidi
// overrides, invalid UTF-8 and every other Unicode format character
// (zero-width spaces and joiners, the byte order mark, soft hyphens) go
// (text.Clean). It lives beside the events so that every channel, and a
// renderer outside this module (which cannot import internal/text), cleans
// alike.
func CleanText(s string) string { return text.Clean(s) }

// PendingCount is the pending-operations backlog for threshold events.
type PendingCount struct {
	Count     int      `json:"count"`
	Threshold int      `json:"threshold"`
	Names     []string `json:"names,omitempty"`
}

// DeferredError is a deferred operation that exhausted its attempts.
type DeferredError struct {
	ID          string `json:"id"`
	Operation   string `json:"operation"`
	Attempts    int    `json:"attempts"`
	MaxAttempts int    `json:"max_attempts"`
	LastError   string `json:"last_error"`
}

// Notifier sends events through one channel. Notify sends all the events as
// one message (a digest when there are several). It reports whether a
// failure is worth retrying: transport errors, 5xx and 429 are; answers
// that will never succeed (400, 403, 404, invalid_token) are not.
type Notifier interface {
	Notify(ctx context.Context, events []Event) (retry bool, err error)
}

// RetryAfterError is returned (wrapped) by a notifier whose peer asked it
// to wait, e.g. HTTP 429 with Retry-After.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns how long the peer asked to wait, if err carries a
// RetryAfterError.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.After, true
	}
	return 0, false
}

// ErrDisabled is returned (wrapped) by a notifier whose endpoint told it to
// stop sending for good (a webhook answering 410 Gone).
var ErrDisabled = errors.New("endpoint disabled")

// Secret is a configuration value (token, password, webhook URL) that must
// never be printed: it formats as "<redacted>" in logs, errors and JSON.
// Use string(s) where the real value is needed.
type Secret string

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// GoString implements fmt.GoStringer so %#v does not leak it either.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }
