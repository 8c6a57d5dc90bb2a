package reader_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// badStamp is a value a time stamp column can hold that is not a time,
// and what the reader names it as.
type badStamp struct {
	name  string
	value any
	shown string
}

// badStamps are the values each database can hold in a time stamp column
// that are no time: MariaDB turns ” and 'garbage' into its zero date
// (in a relaxed sql_mode) and stores nothing else; PostgreSQL's timestamp
// takes only its infinities; SQLite stores whatever it is given.
var badStamps = map[dbtest.Dialect][]badStamp{
	dbtest.Postgres: {
		{"infinity", "infinity", "infinity"},
		{"minus_infinity", "-infinity", "-infinity"},
	},
	dbtest.MySQL: {
		{"zero_date", "0000-00-00 00:00:00", "0000-00-00 00:00:00"},
		{"empty", "", "0000-00-00 00:00:00"},
		{"garbage", "garbage", "0000-00-00 00:00:00"},
	},
	dbtest.SQLite: {
		{"empty", "", ""},
		{"garbage", "garbage", "garbage"},
		{"zero_date", "0000-00-00 00:00:00", "0000-00-00 00:00:00"},
		{"real", 1.5, "1.5"},
		{"infinity", "infinity", "infinity"},
		{"hostile", "\x1b[31m\u202egnp.exe\u202c\r", "gnp.exe"},
	},
}

// badRow is where the unreadable value is: a column of one row, in a
// shape of row that the value must not hide.
type badRow struct {
	name   string
	table  string // "operations", "operation_errors" or "deferred_operations"
	column string
	// row is the operations row that carries the value (or whose error
	// row does); deferred rows are made apart.
	row dbtest.Op
	// failing, running and exhausted say how the row must still be read.
	failing, running, exhausted bool
	// inRead says Read meets the row (a completed row is met only by the
	// History's lists).
	inRead bool
}

