package reader_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/oklog/ulid/v2"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/render"
	"github.com/seqwatch/seqwatch/internal/text"
)

// Operation and migration names used by the scenarios.
const (
	opA  = "2024_01_15_130000_NotifyUsers"
	opB  = "2024_01_16_090000_BackfillOrders"
	opC  = "2024_02_01_000000_PruneSessions"
	opD  = "2024_02_02_000000_ReindexSearch"
	mig1 = "2024_01_01_000000_create_users_table"
	mig2 = "2024_01_02_000000_create_operations_table"
	mig3 = "2024_01_03_000000_add_status_to_orders"
)

// day is the date of the scenarios' rows, before baseNow.
const day = "2024-06-01 "

// utc parses a "15:04:05" time of day on the scenarios' date in UTC.
func utc(clock string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, day+clock, time.UTC)
	if err != nil {
		panic(err)
	}
	return t
}

// wallIn formats instant t as the wall clock Laravel writes in zone tz.
func wallIn(tz string, t time.Time) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		panic(err)
	}
	return t.In(loc).Format(time.DateTime)
}

// readScenario is one state of an application's tables and files, read
// with and without history, on every dialect and id type.
type readScenario struct {
	name string
	// now defaults to baseNow.
	now      time.Time
	schema   dbtest.Schema // IDType is set per run
	files    dbtest.AppFiles
	settings laravel.Settings
	// ops returns the operations rows for dialect d.
	ops        func(d dbtest.Dialect) []dbtest.Op
	migrations []string
	deferred   []dbtest.Deferred
	// setup runs after the application is written, for extra files.
	setup func(t *testing.T, dir string)
	// check gets the snapshot read without history, the one read with it,
	// and the ids of the inserted rows in order.
	check func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string)
}

