package dbtest

import "time"

// RowShape is one way the real Sequencer (3.0.3) leaves its rows after a kind
// of run, as read from its source and seen by running its commands
// (docs/sequencer-rows.md tells the whole story). Every shape is a fixture
// of the tests of what status, check and the daemon say about it, on every
// database and key type.
type RowShape struct {
	// Name names the shape in test names.
	Name string
	// Ran says what ran, in the words of docs/sequencer-rows.md.
	Ran string
	// Files are the operation files of the application; Contents gives
	// some of them their own text (by base name).
	Files    []string
	Contents map[string]string
	// Ops are the operations rows as of now, written as Laravel writes
	// them: wall clocks in UTC.
	Ops func(now time.Time) []Op
	// Deferred are deferred_operations rows as of now; a shape that has
	// some needs Schema.WithDeferred.
	Deferred func(now time.Time) []Deferred
}

// Operation names of the row shapes.
const (
	ShapeOpA = "2024_03_01_100000_ImportCustomers"
	ShapeOpB = "2024_03_02_100000_RecalculatePoints"
	ShapeOpC = "2024_03_03_100000_NotifyCustomers"
)

// Wall formats t as Laravel writes a time stamp in UTC.
func Wall(t time.Time) string { return t.UTC().Format(time.DateTime) }