var badRows = []badRow{
	{name: "failed_row_executed_at", table: "operations", column: "executed_at", failing: true, inRead: true,
		row: dbtest.Op{Name: opC, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:05", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "bad start"}}}},
	{name: "failed_row_failed_at", table: "operations", column: "failed_at", failing: true, inRead: true,
		row: dbtest.Op{Name: opC, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:05", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "bad failure time"}}}},
	{name: "open_row_executed_at", table: "operations", column: "executed_at", running: true, inRead: true,
		row: dbtest.Op{Name: opC, ExecutedAt: day + "09:00:00"}},
	{name: "completed_row_completed_at", table: "operations", column: "completed_at",
		row: dbtest.Op{Name: opC, ExecutedAt: day + "09:00:00", CompletedAt: day + "09:00:05"}},
	{name: "completed_row_executed_at", table: "operations", column: "executed_at",
		row: dbtest.Op{Name: opC, ExecutedAt: day + "09:00:00", CompletedAt: day + "09:00:05"}},
	{name: "error_created_at", table: "operation_errors", column: "created_at", failing: true, inRead: true,
		row: dbtest.Op{Name: opC, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:05", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "bad error time"}}}},
	{name: "deferred_failed_at", table: "deferred_operations", column: "failed_at", exhausted: true, inRead: true},
}

// TestOneUnreadableTimeStampHidesNothing puts one value that is not a
// time in one time stamp column of one row, beside two real failures, on
// every database: the read succeeds, reports the two failures and the row
// itself as what it is (a failed row still failing, an open row still in
// progress, an exhausted deferred row still exhausted), and names the
// value once, in Read and in the History's lists alike.
func TestOneUnreadableTimeStampHidesNothing(t *testing.T) {
	for _, d := range dbtest.All {
		for _, bad := range badStamps[d] {
			for _, br := range badRows {
				t.Run(fmt.Sprintf("%s/%s/%s", d, br.name, bad.name), func(t *testing.T) {
					t.Parallel()
					a := newApp(t, d, dbtest.Schema{WithDeferred: true}, dbtest.AppFiles{Operations: []string{opA, opB, opC}})
					good := a.db.InsertOps(t, a.schema,
						dbtest.Op{Name: opA, ExecutedAt: day + "10:00:00", FailedAt: day + "10:00:01", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "real failure A"}}},
						dbtest.Op{Name: opB, ExecutedAt: day + "11:00:00", FailedAt: day + "11:00:01", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "real failure B"}}},
					)
					var id, opID string
					switch br.table {
					case "deferred_operations":
						id = a.db.InsertDeferred(t, a.schema, dbtest.Deferred{Operation: `App\Jobs\Charge`, DueAt: day + "08:00:00", Status: "failed", Attempts: 3, MaxAttempts: 3, FailedAt: day + "08:30:00", LastError: "card declined"})[0]
					case "operation_errors":
						opID = a.db.InsertOps(t, a.schema, br.row)[0]
						id = a.db.ErrorIDs(t, a.schema, opID)[0]
					default:
						id = a.db.InsertOps(t, a.schema, br.row)[0]
					}
					a.db.SetRaw(t, br.table, id, br.column, bad.value)
					want := check.Unreadable{Table: br.table, ID: id, OperationID: opID, Column: br.column, Value: bad.shown}

					src := a.resolve(t, laravel.Settings{})
					ctx := context.Background()
					db, err := reader.Open(ctx, src.Conn)
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					snap, h, err := reader.ReadWithHistory(ctx, db, src, baseNow, reader.ReadOptions{})
					if err != nil {
						t.Fatalf("one unreadable %s.%s (%v) made the read fail: %v", br.table, br.column, bad.value, err)
					}
					defer h.Close()

					wantFailing := []string{good[1], good[0]}
					if br.failing {
						wantFailing = append(wantFailing, cmpOr(opID, id))
					}
					if got := failureIDs(snap.Failing); !sameSet(got, wantFailing) {
						t.Errorf("failing rows %v, want %v", got, wantFailing)
					}
					if br.running != (len(snap.InProgress) == 1) || len(snap.InProgress) > 1 {
						t.Errorf("in progress: %+v (the open row must still be in progress: %v)", snap.InProgress, br.running)
					}
					for _, r := range snap.InProgress {
						if r.RunningFor != 0 {
							t.Errorf("a run whose start cannot be read has run for %s", r.RunningFor.Std())
						}
					}
					exhausted := snap.Deferred != nil && len(snap.Deferred.Exhausted) == 1
					if br.exhausted != exhausted {
						t.Errorf("deferred: %+v, exhausted row want %v", snap.Deferred, br.exhausted)
					}
					for _, f := range snap.Failing {
						if f.ID == good[0] || f.ID == good[1] {
							if f.FailedAt == nil || len(f.Errors) != 1 || f.Errors[0].CreatedAt == nil {
								t.Errorf("a readable failure lost its times: %+v", f)
							}
						}
					}
					wantNamed := []check.Unreadable{}
					if br.inRead {
						wantNamed = append(wantNamed, want)
					}
					if got := orEmpty(snap.Unreadable); !slices.Equal(got, wantNamed) || snap.Counts.UnreadableRows != len(wantNamed) {
						t.Errorf("Read named %+v (%d rows), want %+v", got, snap.Counts.UnreadableRows, wantNamed)
					}

					// The lists status prints: the row is listed, named once.
					var completed, failed int
					if err := h.Completed(ctx, func(*check.Attempt) error { completed++; return nil }); err != nil {
						t.Fatalf("Completed: %v", err)
					}
					if err := h.CompletedTable(ctx, func(*check.Attempt) error { return nil }); err != nil {
						t.Fatalf("CompletedTable: %v", err)
					}
					if err := h.Failed(ctx, true, func(*check.Failure) error { failed++; return nil }); err != nil {
						t.Fatalf("Failed: %v", err)
					}
					wantFailed := 2
					if br.failing {
						wantFailed++
					}
					if wantCompleted := map[bool]int{true: 1}[br.table == "operations" && br.row.CompletedAt != ""]; completed != wantCompleted || failed != wantFailed {
						t.Errorf("listed %d completed and %d failed rows, want %d and %d", completed, failed, wantCompleted, wantFailed)
					}
					named, n := h.Unreadable()
					if !slices.Equal(named, []check.Unreadable{want}) || n != 1 {
						t.Errorf("the History named %+v (%d rows), want %+v once", named, n, want)
					}
				})
			}
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestNullErrorTimeIsNullInJSON reads an error row whose created_at is
// NULL on every database: its CreatedAt is nil, nothing is unreadable, and
// the snapshot's JSON (status --json and check --json) says null, as the
// webhook document does, not the year 1.
func TestNullErrorTimeIsNullInJSON(t *testing.T) {
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d, dbtest.Schema{}, dbtest.AppFiles{Operations: []string{opA}})
			opID := a.db.InsertOps(t, a.schema, dbtest.Op{Name: opA, ExecutedAt: day + "10:00:00", FailedAt: day + "10:00:01", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "no time"}}})[0]
			a.db.SetRaw(t, "operation_errors", a.db.ErrorIDs(t, a.schema, opID)[0], "created_at", nil)
			snap := a.read(t, baseNow, reader.ReadOptions{})
			if len(snap.Failing) != 1 || len(snap.Failing[0].Errors) != 1 {
				t.Fatalf("failing: %+v", snap.Failing)
			}
			if e := snap.Failing[0].Errors[0]; e.CreatedAt != nil {
				t.Errorf("NULL created_at read as %v", *e.CreatedAt)
			}
			if len(snap.Unreadable) != 0 || snap.Counts.UnreadableRows != 0 {
				t.Errorf("NULL is not unreadable: %+v", snap.Unreadable)
			}
			b, err := json.Marshal(check.Judge(snap, check.Thresholds{}))
			if err != nil {
				t.Fatal(err)
			}
			for _, doc := range []string{string(b), mustJSON(t, snap)} {
				if !strings.Contains(doc, `"created_at":null`) || strings.Contains(doc, "0001-01-01") {
					t.Errorf("created_at is not null in %s", doc)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