func readScenarios() []readScenario {
	return []readScenario{
		{
			name:  "empty_tables",
			files: dbtest.AppFiles{Operations: []string{opB, opA + ".php", opC}, Migrations: []string{mig1, mig2}},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				if len(snap.Failing) != 0 || len(snap.InProgress) != 0 {
					t.Errorf("failing %v, in progress %v: want none", snap.Failing, snap.InProgress)
				}
				wantPending(t, "operations", snap.PendingOperations, opA, opB, opC)
				wantPending(t, "migrations", snap.PendingMigrations, mig1, mig2)
				if f := snap.PendingOperations[0]; f.File != opA+".php" || f.Timestamp != "2024_01_15_130000" || f.Path != filepath.Join(filepath.Dir(f.Path), opA+".php") {
					t.Errorf("pending file = %+v", f)
				}
				wantCounts(t, hist.Counts, check.Counts{PendingOperations: 3, PendingMigrations: 2})
				if snap.Deferred != nil {
					t.Errorf("Deferred = %+v, want nil (no deferred table)", snap.Deferred)
				}
				if len(snap.Warnings) != 0 {
					t.Errorf("warnings %q, want none", snap.Warnings)
				}
				if snap.Driver != string(d) || snap.Timezone != "UTC" || !snap.TakenAt.Equal(baseNow) || snap.Environment != "testing" {
					t.Errorf("driver %q, timezone %q, taken at %v, environment %q", snap.Driver, snap.Timezone, snap.TakenAt, snap.Environment)
				}
				if len(hist.Completed) != 0 || len(hist.Failed) != 0 {
					t.Errorf("history: completed %v, failed %v: want none", hist.Completed, hist.Failed)
				}
			},
		},
		{
			name:  "completed_with_and_without_php_suffix",
			files: dbtest.AppFiles{Operations: []string{opA, opB, opC}},
			ops: func(dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{
					{Name: opA + ".php", ExecutedAt: day + "09:00:00", CompletedAt: day + "09:00:05"},
					{Name: opB, ExecutedAt: day + "10:00:00", CompletedAt: day + "10:00:10"},
					{Name: opB + ".php", ExecutedAt: day + "11:00:00", CompletedAt: day + "11:00:07"},
				}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				wantPending(t, "operations", snap.PendingOperations, opC)
				wantCounts(t, hist.Counts, check.Counts{PendingOperations: 1, Completed: 2, CompletedRows: 3, Rows: 3})
				wantLastCompleted(t, snap, map[string]time.Time{opA: utc("09:00:00"), opB: utc("11:00:00")})
				if len(snap.Failing) != 0 {
					t.Errorf("failing %v, want none", snap.Failing)
				}
				// Newest completion first, names without ".php".
				got := opNames(hist.Completed, func(a check.Attempt) string {
					return a.ID + " " + a.Name + " " + a.CompletedAt.UTC().Format(time.DateTime)
				})
				want := []string{ids[2] + " " + opB + " " + day + "11:00:07", ids[1] + " " + opB + " " + day + "10:00:10", ids[0] + " " + opA + " " + day + "09:00:05"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("history completed = %q, want %q", got, want)
				}
				if a := hist.Completed[0]; a.Type != "sync" || a.State != "completed" || a.FailedAt != nil || !a.ExecutedAt.Equal(utc("11:00:00")) {
					t.Errorf("completed attempt = %+v", a)
				}
			},
		},
		{
			name:  "failed_then_completed_is_recovered",
			files: dbtest.AppFiles{Operations: []string{opA, opB}},
			ops: func(dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{
					{Name: opA + ".php", ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:02",
						Errors: []dbtest.Err{{Exception: `RuntimeException`, Message: "first try", Trace: "#0 {main}"}}},
					{Name: opA, ExecutedAt: day + "10:00:00", CompletedAt: day + "10:00:01"},
				}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				if len(snap.Failing) != 0 {
					t.Errorf("failing %v, want none (recovered)", snap.Failing)
				}
				wantPending(t, "operations", snap.PendingOperations, opB)
				wantCounts(t, hist.Counts, check.Counts{PendingOperations: 1, FailedRows: 1, Completed: 1, CompletedRows: 1, Rows: 2})
				if len(hist.Failed) != 1 {
					t.Fatalf("history failed = %v, want 1 row", hist.Failed)
				}
				f := hist.Failed[0]
				if f.ID != ids[0] || f.Name != opA || !f.Recovered || f.RecoveredAt == nil || !f.RecoveredAt.Equal(utc("10:00:00")) {
					t.Errorf("history failure = %+v, want row %s recovered at 10:00", f, ids[0])
				}
				if len(f.Errors) != 1 || f.Errors[0].Message != "first try" {
					t.Errorf("errors = %+v", f.Errors)
				}
			},
		},
		{
			// The queue reuses an Asynchronous operation's row for every
			// try: a failed try and then one that completed leave
			// failed_at and completed_at both set, and an error row per
			// failed try.
			name:  "async_retry_completed_in_place",
			files: dbtest.AppFiles{Operations: []string{opA}},
			ops: func(dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{
					{Name: opA, Type: "async", State: "completed", ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:30", CompletedAt: day + "09:02:00",
						Errors: []dbtest.Err{{Exception: `RuntimeException`, Message: "try 1", Trace: "#0 {main}", CreatedAt: day + "09:00:30"}}},
				}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				if len(snap.Failing) != 0 || len(snap.InProgress) != 0 {
					t.Errorf("failing %v, in progress %v: want none (it completed)", snap.Failing, snap.InProgress)
				}
				wantPending(t, "operations", snap.PendingOperations)
				// sequencer:status lists it under Failed only: its
				// failed_at is set.
				wantCounts(t, hist.Counts, check.Counts{FailedRows: 1, Completed: 1, Rows: 1})
				if len(hist.Failed) != 1 {
					t.Fatalf("history failed = %v, want 1 row", hist.Failed)
				}
				f := hist.Failed[0]
				if f.ID != ids[0] || !f.Recovered || f.RecoveredAt == nil || !f.RecoveredAt.Equal(utc("09:00:00")) || !check.RecoveredInPlace(f.Attempt) {
					t.Errorf("history failure = %+v recovered %v at %v, want row %s recovered in place", f.Attempt, f.Recovered, f.RecoveredAt, ids[0])
				}
				if v := check.Judge(snap, check.Thresholds{}); v.Status != check.OK {
					t.Errorf("check: %s", v.Line())
				}
			},
		},
		{
			name:  "failed_after_an_earlier_completion_is_failing",
			files: dbtest.AppFiles{Operations: []string{opA}},
			ops: func(dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{
					{Name: opA, ExecutedAt: day + "08:00:00", FailedAt: day + "08:00:01",
						Errors: []dbtest.Err{{Exception: `RuntimeException`, Message: "old", Trace: "#0 {main}"}}},
					{Name: opA, ExecutedAt: day + "09:00:00", CompletedAt: day + "09:00:01"},
					{Name: opA + ".php", ExecutedAt: day + "10:00:00", FailedAt: day + "10:00:03",
						Errors: []dbtest.Err{{Exception: `Illuminate\Database\QueryException`, Message: "again", Trace: "#0 {main}"}}},
				}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				if got := failureIDs(snap.Failing); !reflect.DeepEqual(got, []string{ids[2]}) {
					t.Fatalf("failing rows = %v, want only the row after the completion %s", got, ids[2])
				}
				f := snap.Failing[0]
				if f.Recovered || len(f.Errors) != 1 || f.Errors[0].Message != "again" || f.Name != opA {
					t.Errorf("failing = %+v", f)
				}
				wantCounts(t, hist.Counts, check.Counts{Failing: 1, FailedRows: 2, Completed: 1, CompletedRows: 1, Rows: 3})
				if got := failureIDs(hist.Failed); !reflect.DeepEqual(got, []string{ids[2], ids[0]}) {
					t.Fatalf("history failed = %v, want newest first %v", got, []string{ids[2], ids[0]})
				}
				if hist.Failed[0].Recovered || !hist.Failed[1].Recovered {
					t.Errorf("recovered flags = %v, %v; want false, true", hist.Failed[0].Recovered, hist.Failed[1].Recovered)
				}
			},
		},
		{
			name:  "failed_twice_without_completion",
			files: dbtest.AppFiles{Operations: []string{opA, opB, opC}},
			ops: func(dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{
					{Name: opC, ExecutedAt: day + "08:00:00", FailedAt: day + "08:00:01",
						Errors: []dbtest.Err{{Exception: `RuntimeException`, Message: "C failed once", Trace: "#0 {main}"}}},
					{Name: opC + ".php", ExecutedAt: day + "08:30:00", CompletedAt: day + "08:30:01"},
					{Name: opB, Type: "async", ExecutedAt: day + "10:00:00", FailedAt: day + "10:00:04",
						Errors: []dbtest.Err{
							{Exception: `App\Exceptions\First`, Message: "one", Trace: "#0 a", CreatedAt: day + "10:00:01", Context: `{"line": 1}`},
							{Exception: `App\Exceptions\Second`, Message: "two", Trace: "#0 b", CreatedAt: day + "10:00:02"},
							{Exception: `App\Exceptions\Third`, Message: "three", Trace: "#0 c", CreatedAt: day + "10:00:03"},
						}},
					// Error recording off: no error rows.
					{Name: opB + ".php", ExecutedAt: day + "11:00:00", FailedAt: day + "11:00:01"},
				}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				if got := failureIDs(snap.Failing); !reflect.DeepEqual(got, []string{ids[3], ids[2]}) {
					t.Fatalf("failing rows = %v, want %v (newest first)", got, []string{ids[3], ids[2]})
				}
				if errs := snap.Failing[0].Errors; errs == nil || len(errs) != 0 {
					t.Errorf("row without error records has errors %#v, want an empty list", errs)
				}
				got := opNames(snap.Failing[1].Errors, func(e check.ErrorRecord) string {
					return e.Exception + "/" + e.Message + "/" + e.Trace + "/" + e.CreatedTime().UTC().Format(time.TimeOnly)
				})
				want := []string{`App\Exceptions\First/one/#0 a/10:00:01`, `App\Exceptions\Second/two/#0 b/10:00:02`, `App\Exceptions\Third/three/#0 c/10:00:03`}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("errors of the first failure = %q, want %q", got, want)
				}
				wantJSON(t, snap.Failing[1].Errors[0].Context, `{"line": 1}`)
				if snap.Failing[1].Errors[1].Context != "" {
					t.Errorf("NULL context read as %q", snap.Failing[1].Errors[1].Context)
				}
				if f := snap.Failing[1]; f.Type != "async" || f.State != "failed" || !f.FailedAt.Equal(utc("10:00:04")) || !f.ExecutedAt.Equal(utc("10:00:00")) {
					t.Errorf("failure attempt = %+v", f.Attempt)
				}
				wantPending(t, "operations", snap.PendingOperations, opA, opB)
				wantCounts(t, hist.Counts, check.Counts{PendingOperations: 2, Failing: 1, FailedRows: 3, Completed: 1, CompletedRows: 1, Rows: 4})
				if got := failureIDs(hist.Failed); !reflect.DeepEqual(got, []string{ids[3], ids[2], ids[0]}) {
					t.Errorf("history failed = %v", got)
				}
				v := check.Judge(snap, check.Thresholds{MaxPending: 10})
				wantLine := "SEQWATCH CRITICAL - 1 failed operation (" + opB + ": no error recorded (SEQUENCER_RECORD_ERRORS may be off)) | failed=1 pending=2;10 in_progress=0 stuck=0 pending_migrations=0 completed=1 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0"
				if v.Line() != wantLine {
					t.Errorf("Line() =\n%s\nwant\n%s", v.Line(), wantLine)
				}
			},
		},
		{
			name:  "in_progress_in_new_york",
			files: dbtest.AppFiles{Timezone: "America/New_York", Operations: []string{opA, opB}},
			ops: func(dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{
					{Name: opA, Type: "async", ExecutedAt: wallIn("America/New_York", baseNow.Add(-90*time.Minute))},
					{Name: opB + ".php", ExecutedAt: wallIn("America/New_York", baseNow.Add(-3*time.Hour))},
					{Name: opB, ExecutedAt: wallIn("America/New_York", baseNow.Add(-5*time.Hour)), CompletedAt: wallIn("America/New_York", baseNow.Add(-5*time.Hour))},
				}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				wantInProgress(t, snap, "America/New_York", []string{ids[1], ids[0]}, []time.Duration{3 * time.Hour, 90 * time.Minute})
				if snap.InProgress[1].Type != "async" || snap.InProgress[1].Name != opA || snap.InProgress[0].Name != opB {
					t.Errorf("in progress = %+v", snap.InProgress)
				}
				wantCounts(t, hist.Counts, check.Counts{PendingOperations: 1, InProgress: 2, Completed: 1, CompletedRows: 1, Rows: 3})
				wantLastCompleted(t, snap, map[string]time.Time{opB: baseNow.Add(-5 * time.Hour)})
			},
		},
		{
			name:  "in_progress_in_berlin_winter",
			now:   time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC),
			files: dbtest.AppFiles{Timezone: "Europe/Berlin"},
			ops: func(dbtest.Dialect) []dbtest.Op {
				// 12:30 in Berlin is 11:30 UTC: 30 minutes before now, and
				// 30 minutes in the future if misread as UTC.
				return []dbtest.Op{{Name: opA, ExecutedAt: "2024-01-15 12:30:00"}}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				wantInProgress(t, snap, "Europe/Berlin", []string{ids[0]}, []time.Duration{30 * time.Minute})
			},
		},
		{
			name:  "skipped_and_rolled_back_are_neither_running_nor_failing",
			files: dbtest.AppFiles{Operations: []string{opA, opB, opC}},
			ops: func(dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{
					{Name: opA, ExecutedAt: day + "09:00:00", SkippedAt: day + "09:00:01", SkipReason: "feature flag off"},
					{Name: opB, ExecutedAt: day + "10:00:00", RolledBackAt: day + "10:00:05"},
					{Name: opC, ExecutedAt: day + "11:00:00", CompletedAt: day + "11:00:01", RolledBackAt: day + "11:30:00"},
				}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				if len(snap.InProgress) != 0 || len(snap.Failing) != 0 || len(hist.Failed) != 0 {
					t.Errorf("in progress %v, failing %v, failed %v: want none", snap.InProgress, snap.Failing, hist.Failed)
				}
				if snap.Counts.InProgress != 0 || snap.Counts.Failing != 0 || hist.Counts.Rows != 3 {
					t.Errorf("counts = %+v", snap.Counts)
				}
			},
		},
		{
			name: "pending_migrations_and_ignored_files",
			files: dbtest.AppFiles{
				Operations: []string{opA},
				Migrations: []string{mig1, mig2, mig3},
			},
			migrations: []string{mig1, mig2 + ".php"},
			setup: func(t *testing.T, dir string) {
				for _, sub := range []string{"database/operations", "database/migrations"} {
					for _, junk := range []string{"README.md", ".gitkeep", "2024_bad.php", "2024_01_01_00000_ShortTime.php", "2024_01_01_000000_Backup.php.bak", "2024_01_01_000000_NoExtension"} {
						writeFile(t, dir, filepath.Join(sub, junk), "junk")
					}
					if err := os.MkdirAll(filepath.Join(dir, sub, "2024_01_01_000000_Directory.php"), 0o755); err != nil {
						t.Fatal(err)
					}
				}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				wantPending(t, "migrations", snap.PendingMigrations, mig3)
				wantPending(t, "operations", snap.PendingOperations, opA)
				wantCounts(t, hist.Counts, check.Counts{PendingOperations: 1, PendingMigrations: 1})
			},
		},
		{
			name:   "custom_table_names_and_exhausted_deferred_operation",
			schema: dbtest.Schema{Operations: "seq_ops", Errors: "seq_errors", Deferred: "seq_deferred", Migrations: "seq_migrations", WithDeferred: true},
			files: dbtest.AppFiles{
				Operations: []string{opA},
				Migrations: []string{mig1, mig2},
				ExtraEnv: map[string]string{
					"SEQUENCER_OPERATIONS_TABLE":          "seq_ops",
					"SEQUENCER_ERRORS_TABLE":              "seq_errors",
					"SEQUENCER_DEFERRED_OPERATIONS_TABLE": "seq_deferred",
				},
			},
			settings:   laravel.Settings{Tables: laravel.Tables{Migrations: "seq_migrations"}},
			migrations: []string{mig1},
			ops: func(dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{{Name: opA, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01",
					Errors: []dbtest.Err{{Exception: `RuntimeException`, Message: "in a custom table", Trace: "#0 {main}"}}}}
			},
			deferred: []dbtest.Deferred{
				{Operation: `App\Operations\Pending`, DueAt: day + "11:30:00"},
				{Operation: `App\Operations\Later`, DueAt: day + "13:00:00"},
				{Operation: `App\Operations\Running`, DueAt: day + "11:00:00", Status: "processing", Attempts: 1, ReservedAt: day + "11:00:00"},
				{Operation: `App\Operations\GaveUp`, DueAt: day + "08:00:00", Status: "failed", Attempts: 3, MaxAttempts: 3, FailedAt: day + "08:10:00", LastError: "SMTP timeout"},
				{Operation: `App\Operations\WillRetry`, DueAt: day + "08:00:00", Status: "failed", Attempts: 1, MaxAttempts: 3, FailedAt: day + "08:05:00", LastError: "flaky"},
				{Operation: `App\Operations\Done`, DueAt: day + "07:00:00", Status: "completed", Attempts: 1, ProcessedAt: day + "07:00:01"},
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				if len(snap.Failing) != 1 || len(snap.Failing[0].Errors) != 1 || snap.Failing[0].Errors[0].Message != "in a custom table" {
					t.Errorf("failing = %+v", snap.Failing)
				}
				wantPending(t, "migrations", snap.PendingMigrations, mig2)
				if snap.Deferred == nil {
					t.Fatal("Deferred is nil, want the custom deferred table read")
				}
				if snap.Deferred.Pending != 1 || snap.Deferred.Processing != 1 || len(snap.Deferred.Exhausted) != 1 {
					t.Fatalf("deferred = %+v", snap.Deferred)
				}
				x := snap.Deferred.Exhausted[0]
				if x.Operation != `App\Operations\GaveUp` || x.Attempts != 3 || x.MaxAttempts != 3 || x.LastError != "SMTP timeout" || x.FailedAt == nil || !x.FailedAt.Equal(utc("08:10:00")) || x.ID == "" {
					t.Errorf("exhausted = %+v", x)
				}
				wantCounts(t, hist.Counts, check.Counts{PendingOperations: 1, PendingMigrations: 1, Failing: 1, FailedRows: 1, Rows: 1, DeferredExhausted: 1})
			},
		},
		{
			name:   "deferred_table_with_default_name",
			schema: dbtest.Schema{WithDeferred: true},
			deferred: []dbtest.Deferred{
				{Operation: `App\Operations\A`, DueAt: day + "10:00:00"},
				{Operation: `App\Operations\B`, DueAt: day + "12:00:00"},
				{Operation: `App\Operations\C`, DueAt: day + "13:00:00"},
				{Operation: `App\Operations\Over`, DueAt: day + "08:00:00", Status: "failed", Attempts: 5, MaxAttempts: 3, LastError: "over the limit"},
				{Operation: `App\Operations\Newest`, DueAt: day + "09:00:00", Status: "failed", Attempts: 3, MaxAttempts: 3, FailedAt: day + "09:30:00", LastError: "newest"},
				{Operation: `App\Operations\Older`, DueAt: day + "07:00:00", Status: "failed", Attempts: 3, MaxAttempts: 3, FailedAt: day + "07:30:00", LastError: "older"},
				{Operation: `App\Operations\Cancelled`, DueAt: day + "08:00:00", Status: "cancelled", Attempts: 3, MaxAttempts: 3},
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				// Pending counts the rows due at or before the snapshot
				// (12:00): C waits for 13:00 and is no one's problem yet.
				if snap.Deferred == nil || snap.Deferred.Pending != 2 || snap.Deferred.Processing != 0 ||
					snap.Deferred.OldestDueAt == nil || !snap.Deferred.OldestDueAt.Equal(utc("10:00:00")) {
					t.Fatalf("deferred = %+v", snap.Deferred)
				}
				// Newest failure first, a NULL failed_at last, on every
				// dialect (PostgreSQL sorts NULLs first in DESC order).
				got := opNames(snap.Deferred.Exhausted, func(x check.DeferredFailure) string { return x.Operation })
				if want := []string{`App\Operations\Newest`, `App\Operations\Older`, `App\Operations\Over`}; !reflect.DeepEqual(got, want) {
					t.Fatalf("exhausted = %q, want %q", got, want)
				}
				if x := snap.Deferred.Exhausted[2]; x.FailedAt != nil || x.Attempts != 5 {
					t.Errorf("exhausted = %+v (failed_at NULL must stay nil)", x)
				}
				if snap.Counts.DeferredExhausted != 3 {
					t.Errorf("DeferredExhausted = %d, want 3", snap.Counts.DeferredExhausted)
				}
			},
		},
		{
			name:  "hostile_error_text_round_trips",
			files: dbtest.AppFiles{Operations: []string{opD}},
			ops: func(d dbtest.Dialect) []dbtest.Op {
				return []dbtest.Op{{Name: opD, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01",
					Errors: []dbtest.Err{{Exception: `Illuminate\Database\QueryException` + "\x1b[2J", Message: hostileMessage(d), Trace: hostileTrace(), Context: `{"file": "/app/x.php", "line": 42, "note": "<!channel>"}`}}}}
			},
			check: func(t *testing.T, d dbtest.Dialect, snap, hist *check.Snapshot, ids []string) {
				if len(snap.Failing) != 1 || len(snap.Failing[0].Errors) != 1 {
					t.Fatalf("failing = %+v", snap.Failing)
				}
				e := snap.Failing[0].Errors[0]
				if e.Message != hostileMessage(d) {
					t.Errorf("message changed:\n got %q\nwant %q", e.Message, hostileMessage(d))
				}
				if e.Trace != hostileTrace() {
					t.Errorf("trace changed: got %d bytes, want %d", len(e.Trace), len(hostileTrace()))
				}
				if e.Exception != `Illuminate\Database\QueryException`+"\x1b[2J" {
					t.Errorf("exception = %q", e.Exception)
				}
				wantJSON(t, e.Context, `{"file": "/app/x.php", "line": 42, "note": "<!channel>"}`)
				for _, s := range []string{text.Line(e.Message, 0), text.Line(e.Message, 50), snap.Failing[0].Headline()} {
					wantOneSafeLine(t, s)
				}
				line := check.Judge(snap, check.Thresholds{}).Line()
				wantOneSafeLine(t, strings.Replace(line, " | ", " ", 1))
				if strings.Count(line, "|") != 1 {
					t.Errorf("plugin line has %d '|', want 1: %q", strings.Count(line, "|"), line)
				}
				for _, verbose := range []bool{false, true} {
					var out bytes.Buffer
					if err := render.Status(&out, hist, render.StatusOptions{Verbose: verbose}); err != nil {
						t.Fatal(err)
					}
					wantNoControl(t, out.String())
					if verbose && !strings.Contains(out.String(), "#9999 {main}") {
						t.Errorf("verbose status lacks the end of the trace")
					}
				}
			},
		},
	}
}