// RowShapes returns every row shape.
func RowShapes() []RowShape {
	ago := func(now time.Time, d time.Duration) string { return Wall(now.Add(-d)) }
	return []RowShape{
		{
			Name: "sync_completed", Ran: "a sync operation that succeeded",
			Files: []string{ShapeOpA, ShapeOpB},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, ExecutedAt: ago(now, time.Hour), CompletedAt: ago(now, time.Hour-5*time.Second)}}
			},
		},
		{
			Name: "sync_failed", Ran: "a sync operation that threw: the run stops, later operations stay pending",
			Files: []string{ShapeOpA, ShapeOpB},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, ExecutedAt: ago(now, time.Hour), FailedAt: ago(now, time.Hour-2*time.Second),
					Errors: []Err{{Exception: `Illuminate\Database\QueryException`, Message: "SQLSTATE[23505]: duplicate key", Trace: "#0 /app/Import.php(12): handle()\n#1 {main}"}}}}
			},
		},
		{
			Name: "errors_not_recorded", Ran: "a sync operation that threw with error recording off (sequencer.errors.record false)",
			Files: []string{ShapeOpA},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, ExecutedAt: ago(now, time.Hour), FailedAt: ago(now, time.Hour-2*time.Second)}}
			},
		},
		{
			Name: "not_run_here", Ran: "an EnvironmentSpecific operation outside its environments, or shouldRun() false: recorded as completed",
			Files: []string{ShapeOpA},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, ExecutedAt: ago(now, time.Hour), CompletedAt: ago(now, time.Hour)}}
			},
		},
		{
			Name:  "async_retry_completed_in_place",
			Ran:   "an Asynchronous + Retryable operation that failed once, then succeeded on the queue's retry: one row, failed_at and completed_at both set",
			Files: []string{ShapeOpA}, Contents: map[string]string{ShapeOpA: AsyncRetryablePHP},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, Type: "async", State: "completed", ExecutedAt: ago(now, time.Hour),
					FailedAt: ago(now, time.Hour-10*time.Second), CompletedAt: ago(now, time.Hour-70*time.Second),
					Errors: []Err{{Exception: "RuntimeException", Message: "Stripe timed out", Trace: "#0 {main}"}}}}
			},
		},
		{
			Name:  "scheduled_waiting",
			Ran:   "a Scheduled operation (executeAt() in the future), run by sequencer:scheduled: type scheduled, state pending, executed_at when it was queued",
			Files: []string{ShapeOpA}, Contents: map[string]string{ShapeOpA: ScheduledPHP},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, Type: "scheduled", State: "pending", ExecutedAt: ago(now, 3*time.Hour)}}
			},
		},
		{
			Name:  "scheduled_by_full_name_waiting_too_long",
			Ran:   "a Scheduled operation (implementing the contract by its full name) queued 50 hours ago and never run",
			Files: []string{ShapeOpA}, Contents: map[string]string{ShapeOpA: ScheduledFullNamePHP},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, Type: "scheduled", State: "pending", ExecutedAt: ago(now, 50*time.Hour)}}
			},
		},
		{
			Name:  "scheduled_type_not_waiting",
			Ran:   "an operation that is not Scheduled, run by sequencer:scheduled on the queue: type scheduled as well, in progress until a worker runs it",
			Files: []string{ShapeOpA}, Contents: map[string]string{ShapeOpA: AsyncRetryablePHP},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, Type: "scheduled", State: "pending", ExecutedAt: ago(now, 3*time.Hour)}}
			},
		},
		{
			Name:  "async_dead_worker",
			Ran:   "an async job killed by a timeout or a dead worker: state pending with an old executed_at, forever",
			Files: []string{ShapeOpA}, Contents: map[string]string{ShapeOpA: AsyncRetryablePHP},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, Type: "async", State: "pending", ExecutedAt: ago(now, 3*time.Hour)}}
			},
		},
		{
			Name:  "deferred_stuck_in_processing",
			Ran:   "a deferred_operations row in processing whose worker died: it stays there forever, nothing reclaims it",
			Files: []string{ShapeOpA},
			Deferred: func(now time.Time) []Deferred {
				return []Deferred{
					{Operation: "App\\Deferred\\SendInvoice", DueAt: ago(now, 4*time.Hour), Status: "processing", Attempts: 1, ReservedAt: ago(now, 3*time.Hour)},
					{Operation: "App\\Deferred\\SendInvoice", DueAt: ago(now, 10*time.Minute), Status: "processing", Attempts: 1, ReservedAt: ago(now, 5*time.Minute)},
				}
			},
		},
		{
			Name:  "deferred_overdue",
			Ran:   "pending deferred_operations rows long past due_at: sequencer:deferred-process is not scheduled",
			Files: []string{ShapeOpA},
			Deferred: func(now time.Time) []Deferred {
				return []Deferred{
					{Operation: "App\\Deferred\\ExpireTrials", DueAt: ago(now, 2*time.Hour)},
					{Operation: "App\\Deferred\\ExpireTrials", DueAt: Wall(now.Add(time.Hour))},
				}
			},
		},
		{
			Name:  "deferred_on_time",
			Ran:   "deferred_operations rows as they should be: one due soon, one in processing for a few minutes, one completed",
			Files: []string{ShapeOpA},
			Deferred: func(now time.Time) []Deferred {
				return []Deferred{
					{Operation: "App\\Deferred\\A", DueAt: Wall(now.Add(10 * time.Minute))},
					{Operation: "App\\Deferred\\B", DueAt: ago(now, 6*time.Minute), Status: "processing", Attempts: 1, ReservedAt: ago(now, 5*time.Minute)},
					{Operation: "App\\Deferred\\C", DueAt: ago(now, 48*time.Hour), Status: "completed", Attempts: 1, ProcessedAt: ago(now, 48*time.Hour)},
				}
			},
		},
		{
			Name:  "async_tries_used_up",
			Ran:   "an Asynchronous + Retryable operation whose tries are used up: its row stays failed (an error row per try) and its file pending, so the next sequencer:process dispatches it again",
			Files: []string{ShapeOpA}, Contents: map[string]string{ShapeOpA: AsyncRetryablePHP},
			Ops: func(now time.Time) []Op {
				return []Op{{Name: ShapeOpA, Type: "async", State: "failed", ExecutedAt: ago(now, time.Hour), FailedAt: ago(now, time.Hour-3*time.Minute),
					Errors: []Err{
						{Exception: "RuntimeException", Message: "Stripe timed out (try 1)", Trace: "#0 {main}", CreatedAt: ago(now, time.Hour-time.Minute)},
						{Exception: "RuntimeException", Message: "Stripe timed out (try 2)", Trace: "#0 {main}", CreatedAt: ago(now, time.Hour-2*time.Minute)},
						{Exception: "RuntimeException", Message: "Stripe timed out (try 3)", Trace: "#0 {main}", CreatedAt: ago(now, time.Hour-3*time.Minute)},
					}}}
			},
		},
		{
			Name:  "skipped",
			Ran:   "an operation that threw OperationSkippedException::withReason(...): skipped_at and skip_reason, no completed_at, so it is still pending and runs again next time",
			Files: []string{ShapeOpA},
			Ops: func(now time.Time) []Op {
				return []Op{
					{Name: ShapeOpA, ExecutedAt: ago(now, 26*time.Hour), SkippedAt: ago(now, 26*time.Hour), SkipReason: "an older reason"},
					{Name: ShapeOpA, ExecutedAt: ago(now, 2*time.Hour), SkippedAt: ago(now, 2*time.Hour-time.Second),
						SkipReason: "Waiting for the payment provider's migration\nto finish (ticket PAY-1432)"},
				}
			},
		},
		{
			Name:  "rolled_back",
			Ran:   "a Rollbackable operation that completed, then was rolled back because a later operation of the same run failed: completed_at and rolled_back_at set, state rolled_back; Sequencer never runs it again",
			Files: []string{ShapeOpA, ShapeOpB, ShapeOpC}, Contents: map[string]string{ShapeOpA: RollbackablePHP},
			Ops: func(now time.Time) []Op {
				return []Op{
					{Name: ShapeOpA, State: "rolled_back", ExecutedAt: ago(now, 20*time.Minute), CompletedAt: ago(now, 20*time.Minute-3*time.Second), RolledBackAt: ago(now, 19*time.Minute)},
					{Name: ShapeOpB, ExecutedAt: ago(now, 20*time.Minute-3*time.Second), FailedAt: ago(now, 19*time.Minute+2*time.Second),
						Errors: []Err{{Exception: "RuntimeException", Message: "points table locked", Trace: "#0 {main}"}}},
				}
			},
		},
		{
			Name:  "rolled_back_days_ago",
			Ran:   "a run rolled back three days ago, whose failed operation a later deploy completed: the rolled-back one stays undone",
			Files: []string{ShapeOpA, ShapeOpB}, Contents: map[string]string{ShapeOpA: RollbackablePHP},
			Ops: func(now time.Time) []Op {
				return []Op{
					{Name: ShapeOpA, State: "rolled_back", ExecutedAt: ago(now, 72*time.Hour), CompletedAt: ago(now, 72*time.Hour-3*time.Second), RolledBackAt: ago(now, 72*time.Hour-10*time.Second)},
					{Name: ShapeOpB, ExecutedAt: ago(now, 72*time.Hour-3*time.Second), FailedAt: ago(now, 72*time.Hour-9*time.Second),
						Errors: []Err{{Exception: "RuntimeException", Message: "points table locked", Trace: "#0 {main}"}}},
					{Name: ShapeOpB, ExecutedAt: ago(now, 48*time.Hour), CompletedAt: ago(now, 48*time.Hour-5*time.Second)},
				}
			},
		},
	}
}

