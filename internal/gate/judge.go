package gate

import (
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// Outcome is what one run of a deploy came to, as far as the gate can
// tell at one moment.
type Outcome string

// The outcomes. Running, Retrying and (for the verdict) nothing else hold
// the wait; the names are part of `seqwatch wait --json`.
const (
	// Running: started, not ended (an async run waiting for a worker
	// included).
	Running Outcome = "running"
	// Retrying: an asynchronous run whose try failed less than the async
	// retry grace ago: the queue may still run it again.
	Retrying Outcome = "waiting_for_retry"
	// Scheduled: a Scheduled operation waiting for its time; it does not
	// hold the wait.
	Scheduled Outcome = "scheduled"
	Completed Outcome = "completed"
	// Recovered: a run that failed, and that the operation has completed
	// since (a later run, or the queue's retry of the same row).
	Recovered Outcome = "recovered"
	Failed    Outcome = "failed"
	// RolledBack: completed, then rolled back because a later operation
	// of the same run failed; Sequencer will not run it again.
	RolledBack Outcome = "rolled_back"
	// Skipped: the operation threw OperationSkippedException; it stays
	// pending and runs again next time. Skipped counts as done.
	Skipped Outcome = "skipped"
	// Superseded: an open run older than a completed run of the same
	// operation: abandoned history, not work in progress.
	Superseded Outcome = "superseded"
)

// holds reports whether a run of outcome o keeps the wait going.
func (o Outcome) holds() bool { return o == Running || o == Retrying }

// Judged is one run and what it came to.
type Judged struct {
	reader.Run
	Outcome Outcome
	// For is how long the run took (completed, recovered in place, failed,
	// rolled back: to its end) or has been running (running, retrying,
	// scheduled: to now).
	For time.Duration
	// Cause is the failed run that made Sequencer roll this one back, when
	// it is among the deploy's runs.
	Cause *reader.Run
}

// Rules are the facts about the application that judging a run needs
// beyond the row itself.
type Rules struct {
	// AsyncRetryGrace is how long a failed try of an asynchronous run is
	// given for the queue's retry before it counts as failed
	// (thresholds.async_retry_grace); 0 is at once.
	AsyncRetryGrace time.Duration
	// WaitsForTime reports whether an operation is Scheduled: its file
	// implements Sequencer's Scheduled contract. Nil: none is.
	WaitsForTime func(name string) bool
}

// Judge judges the runs of a deploy at now, each by check's rules about
// one run, in the order given.
func Judge(runs []reader.Run, now time.Time, rules Rules) []Judged {
	// The newest completed start of each operation among the deploy's
	// runs: a run that completed at or after a failed one started makes it
	// recovered, and one that completed after an open one started makes
	// that one abandoned history.
	newest := map[string]time.Time{}
	var failed []reader.Run
	for _, r := range runs {
		if r.CompletedAt != nil && !isRolledBack(r) {
			if t, ok := newest[r.Name]; !ok || r.ExecutedAt.After(t) {
				newest[r.Name] = r.ExecutedAt
			}
		}
		if r.FailedAt != nil && r.CompletedAt == nil {
			failed = append(failed, r)
		}
	}
	out := make([]Judged, 0, len(runs))
	for _, r := range runs {
		j := Judged{Run: r}
		var later *time.Time
		if t, ok := newest[r.Name]; ok {
			later = &t
		}
		switch {
		case isRolledBack(r):
			j.Outcome, j.For = RolledBack, r.CompletedAt.Sub(r.ExecutedAt)
			if c, ok := rollbackCause(r, failed); ok {
				j.Cause = &c
			}
		case r.SkippedAt != nil:
			j.Outcome = Skipped
		case r.CompletedAt != nil:
			j.Outcome, j.For = Completed, r.CompletedAt.Sub(r.ExecutedAt)
		case r.FailedAt != nil && recovered(r, later):
			j.Outcome, j.For = Recovered, r.FailedAt.Sub(r.ExecutedAt)
		case r.FailedAt != nil && queued(r) && now.Sub(*r.FailedAt) < rules.AsyncRetryGrace:
			j.Outcome, j.For = Retrying, now.Sub(r.ExecutedAt)
		case r.FailedAt != nil:
			j.Outcome, j.For = Failed, r.FailedAt.Sub(r.ExecutedAt)
		case later != nil && !later.Before(r.ExecutedAt):
			j.Outcome = Superseded
		case rules.WaitsForTime != nil && waitsForTime(r) && rules.WaitsForTime(r.Name):
			j.Outcome, j.For = Scheduled, now.Sub(r.ExecutedAt)
		default:
			j.Outcome, j.For = Running, now.Sub(r.ExecutedAt)
		}
		j.For = max(j.For, 0)
		out = append(out, j)
	}
	return out
}

// The rules about one run. They are check's rules (issue 14 puts them in
// check/runs.go: Recovered, RolledBack, Scheduled, RollbackCause); until
// that lands they are written here once, in the same words, and nowhere
// else in the gate.

// recovered: a failed run is recovered when a run of the same operation
// that started at or after it completed, or when it completed itself (the
// queue reuses one row for every try of an Asynchronous operation).
func recovered(r reader.Run, newestCompleted *time.Time) bool {
	return r.CompletedAt != nil || newestCompleted != nil && !newestCompleted.Before(r.ExecutedAt)
}

// isRolledBack: it completed, and Sequencer rolled it back at or after its
// completion.
func isRolledBack(r reader.Run) bool {
	return r.RolledBackAt != nil && r.CompletedAt != nil && !r.RolledBackAt.Before(*r.CompletedAt)
}

// waitsForTime: recorded by sequencer:scheduled and not yet run (its file
// says whether it implements Scheduled).
func waitsForTime(r reader.Run) bool {
	return r.Type == "scheduled" && r.State == "pending"
}

// queued: the queue ran it (every type but sync), so a failed try may be
// tried again.
func queued(r reader.Run) bool { return r.Type != "" && r.Type != "sync" }

// rollbackCause is the failure of the same sequencer:process run: one that
// started at or after rb and failed at or before its rollback, the latest
// to start.
func rollbackCause(rb reader.Run, failed []reader.Run) (reader.Run, bool) {
	var cause reader.Run
	ok := false
	for _, f := range failed {
		if f.ID == rb.ID || f.ExecutedAt.Before(rb.ExecutedAt) || f.FailedAt.After(*rb.RolledBackAt) {
			continue
		}
		if !ok || f.ExecutedAt.After(cause.ExecutedAt) {
			cause, ok = f, true
		}
	}
	return cause, ok
}

// failure is the run as check's Failure, for its headline.
func failure(r reader.Run) check.Failure {
	return check.Failure{Attempt: r.Attempt, Errors: r.Errors}
}