// hostileMessage is exception text with everything that could break a
// terminal, a Slack message or plugin output. Only SQLite can hold invalid
// UTF-8 and NUL bytes (PostgreSQL and MariaDB reject them).
func hostileMessage(d dbtest.Dialect) string {
	m := "SQLSTATE[23505]: Unique violation\r\nDETAIL: Key (email)=(a@b.c) | exists <!channel> <@U123> *bold*\n" +
		"\x1b[31mred\x1b[0m \x07bell \x08back\ttab \u0085nel \u009bcsi \u202eevil\u202c \u2028sep ünï 日本 🚀 'q' \"dq\" ${VAR}"
	if d == dbtest.SQLite {
		m += " invalid \xff\xfe\xc3( and a nul \x00 byte"
	}
	return m
}

// hostileTrace is a 1 MB getTraceAsString() trace with CRLF and escapes.
func hostileTrace() string {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "#%d /app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(%d): Illuminate\\Database\\Connection->run('\x1b]0;pwned\x07 <!channel>')\r\n", i, 800+i)
	}
	b.WriteString("#9999 {main}")
	return b.String()
}

// wantOneSafeLine asserts s is valid UTF-8 with no control characters and
// no '|'.
func wantOneSafeLine(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("invalid UTF-8 in %q", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '|' || r == '\u2028' || r == '\u202e' {
			t.Errorf("character %U in one-line output %q", r, s)
			return
		}
	}
}

