package notify

import (
	"fmt"
	"time"
)

// sampleKinds are the kinds SampleEvent makes, in the order they are
// named to people.
var sampleKinds = []Kind{
	OperationFailed, OperationRecovered, OperationStuck, OperationUnstuck,
	OperationRolledBack, PendingThreshold, PendingCleared, DeferredFailed,
	DeferredStuck, DeferredOverdue, SourceUnreachable, SourceRecovered,
	Digest, Reminder, Test, DeployFinished,
}

// SampleKinds are the kinds SampleEvent makes: every event kind.
func SampleKinds() []Kind { return append([]Kind(nil), sampleKinds...) }

// SampleEvent is an event of kind as seqwatch would send it for app, with
// every field that kind carries filled in: templates are tried on it at
// validate, and seqwatch notify preview shows it. A digest and a reminder
// stand for a failure and a stuck run.
func SampleEvent(kind Kind, app, env string, at time.Time) Event {
	const op = "2024_01_13_120000_ImportInvoices"
	failedAt := at.Add(-2 * time.Minute)
	done := at
	ev := Event{
		ID: fmt.Sprintf("evt_sample_%s", kind), Kind: kind, App: app, Environment: env, OccurredAt: at,
	}
	switch kind {
	case OperationFailed:
		ev.Key = "operation.failed/" + op + "/42"
		ev.OccurredAt = failedAt
		ev.Summary = op + " failed: RuntimeException: The invoice service did not answer"
		ev.Operation = &Operation{ID: "42", Name: op, Type: "sync", ExecutedAt: failedAt.Add(-3 * time.Second), FailedAt: &failedAt}
		ev.Errors = []Error{{
			Exception: "RuntimeException",
			Message:   "The invoice service did not answer within 30 seconds",
			Trace: "#0 /app/database/operations/" + op + ".php(31): App\\Services\\Invoices->import()\n" +
				"#1 /app/vendor/faustbrian/sequencer/src/Executor.php(88): Operation->handle()\n#2 {main}",
			Context:   `{"file":"/app/app/Services/Invoices.php","line":57,"code":0}`,
			CreatedAt: failedAt, TraceFrames: 3,
		}}
	case OperationRecovered:
		ev.Key = "operation.failed/" + op + "/42"
		ev.Summary = op + " completed after its failure"
		ev.Operation = &Operation{ID: "43", Name: op, Type: "sync", ExecutedAt: at.Add(-5 * time.Second), CompletedAt: &done}
	case OperationStuck:
		ev.Key = "operation.stuck/" + op + "/44"
		ev.Summary = op + " has been running for 45m (stuck_after 30m)"
		ev.Operation = &Operation{ID: "44", Name: op, Type: "async", ExecutedAt: at.Add(-45 * time.Minute), RunningFor: 45 * time.Minute}
	case OperationUnstuck:
		ev.Key = "operation.stuck/" + op + "/44"
		ev.Summary = op + " is no longer stuck"
		ev.Operation = &Operation{ID: "44", Name: op, Type: "async", ExecutedAt: at.Add(-50 * time.Minute), CompletedAt: &done}
	case OperationRolledBack:
		rolledBack := at.Add(-time.Minute)
		ev.Key = "operation.rolled_back/" + op + "/45"
		ev.OccurredAt = rolledBack
		ev.Summary = op + " was rolled back after 2024_01_14_090000_BackfillTotals failed: Sequencer counts it as run and will not run it again, though its effect was undone"
		ev.Operation = &Operation{ID: "45", Name: op, Type: "sync", ExecutedAt: rolledBack.Add(-time.Minute), CompletedAt: &failedAt, RolledBackAt: &rolledBack}
		ev.Cause = &Operation{ID: "46", Name: "2024_01_14_090000_BackfillTotals", Type: "sync", ExecutedAt: failedAt, FailedAt: &rolledBack}
	case DeferredStuck:
		ev.Key = "deferred.stuck"
		ev.Summary = "2 deferred operations in processing, the oldest reserved 3h ago (deferred_stuck_after 1h): its worker died, and nothing reclaims it"
	case DeferredOverdue:
		ev.Key = "deferred.overdue"
		ev.Summary = "5 deferred operations pending, the oldest due 2h ago (deferred_overdue_after 1h): is sequencer:deferred-process scheduled?"
	case PendingThreshold:
		ev.Key = "pending.threshold"
		ev.Summary = "12 operations pending (threshold 10)"
		ev.Pending = &PendingCount{Count: 12, Threshold: 10, Names: []string{op, "2024_01_14_090000_BackfillTotals"}}
	case PendingCleared:
		ev.Key = "pending.threshold"
		ev.Summary = "3 operations pending, under the threshold of 10 again"
		ev.Pending = &PendingCount{Count: 3, Threshold: 10}
	case DeferredFailed:
		ev.Key = "deferred.failed/7"
		ev.Summary = "deferred operation SendInvoiceMail used up its 3 attempts"
		ev.Deferred = &DeferredError{ID: "7", Operation: "SendInvoiceMail", Attempts: 3, MaxAttempts: 3, LastError: "Connection to smtp.example.com:587 timed out"}
	case SourceUnreachable:
		ev.Key = "source.unreachable"
		ev.Summary = "cannot read " + app + "'s database"
		ev.Source = "dial tcp db.internal:5432: connect: connection refused"
	case SourceRecovered:
		ev.Key = "source.unreachable"
		ev.Summary = app + "'s database can be read again"
	case Digest:
		ev.Summary = "2 problems found on the first check of " + app
		ev.Items = []Event{SampleEvent(OperationFailed, app, env, at), SampleEvent(OperationStuck, app, env, at)}
	case Reminder:
		ev.Summary = "2 problems are still open"
		ev.Items = []Event{SampleEvent(OperationFailed, app, env, at), SampleEvent(OperationStuck, app, env, at)}
	case Test:
		ev.Key = "test"
		ev.Summary = "seqwatch test alert: if you can read this, the channel works"
	case DeployFinished:
		ev.Key = "deploy.finished/" + ev.ID
		ev.Summary = "deploy finished, CRITICAL: 1 failed operation (" + op + ": RuntimeException: The invoice service did not answer)"
		ev.Deploy = &Deploy{
			Command: "php artisan sequencer:process --isolated", Status: "CRITICAL", Seconds: 42,
			Completed:  []string{"2024_01_12_090000_BackfillSlugs", "2024_01_14_090000_BackfillTotals"},
			Failed:     []DeployFailed{{Name: op, Exception: "RuntimeException", Message: "The invoice service did not answer within 30 seconds"}},
			RolledBack: []string{}, Skipped: []DeploySkip{}, Running: []string{}, Scheduled: []string{}, NotRun: []string{},
		}
	}
	return ev
}
