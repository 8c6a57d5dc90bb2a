package check_test

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
)

// statusJSONFields are the fields of `seqwatch status --json`, as
// docs/status-and-check.md documents them (and, for deferred.exhausted[], as printed since
// it was added): scripts rely on them, so none may be renamed or removed.
// A field added to the Snapshot is added here and to docs/status-and-check.md.
var statusJSONFields = []string{
	"app", "environment", "driver", "timezone", "taken_at",
	"pending_migrations[].timestamp", "pending_migrations[].name", "pending_migrations[].file", "pending_migrations[].path",
	"pending_migrations[].skipped_at", "pending_migrations[].skip_reason",
	"pending_operations[].timestamp", "pending_operations[].name", "pending_operations[].file", "pending_operations[].path",
	"pending_operations[].skipped_at", "pending_operations[].skip_reason",
	"in_progress[].id", "in_progress[].name", "in_progress[].type", "in_progress[].state", "in_progress[].executed_at",
	"in_progress[].completed_at", "in_progress[].failed_at", "in_progress[].running_for_seconds",
	"in_progress[].skipped_at", "in_progress[].skip_reason", "in_progress[].rolled_back_at",
	"scheduled[].id", "scheduled[].name", "scheduled[].type", "scheduled[].state", "scheduled[].executed_at",
	"scheduled[].completed_at", "scheduled[].failed_at", "scheduled[].running_for_seconds",
	"scheduled[].skipped_at", "scheduled[].skip_reason", "scheduled[].rolled_back_at",
	"failing[].id", "failing[].name", "failing[].type", "failing[].state", "failing[].executed_at",
	"failing[].completed_at", "failing[].failed_at", "failing[].running_for_seconds",
	"failing[].skipped_at", "failing[].skip_reason", "failing[].rolled_back_at",
	"failing[].recovered", "failing[].recovered_at",
	"failing[].errors[].id", "failing[].errors[].exception", "failing[].errors[].message",
	"failing[].errors[].trace", "failing[].errors[].context", "failing[].errors[].created_at",
	"rolled_back[].id", "rolled_back[].name", "rolled_back[].type", "rolled_back[].state", "rolled_back[].executed_at", "rolled_back[].completed_at", "rolled_back[].failed_at", "rolled_back[].running_for_seconds", "rolled_back[].skipped_at", "rolled_back[].skip_reason", "rolled_back[].rolled_back_at",
	"rolled_back[].cause.id", "rolled_back[].cause.name", "rolled_back[].cause.type", "rolled_back[].cause.state", "rolled_back[].cause.executed_at", "rolled_back[].cause.completed_at", "rolled_back[].cause.failed_at", "rolled_back[].cause.running_for_seconds", "rolled_back[].cause.skipped_at", "rolled_back[].cause.skip_reason", "rolled_back[].cause.rolled_back_at",
	"completed[].id", "completed[].name", "completed[].type", "completed[].state", "completed[].executed_at",
	"completed[].completed_at", "completed[].failed_at", "completed[].running_for_seconds",
	"completed[].skipped_at", "completed[].skip_reason", "completed[].rolled_back_at",
	"failed[].id", "failed[].name", "failed[].type", "failed[].state", "failed[].executed_at",
	"failed[].completed_at", "failed[].failed_at", "failed[].running_for_seconds",
	"failed[].skipped_at", "failed[].skip_reason", "failed[].rolled_back_at",
	"failed[].recovered", "failed[].recovered_at",
	"failed[].errors[].id", "failed[].errors[].exception", "failed[].errors[].message",
	"failed[].errors[].trace", "failed[].errors[].context", "failed[].errors[].created_at",
	"deferred.pending", "deferred.processing", "deferred.oldest_due_at", "deferred.oldest_reserved_at",
	"deferred.exhausted[].id", "deferred.exhausted[].operation", "deferred.exhausted[].attempts",
	"deferred.exhausted[].max_attempts", "deferred.exhausted[].failed_at", "deferred.exhausted[].last_error",
	"counts.pending_migrations", "counts.pending_operations", "counts.in_progress", "counts.scheduled", "counts.rolled_back", "counts.failing",
	"counts.failed_rows", "counts.completed", "counts.completed_rows", "counts.rows", "counts.deferred_exhausted",
	"counts.unreadable_rows",
	"warnings[]",
	"unreadable[].table", "unreadable[].id", "unreadable[].operation_id", "unreadable[].column", "unreadable[].value",
	"missing_dirs[].of", "missing_dirs[].path",
}

// TestSnapshotIsTheStatusJSONSchema encodes a Snapshot with every field
// set and finds exactly the documented fields: check.Snapshot is the
// schema of `status --json`.
func TestSnapshotIsTheStatusJSONSchema(t *testing.T) {
	at := baseNow
	a := check.Attempt{ID: "1", Name: opA, Type: "sync", State: "failed", ExecutedAt: at, CompletedAt: &at, FailedAt: &at,
		SkippedAt: &at, SkipReason: "r", RolledBackAt: &at, RunningFor: check.Duration(time.Minute)}
	f := check.Failure{Attempt: a, Recovered: true, RecoveredAt: &at,
		Errors: []check.ErrorRecord{{ID: "1", Exception: "E", Message: "m", Trace: "#0", Context: "{}", CreatedAt: &at}}}
	p := check.PendingFile{Timestamp: "2024_01_15_130000", Name: opA, File: opA + ".php", Path: "/app/" + opA + ".php", SkippedAt: &at, SkipReason: "r"}
	s := check.Snapshot{
		App: "shop", Environment: "production", Driver: "pgsql", Timezone: "UTC", TakenAt: at,
		PendingMigrations: []check.PendingFile{p}, PendingOperations: []check.PendingFile{p},
		InProgress: []check.Attempt{a}, Scheduled: []check.Attempt{a}, Failing: []check.Failure{f},
		RolledBack: []check.RolledBackRun{{Attempt: a, Cause: &a}},
		Completed:  []check.Attempt{a}, Failed: []check.Failure{f},
		Deferred:    &check.Deferred{Pending: 1, Processing: 1, OldestDueAt: &at, OldestReservedAt: &at, Exhausted: []check.DeferredFailure{{ID: "d", Operation: "Op", Attempts: 3, MaxAttempts: 3, FailedAt: &at, LastError: "e"}}},
		Counts:      check.Counts{PendingOperations: 1},
		Warnings:    []string{"w"},
		Unreadable:  []check.Unreadable{{Table: "operation_errors", ID: "7", OperationID: "1", Column: "created_at", Value: "0000-00-00 00:00:00"}},
		MissingDirs: []check.MissingDir{{Of: "operation", Path: "/app/database/operations"}},
		// Not part of the document.
		LastCompleted: map[string]time.Time{opA: at},
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	jsonPaths("", doc, &got)
	want := slices.Clone(statusJSONFields)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("status --json has %s, which is not documented", g)
			}
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("status --json lost the documented field %s", w)
			}
		}
	}
}

// jsonPaths adds the paths of v's leaves to out: a.b for members,
// a[] for the elements of an array (the first element's).
func jsonPaths(prefix string, v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			jsonPaths(strings.TrimPrefix(prefix+"."+k, "."), e, out)
		}
	case []any:
		if len(x) > 0 {
			jsonPaths(prefix+"[]", x[0], out)
		}
	default:
		*out = append(*out, prefix)
	}
}