// wantNoControl asserts terminal output has no control characters other
// than newline and tab.
func wantNoControl(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("status output is not valid UTF-8")
	}
	for i, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			t.Errorf("control character %U at byte %d of status output: %q", r, i, s[max(0, i-40):min(len(s), i+40)])
			return
		}
	}
}

func wantPending(t *testing.T, what string, got []check.PendingFile, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if names := pendingNames(got); !reflect.DeepEqual(names, want) {
		t.Errorf("pending %s = %q, want %q", what, names, want)
	}
}

func wantCounts(t *testing.T, got, want check.Counts) {
	t.Helper()
	if got != want {
		t.Errorf("counts =\n%+v\nwant\n%+v", got, want)
	}
}

func wantLastCompleted(t *testing.T, snap *check.Snapshot, want map[string]time.Time) {
	t.Helper()
	if len(snap.LastCompleted) != len(want) {
		t.Errorf("LastCompleted = %v, want %v", snap.LastCompleted, want)
		return
	}
	for name, w := range want {
		if got, ok := snap.LastCompleted[name]; !ok || !got.Equal(w) {
			t.Errorf("LastCompleted[%s] = %v, want %v", name, got, w)
		}
	}
}

func wantJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("context %q is not JSON: %v", got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("context = %s, want %s", got, want)
	}
}

