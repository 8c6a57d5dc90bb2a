package check

// The rules about one run (a row of the operations table) as Sequencer
// really writes it (../shared/docs/sequencer-data-model.md, "How the real
// package writes these rows", and docs/sequencer-rows.md). Each rule is
// here once: the reader's SQL filters by the same conditions (its doc
// comments say which rule each query mirrors), and status, check, the
// status page, the metrics and the daemon all decide with these
// functions. They are pure: no clock, no database, no file.

import "time"

// Recovered reports whether the failed run no longer counts as failing,
// and since when: when a run of the same operation that started at or
// after it completed. That run is either a later one (a retry by the next
// `sequencer:process`), or the row itself: the queue reuses one row for
// every try of an Asynchronous operation, so a try that completes after a
// failed one leaves failed_at and completed_at both set.
//
// newestCompleted is the start (executed_at) of the newest completed run
// of the operation, in either spelling of its name, or nil when it has
// none. since is that start: for a run recovered in place, its own start.
func Recovered(run Attempt, newestCompleted *time.Time) (since time.Time, ok bool) {
	switch {
	case newestCompleted != nil && !newestCompleted.Before(run.ExecutedAt):
		return *newestCompleted, true
	case run.CompletedAt != nil:
		return run.ExecutedAt, true
	}
	return time.Time{}, false
}

// RecoveredInPlace reports whether a failed run completed itself: a later
// try by the queue of the same row succeeded (failed_at is never cleared).
// Such a run is recovered (Recovered) whatever other runs say.
func RecoveredInPlace(run Attempt) bool {
	return run.FailedAt != nil && run.CompletedAt != nil
}

// InProgress reports whether a run has started and not ended: none of
// completed_at, failed_at, skipped_at and rolled_back_at is set. (An open
// run older than a completed run of the same operation is abandoned
// history, not work in progress: the reader leaves those out.) A
// Scheduled operation waiting for its time is such a run too; see
// Scheduled.
func InProgress(run Attempt) bool {
	return run.CompletedAt == nil && run.FailedAt == nil && run.SkippedAt == nil && run.RolledBackAt == nil
}

// Scheduled reports whether a run is a Scheduled operation waiting for
// its time: `sequencer:scheduled` recorded it (type scheduled, state
// pending, executed_at the moment it was queued) and its operation file
// implements Sequencer's Scheduled contract (implements says so), so the
// queue runs it at its executeAt(), perhaps days later. The type alone
// does not say it: every operation that sequencer:scheduled runs gets it.
// Such a run is not in progress; it is judged by
// Thresholds.ScheduledStuckAfter, never by StuckAfter.
//
// Scheduled(run, true) says whether the file is worth reading.
func Scheduled(run Attempt, implements bool) bool {
	return implements && InProgress(run) && run.Type == "scheduled" && run.State == "pending"
}

// RolledBack reports whether a run was rolled back: it completed, and
// Sequencer then rolled it back (rolled_back_at at or after completed_at)
// because a later operation of the same run failed. Its row keeps
// completed_at, so Sequencer counts it as executed and never runs it
// again, although its effect was undone. (A Rollbackable Asynchronous
// operation rolled back before the queue ran it, and then run by the
// queue, completed after its rollback: its effect stands.)
func RolledBack(run Attempt) bool {
	return run.RolledBackAt != nil && run.CompletedAt != nil && !run.RolledBackAt.Before(*run.CompletedAt)
}

// RolledBackWithin reports whether a rolled-back run is news at now: it
// was rolled back (RolledBack) less than window ago; a window of 0 is
// never. Only a run that is still its operation's newest counts (the
// reader keeps only those in Snapshot.RolledBack): a later run of the
// operation ran it again.
func RolledBackWithin(run Attempt, now time.Time, window time.Duration) bool {
	return window > 0 && RolledBack(run) && now.Sub(*run.RolledBackAt) < window
}

// RollbackCause picks, among failed runs, the one that made Sequencer
// roll back the run rb: a failure of the same run of sequencer:process,
// that is one that started at or after rb and failed at or before rb's
// rollback; the latest to start when several do. ok is false when none
// does (the failed row was deleted, or another process rolled it back).
func RollbackCause(rb Attempt, failed []Attempt) (cause Attempt, ok bool) {
	if rb.RolledBackAt == nil {
		return Attempt{}, false
	}
	for _, f := range failed {
		if f.ID == rb.ID || f.FailedAt == nil || f.ExecutedAt.Before(rb.ExecutedAt) || f.FailedAt.After(*rb.RolledBackAt) {
			continue
		}
		if !ok || f.ExecutedAt.After(cause.ExecutedAt) {
			cause, ok = f, true
		}
	}
	return cause, ok
}

// Queued reports whether a run ran, or runs, on the queue, where a
// Retryable operation's next try reuses the row: every type but sync
// (async, batch, chain, dependency_graph, scheduled and the other batch
// types all run through Sequencer's queued job). sequencer:scheduled gives
// its synchronous runs the type scheduled too; they are taken as queued.
func Queued(run Attempt) bool {
	return run.Type != "" && run.Type != "sync"
}

// InRetryGrace reports whether a failed queued run may still be tried
// again by the queue: Sequencer overwrites failed_at on every failed try
// and never clears it, so between two tries the row reads failed while the
// queue holds the next one. It is in the grace while it failed less than
// grace before now (0: never). status and check say what is true now; the
// daemon waits the grace before it sends operation.failed, so that a try
// that then completes is never sent.
func InRetryGrace(run Attempt, now time.Time, grace time.Duration) bool {
	return grace > 0 && Queued(run) && run.FailedAt != nil && run.CompletedAt == nil && now.Sub(*run.FailedAt) < grace
}

// DeferredStuck reports whether deferred operations hang in processing: the
// oldest was reserved more than after before now (0: never). Its worker
// died, and nothing reclaims the row.
func DeferredStuck(d *Deferred, now time.Time, after time.Duration) bool {
	return after > 0 && d != nil && d.Processing > 0 && d.OldestReservedAt != nil && now.Sub(*d.OldestReservedAt) > after
}

// DeferredOverdue reports whether pending deferred operations are long past
// their time: the oldest was due more than after before now (0: never).
// sequencer:deferred-process is not scheduled, or not running.
func DeferredOverdue(d *Deferred, now time.Time, after time.Duration) bool {
	return after > 0 && d != nil && d.Pending > 0 && d.OldestDueAt != nil && now.Sub(*d.OldestDueAt) > after
}

// RunsAgain reports whether a failed queued run is an operation that the
// queue has given up on and that the next `sequencer:process` dispatches
// again, as a new row, whether anyone asked for it or not: it ran on the
// queue (Queued), it is past the queue's retries (no longer InRetryGrace),
// and its operation is pending (pending: its file exists and no run of it
// ever completed, so this run is not recovered either).
func RunsAgain(run Attempt, pending bool, now time.Time, grace time.Duration) bool {
	return pending && Queued(run) && run.FailedAt != nil && run.CompletedAt == nil && !InRetryGrace(run, now, grace)
}

// RunsAgainNote is what status and the failure alert say beside such a run.
const RunsAgainNote = "runs again at the next sequencer:process"