// RollbackablePHP is an operation Sequencer can roll back.
const RollbackablePHP = `<?php

use Cline\Sequencer\Contracts\Operation;
use Cline\Sequencer\Contracts\Rollbackable;

return new class() implements Operation, Rollbackable
{
    public function handle(): void
    {
        //
    }

    public function rollback(): void
    {
        //
    }
};
`

// ScheduledPHP is the stub of `make:operation --scheduled`: it runs at its
// executeAt().
const ScheduledPHP = `<?php

use Cline\Sequencer\Contracts\Scheduled;
use DateTimeInterface;

return new class implements Scheduled
{
    public function executeAt(): DateTimeInterface
    {
        return now()->addDay();
    }

    public function handle(): void
    {
        //
    }
};
`

// ScheduledFullNamePHP implements Scheduled by its full name.
const ScheduledFullNamePHP = `<?php

return new class() implements \Cline\Sequencer\Contracts\Operation, \Cline\Sequencer\Contracts\Scheduled
{
    public function executeAt(): \DateTimeInterface
    {
        return now()->setTime(2, 0);
    }

    public function handle(): void
    {
        //
    }
};
`

// AsyncRetryablePHP is an operation that runs on the queue and is tried
// again when it throws.
const AsyncRetryablePHP = `<?php

use Cline\Sequencer\Contracts\Asynchronous;
use Cline\Sequencer\Contracts\Retryable;

return new class() implements Asynchronous, Retryable
{
    public function tries(): int
    {
        return 3;
    }

    public function handle(): void
    {
        //
    }
};
`