// wantInProgress checks the in-progress rows (ids, oldest first), how long
// each has run, and that times are in the application's zone tz.
func wantInProgress(t *testing.T, snap *check.Snapshot, tz string, ids []string, running []time.Duration) {
	t.Helper()
	if got := opNames(snap.InProgress, func(a check.Attempt) string { return a.ID }); !reflect.DeepEqual(got, ids) {
		t.Fatalf("in progress = %v, want %v (oldest first)", got, ids)
	}
	for i, a := range snap.InProgress {
		if a.RunningFor.Std() != running[i] {
			t.Errorf("%s running for %v, want %v", a.Name, a.RunningFor.Std(), running[i])
		}
		if a.ExecutedAt.Location().String() != tz {
			t.Errorf("executed_at in zone %s, want %s", a.ExecutedAt.Location(), tz)
		}
		if a.CompletedAt != nil || a.FailedAt != nil || a.State != "pending" {
			t.Errorf("in-progress attempt = %+v", a)
		}
	}
	if snap.Timezone != tz || snap.TakenAt.Location().String() != tz {
		t.Errorf("snapshot zone %s, taken at %v; want %s", snap.Timezone, snap.TakenAt, tz)
	}
	if snap.Counts.InProgress != len(ids) {
		t.Errorf("Counts.InProgress = %d, want %d", snap.Counts.InProgress, len(ids))
	}
}

