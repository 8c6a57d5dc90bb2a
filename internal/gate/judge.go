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
	// WaitsForTime reports whether an operation's file implements
	// Sequencer's Scheduled contract (check.Scheduled asks it only of a
	// run that may be waiting for its time). Nil: none does.
	WaitsForTime func(name string) bool
}

// Judge judges the runs of a deploy at now, each by check's rules about
// one run (check/runs.go: Recovered, RolledBack, RollbackCause,
// InRetryGrace, Scheduled), in the order given.
func Judge(runs []reader.Run, now time.Time, rules Rules) []Judged {
	// The newest completed start of each operation among the deploy's
	// runs: every run that could complete one of the deploy's runs started
	// since the deploy did, after it.
	newest := map[string]time.Time{}
	var failed []check.Attempt
	byID := map[string]reader.Run{}
	for _, r := range runs {
		byID[r.ID] = r
		if r.CompletedAt != nil && !check.RolledBack(r.Attempt) {
			if t, ok := newest[r.Name]; !ok || r.ExecutedAt.After(t) {
				newest[r.Name] = r.ExecutedAt
			}
		}
		if r.FailedAt != nil && r.CompletedAt == nil {
			failed = append(failed, r.Attempt)
		}
	}
	out := make([]Judged, 0, len(runs))
	for _, r := range runs {
		j := Judged{Run: r}
		var later *time.Time
		if t, ok := newest[r.Name]; ok {
			later = &t
		}
		_, recovered := check.Recovered(r.Attempt, later)
		switch {
		case check.RolledBack(r.Attempt):
			j.Outcome, j.For = RolledBack, r.CompletedAt.Sub(r.ExecutedAt)
			if c, ok := check.RollbackCause(r.Attempt, failed); ok {
				cause := byID[c.ID]
				j.Cause = &cause
			}
		case r.SkippedAt != nil:
			j.Outcome = Skipped
		case r.CompletedAt != nil:
			j.Outcome, j.For = Completed, r.CompletedAt.Sub(r.ExecutedAt)
		case r.FailedAt != nil && recovered:
			j.Outcome, j.For = Recovered, r.FailedAt.Sub(r.ExecutedAt)
		case check.InRetryGrace(r.Attempt, now, rules.AsyncRetryGrace):
			j.Outcome, j.For = Retrying, now.Sub(r.ExecutedAt)
		case r.FailedAt != nil:
			j.Outcome, j.For = Failed, r.FailedAt.Sub(r.ExecutedAt)
		case recovered:
			// An open run that a run started at or after it completed:
			// abandoned history (the same rule that recovers a failure).
			j.Outcome = Superseded
		case rules.WaitsForTime != nil && check.Scheduled(r.Attempt, true) && rules.WaitsForTime(r.Name):
			j.Outcome, j.For = Scheduled, now.Sub(r.ExecutedAt)
		default:
			j.Outcome, j.For = Running, now.Sub(r.ExecutedAt)
		}
		j.For = max(j.For, 0)
		out = append(out, j)
	}
	return out
}

// failure is the run as check's Failure, for its headline.
func failure(r reader.Run) check.Failure {
	return check.Failure{Attempt: r.Attempt, Errors: r.Errors}
}
