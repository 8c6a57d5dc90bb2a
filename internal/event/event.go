// Package event holds seqwatch's event vocabulary: the kinds of event,
// the Event stored in the outbox and sent by every channel, and the one
// headline rule. It sits beneath every stage that speaks of events: check
// (which keys its problems by kind), state (the outbox), internal/alerting
// and notify (which re-exports these names for channel packages and for
// programs outside this module). It imports nothing of seqwatch, so that
// the judging and recording stages never depend on the delivery core.
package event

import (
	"strings"
	"time"
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
	// OperationRolledBack: Sequencer rolled back a run that had completed,
	// because a later operation of the same run failed; it will not run
	// it again. Sent once per run.
	OperationRolledBack Kind = "operation.rolled_back"
	DeferredFailed      Kind = "deferred.failed"
	// DeferredStuck: deferred operations in processing whose worker died
	// (reserved longer than thresholds.deferred_stuck_after); nothing
	// reclaims them.
	DeferredStuck Kind = "deferred.stuck"
	// DeferredOverdue: pending deferred operations long past their due_at
	// (thresholds.deferred_overdue_after): sequencer:deferred-process is
	// not running.
	DeferredOverdue   Kind = "deferred.overdue"
	SourceUnreachable Kind = "source.unreachable"
	SourceRecovered   Kind = "source.recovered"
	// ProblemClosed: an open problem closed without a recovery of its
	// own (its failed row was deleted, the deferred operations were
	// processed or reset, a rolled-back run left rolled_back_window, a
	// threshold was raised or turned off). It carries the problem's key.
	// People were not told of these closes
	// before and are not now: it goes only to the channels that keep an
	// incident open per problem (PagerDuty, Opsgenie) among those its
	// problem's kind (ProblemKind of its key) is routed to, so that they
	// resolve it. It is not a kind routes name.
	ProblemClosed Kind = "problem.closed"
	// Digest summarises past failures on the first run (on_first_run: digest).
	Digest Kind = "digest"
	// Reminder repeats an event that is still open after repeat_after.
	Reminder Kind = "reminder"
	// Test is sent by `seqwatch notify test`.
	Test Kind = "test"
	// DeployFinished is sent by `seqwatch deploy --notify`: how the
	// deploy ended (Event.Deploy). It reports, and opens no problem.
	DeployFinished Kind = "deploy.finished"
)

// Informational reports whether events of kind k tell something and open
// no problem (a test alert, a deploy's report): a pager opens and closes
// an incident of its own for one at once, and nothing waits for its
// recovery.
func Informational(k Kind) bool { return k == Test || k == DeployFinished }

// Closes reports whether an event of kind k ends the problem its Key
// names: operation.recovered, operation.unstuck, pending.cleared,
// source.recovered and problem.closed, and kinds added later that are
// named like them (….recovered, ….unstuck, ….cleared, ….resolved,
// ….closed). Every other kind opens a problem or repeats an open one: a
// kind this version does not know is treated as a problem, so that a
// pager pages rather than dropping it.
func Closes(k Kind) bool {
	switch k {
	case OperationRecovered, OperationUnstuck, PendingCleared, SourceRecovered, ProblemClosed:
		return true
	}
	for _, suffix := range []string{".recovered", ".unstuck", ".cleared", ".resolved", ".closed"} {
		if strings.HasSuffix(string(k), suffix) {
			return true
		}
	}
	return false
}

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

	Operation *Operation `json:"operation,omitempty"`
	// Cause is the failed run that made Sequencer roll Operation back
	// (operation.rolled_back), when it was found.
	Cause    *Operation     `json:"cause,omitempty"`
	Errors   []Error        `json:"errors,omitempty"`
	Pending  *PendingCount  `json:"pending,omitempty"`
	Deferred *DeferredError `json:"deferred,omitempty"`
	// Items are the events a Digest or Reminder stands for.
	Items []Event `json:"items,omitempty"`
	// Source is the error that made the database unreachable (redacted).
	Source string `json:"source,omitempty"`
	// Deploy is how a deploy ended (deploy.finished).
	Deploy *Deploy `json:"deploy,omitempty"`
}

// FilesKeyPrefix begins the key of a source.unreachable problem about
// the application's files (a discovery directory that does not exist),
// not its database: what the database says is still true meanwhile, so
// a receiver that mutes everything while the source is down (an
// Alertmanager inhibition) must tell the two apart.
const FilesKeyPrefix = "source.unreachable/files/"

// ProblemKind is the kind of the problem that key names: a problem's key
// is the kind of event that opens it, alone or followed by "/" and what
// tells it apart ("pending.threshold", "operation.failed/<name>/<id>").
// A problem.closed carries only its problem's key: this is how the kind,
// and so the channels it was routed to, is known.
func ProblemKind(key string) Kind {
	k, _, _ := strings.Cut(key, "/")
	return Kind(k)
}

// Deploy is the outcome of `seqwatch deploy`: the command it wrapped and
// what the runs Sequencer started for it came to.
type Deploy struct {
	// Command is the command line that was run.
	Command string `json:"command"`
	// ExitCode is the command's exit status (-1 when a signal killed it
	// or it could not start); Signal names the signal.
	ExitCode int    `json:"exit_code"`
	Signal   string `json:"signal,omitempty"`
	// Status is the deploy's verdict: OK, WARNING, CRITICAL or UNKNOWN.
	Status string `json:"status"`
	// Seconds is how long the deploy took, the wait included.
	Seconds    int64          `json:"seconds"`
	Completed  []string       `json:"completed"`
	Failed     []DeployFailed `json:"failed"`
	RolledBack []string       `json:"rolled_back"`
	Skipped    []DeploySkip   `json:"skipped"`
	// Running are the runs still running when the wait ended (timed out).
	Running   []string `json:"running"`
	Scheduled []string `json:"scheduled"`
	// NotRun are operation files still pending that no run of the deploy
	// ran.
	NotRun []string `json:"not_run"`
}

// DeployFailed is a failed run of a deploy and its headline error.
type DeployFailed struct {
	Name      string `json:"name"`
	Exception string `json:"exception"`
	Message   string `json:"message"`
}

// DeploySkip is a skipped run of a deploy and why.
type DeploySkip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
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
	// RolledBackAt is when Sequencer rolled the run back.
	RolledBackAt *time.Time `json:"rolled_back_at,omitempty"`
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