// TestReadScenarios reads each scenario with and without history on every
// dialect and id type.
func TestReadScenarios(t *testing.T) {
	for _, d := range dbtest.All {
		for _, idType := range idTypes {
			for _, sc := range readScenarios() {
				t.Run(string(d)+"/"+idType+"/"+sc.name, func(t *testing.T) {
					t.Parallel()
					runReadScenario(t, d, idType, sc)
				})
			}
		}
	}
}

func runReadScenario(t *testing.T, d dbtest.Dialect, idType string, sc readScenario) {
	schema := sc.schema
	schema.IDType = idType
	a := newApp(t, d, schema, sc.files)
	if sc.setup != nil {
		sc.setup(t, a.dir)
	}
	var ids, watch []string
	if sc.ops != nil {
		ops := sc.ops(d)
		ids = a.db.InsertOps(t, schema, ops...)
		for _, op := range ops {
			watch = append(watch, op.Name)
		}
	}
	if len(sc.migrations) > 0 {
		a.db.InsertMigrations(t, schema, sc.migrations...)
	}
	if len(sc.deferred) > 0 {
		a.db.InsertDeferred(t, schema, sc.deferred...)
	}
	now := sc.now
	if now.IsZero() {
		now = baseNow
	}
	// The daemon asks for the newest completed run of its open problems'
	// operations: here, of every operation the scenario wrote.
	snap, err := a.tryRead(t, sc.settings, now, reader.ReadOptions{Watch: watch})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	hist, err := withHistory(t, a.resolve(t, sc.settings), now, reader.ReadOptions{Watch: watch}, true)
	if err != nil {
		t.Fatalf("Read with history: %v", err)
	}
	if snap.Completed != nil || snap.Failed != nil {
		t.Errorf("read without history filled Completed (%d) or Failed (%d)", len(snap.Completed), len(snap.Failed))
	}
	// History adds lists and the counts of the whole history; it changes
	// nothing else. Without it those counts stay zero: they would mean
	// reading every row.
	if snap.Counts.Rows != 0 || snap.Counts.FailedRows != 0 || snap.Counts.CompletedRows != 0 {
		t.Errorf("read without history counted history: %+v", snap.Counts)
	}
	histCounts := hist.Counts
	histCounts.Rows, histCounts.FailedRows, histCounts.CompletedRows = 0, 0, 0
	if !reflect.DeepEqual(snap.Failing, hist.Failing) || !reflect.DeepEqual(snap.InProgress, hist.InProgress) ||
		snap.Counts != histCounts || !reflect.DeepEqual(snap.PendingOperations, hist.PendingOperations) {
		t.Errorf("reading with history changed the snapshot:\n%+v\n%+v", snap, hist)
	}
	sc.check(t, d, snap, hist, ids)
}

// TestReadDoesNotLoadHistory reads a table with a long history: without
// ReadOptions.History only what is failing comes back, while the counts
// still cover every row.
func TestReadDoesNotLoadHistory(t *testing.T) {
	const ops, perOp = 50, 100
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		schema := dbtest.Schema{IDType: idType}
		files := dbtest.AppFiles{Operations: []string{opA, opB}}
		for i := range ops {
			files.Operations = append(files.Operations, fmt.Sprintf("2023_01_01_%06d_Op%d", i, i))
		}
		a := newApp(t, d, schema, files)
		bulkCompleted(t, a.db, idType, ops, perOp)
		ids := a.db.InsertOps(t, schema,
			dbtest.Op{Name: opA, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01", Errors: []dbtest.Err{{Exception: "E", Message: "a", Trace: "#0"}}},
			dbtest.Op{Name: opB + ".php", ExecutedAt: day + "10:00:00", FailedAt: day + "10:00:01"},
		)

		snap := a.read(t, baseNow, reader.ReadOptions{})
		if len(snap.Completed) != 0 || len(snap.Failed) != 0 {
			t.Errorf("without history: %d completed and %d failed rows loaded, want none", len(snap.Completed), len(snap.Failed))
		}
		if got := failureIDs(snap.Failing); !reflect.DeepEqual(got, []string{ids[1], ids[0]}) {
			t.Errorf("failing = %v, want %v", got, []string{ids[1], ids[0]})
		}
		wantCounts(t, snap.Counts, check.Counts{PendingOperations: 2, Failing: 2, Completed: ops})
		wantPending(t, "operations", snap.PendingOperations, opA, opB)
		// Nothing is kept per name unless asked for: memory follows the
		// problems, not the names in the table.
		if len(snap.LastCompleted) != 0 {
			t.Errorf("LastCompleted has %d names without Watch, want 0", len(snap.LastCompleted))
		}
		watched := a.read(t, baseNow, reader.ReadOptions{Watch: []string{opA, "2023_01_01_000001_Op1"}})
		if _, ok := watched.LastCompleted["2023_01_01_000001_Op1"]; !ok || len(watched.LastCompleted) != 1 {
			t.Errorf("LastCompleted with Watch = %v, want only 2023_01_01_000001_Op1", watched.LastCompleted)
		}

		hist, err := withHistory(t, a.resolve(t, laravel.Settings{}), baseNow, reader.ReadOptions{}, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist.Completed) != ops*perOp || len(hist.Failed) != 2 {
			t.Errorf("with history: %d completed, %d failed; want %d, 2", len(hist.Completed), len(hist.Failed), ops*perOp)
		}
		wantCounts(t, hist.Counts, check.Counts{
			PendingOperations: 2, Failing: 2, FailedRows: 2,
			Completed: ops, CompletedRows: ops * perOp, Rows: ops*perOp + 2,
		})
	})
}

// bulkCompleted inserts perOp completed rows for each of ops operations in
// one transaction (InsertOps would commit each row).
func bulkCompleted(t *testing.T, db *dbtest.DB, idType string, ops, perOp int) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	cols := "name, type, state, executed_at, completed_at, created_at, updated_at"
	marks := "?, ?, ?, ?, ?, ?, ?"
	if idType != "id" {
		cols, marks = "id, "+cols, "?, "+marks
	}
	stmt, err := tx.PrepareContext(ctx, db.Rebind("insert into operations ("+cols+") values ("+marks+")"))
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range ops {
		name := fmt.Sprintf("2023_01_01_%06d_Op%d", i, i)
		if i%2 == 1 {
			name += ".php"
		}
		for j := range perOp {
			at := start.Add(time.Duration(j) * time.Hour).Format(time.DateTime)
			args := []any{name, "sync", "completed", at, at, at, at}
			switch idType {
			case "ulid":
				args = append([]any{ulid.Make().String()}, args...)
			case "uuid":
				args = append([]any{uuid.Must(uuid.NewV7()).String()}, args...)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				t.Fatalf("insert row %d of %s: %v", j, name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// hostZoneChildEnv marks a test binary started by
// TestRunningForIgnoresHostZone.
const hostZoneChildEnv = "SEQWATCH_CHECK_HOST_TZ_CHILD"

// TestRunningForIgnoresHostZone runs the in-progress scenarios again in
// child processes whose local time zone (TZ) differs from both the
// application's zone and UTC: times must be read in the application's zone
// whatever the host's. The children use this binary's database servers.
func TestRunningForIgnoresHostZone(t *testing.T) {
	if want := os.Getenv(hostZoneChildEnv); want != "" {
		// In the child: make sure the host zone really is the one set.
		loc, err := time.LoadLocation(want)
		if err != nil {
			t.Fatal(err)
		}
		probe := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
		_, gotOff := probe.In(time.Local).Zone()
		_, wantOff := probe.In(loc).Zone()
		if gotOff != wantOff {
			t.Fatalf("child's local zone offset %d, want %d (%s)", gotOff, wantOff, want)
		}
		return
	}
	env := os.Environ()
	for _, d := range []dbtest.Dialect{dbtest.Postgres, dbtest.MySQL} {
		db := dbtest.NewDatabase(t, d)
		u := db.URL
		if d == dbtest.Postgres {
			env = append(env, dbtest.EnvPostgresURL+"="+strings.Replace(u, "/"+db.Database+"?", "/postgres?", 1))
		} else {
			env = append(env, dbtest.EnvMySQLURL+"="+strings.TrimSuffix(u, db.Database))
		}
	}
	for _, tz := range []string{"Asia/Kathmandu", "America/Los_Angeles", "Pacific/Chatham"} {
		t.Run(tz, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^(TestRunningForIgnoresHostZone|TestReadScenarios)$/^(pgsql|mysql|sqlite)$/^(id|ulid|uuid)$/^in_progress_", "-test.count=1", "-test.v")
			cmd.Env = append(append([]string{}, env...), "TZ="+tz, hostZoneChildEnv+"="+tz)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child with TZ=%s failed: %v\n%s", tz, err, out)
			}
			if n := strings.Count(string(out), "--- PASS: TestReadScenarios/"); n != 2*len(dbtest.All)*len(idTypes) {
				t.Fatalf("child with TZ=%s ran %d in-progress scenarios, want %d:\n%s", tz, n, 2*len(dbtest.All)*len(idTypes), out)
			}
		})
	}
}

// status without -v asks for no history traces: the failed rows come back
// without them, while the failing rows the daemon and check need keep theirs.
func TestHistoryTracesCanBeSkipped(t *testing.T) {
	schema := dbtest.Schema{}
	a := newApp(t, dbtest.SQLite, schema, dbtest.AppFiles{Operations: []string{opA}})
	a.db.InsertOps(t, schema, dbtest.Op{Name: opA, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01",
		Errors: []dbtest.Err{{Exception: "E", Message: "m", Trace: "#0 /app/x.php(1): f()"}}})
	snap, err := withHistory(t, a.resolve(t, laravel.Settings{}), baseNow, reader.ReadOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Failed) != 1 || len(snap.Failed[0].Errors) != 1 || snap.Failed[0].Errors[0].Trace != "" || snap.Failed[0].Errors[0].Message != "m" {
		t.Errorf("history failure = %+v, want its message without the trace", snap.Failed)
	}
	if len(snap.Failing) != 1 || snap.Failing[0].Errors[0].Trace != "#0 /app/x.php(1): f()" {
		t.Errorf("failing = %+v, want the trace kept", snap.Failing)
	}
}
