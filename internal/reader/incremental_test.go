package reader_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// sameAnswers compares the parts of two snapshots the daemon and check
// judge: problems, pending work and counts (traces may be cut in a mark).
func sameAnswers(t *testing.T, step string, got, want *check.Snapshot) {
	t.Helper()
	type errSummary struct{ ID, Exception, Message string }
	type failure struct {
		ID, Name string
		Errors   []errSummary
	}
	summary := func(s *check.Snapshot) any {
		var fs []failure
		for _, f := range s.Failing {
			x := failure{ID: f.ID, Name: f.Name}
			for _, e := range f.Errors {
				x.Errors = append(x.Errors, errSummary{e.ID, e.Exception, e.Message})
			}
			fs = append(fs, x)
		}
		var running []string
		for _, a := range s.InProgress {
			running = append(running, fmt.Sprintf("%s %s %v", a.ID, a.Name, a.RunningFor.Std()))
		}
		var scheduled, rolledBack []string
		for _, a := range s.Scheduled {
			scheduled = append(scheduled, fmt.Sprintf("%s %s %v", a.ID, a.Name, a.RunningFor.Std()))
		}
		for _, r := range s.RolledBack {
			cause := ""
			if r.Cause != nil {
				cause = r.Cause.ID
			}
			rolledBack = append(rolledBack, r.ID+" "+r.Name+" caused by "+cause)
		}
		var pending, migs []string
		for _, f := range s.PendingOperations {
			pending = append(pending, f.Name)
		}
		for _, f := range s.PendingMigrations {
			migs = append(migs, f.Name)
		}
		return []any{fs, running, scheduled, rolledBack, pending, migs, s.Counts, s.LastCompleted}
	}
	if g, w := summary(got), summary(want); !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		t.Errorf("%s: incremental read differs from a full read:\n got %s\nwant %s", step, gj, wj)
	}
}

// TestReadSinceAnswersAsAFullRead changes an application step by step (new
// failures, recoveries, open rows that complete in place, late commits
// behind the watermark, new and deleted files) and compares each
// incremental read with a full read of the same state.
func TestReadSinceAnswersAsAFullRead(t *testing.T) {
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		schema := dbtest.Schema{IDType: idType}
		a := newApp(t, d, schema, dbtest.AppFiles{Operations: []string{opA, opB, opC}, Migrations: []string{mig1}})
		a.db.InsertMigrations(t, schema, mig1)
		a.db.InsertOps(t, schema,
			dbtest.Op{Name: opA, ExecutedAt: day + "08:00:00", CompletedAt: day + "08:00:01"},
			dbtest.Op{Name: opB + ".php", ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01", Errors: []dbtest.Err{{Exception: "E", Message: "b failed", Trace: "#0"}}},
		)
		src := a.resolve(t, laravel.Settings{})
		ctx := context.Background()
		db, err := reader.Open(ctx, src.Conn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		now := baseNow
		var mark *check.Mark
		watch := []string{opA, opB, opC, opD}
		step := func(name string) {
			t.Helper()
			now = now.Add(time.Minute)
			snap, m, err := reader.ReadSince(ctx, db, src, now, mark, reader.IncrementalOptions{Watch: watch})
			if err != nil {
				t.Fatalf("%s: ReadSince: %v", name, err)
			}
			full, err := reader.Read(ctx, db, src, now, reader.ReadOptions{Watch: watch})
			if err != nil {
				t.Fatalf("%s: Read: %v", name, err)
			}
			sameAnswers(t, name, snap, full)
			// Through JSON, as the state file keeps it.
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			mark = &check.Mark{}
			if err := json.Unmarshal(b, mark); err != nil {
				t.Fatal(err)
			}
		}
		step("first read (full)")
		step("unchanged")

		ids := a.db.InsertOps(t, schema, dbtest.Op{Name: opC, ExecutedAt: day + "11:00:00", Type: "async"})
		step("an operation starts")
		a.db.Exec(t, "update operations set completed_at = ?, state = 'completed' where id = ?", day+"11:00:30", ids[0])
		step("the open row completes in place")

		a.db.InsertOps(t, schema, dbtest.Op{Name: opA, ExecutedAt: day + "11:30:00", FailedAt: day + "11:30:01", Errors: []dbtest.Err{{Exception: "F", Message: "a failed again", Trace: "#0 x"}}})
		step("a completed operation fails again")
		// A row that commits late, started before the newest seen row but
		// within the look-back window.
		a.db.InsertOps(t, schema, dbtest.Op{Name: opB, ExecutedAt: day + "11:25:00", CompletedAt: day + "11:25:05"})
		step("a late commit recovers b behind the watermark")

		writeFile(t, a.dir, "database/operations/"+opD+".php", dbtest.OperationPHP)
		step("a new file")
		a.db.InsertOps(t, schema, dbtest.Op{Name: opD + ".php", ExecutedAt: day + "11:40:00", CompletedAt: day + "11:40:02"})
		step("the new operation completes")
		if err := os.Remove(filepath.Join(a.dir, "database", "operations", opC+".php")); err != nil {
			t.Fatal(err)
		}
		step("a file deleted")
		a.db.InsertOps(t, schema, dbtest.Op{Name: opA + ".php", ExecutedAt: day + "11:50:00", CompletedAt: day + "11:50:01"})
		step("a recovers in the other spelling")

		// sequencer:scheduled queues a Scheduled operation; a deploy
		// fails, and rolls back the operation it ran before.
		writeFile(t, a.dir, "database/operations/"+opC+".php", dbtest.ScheduledPHP)
		a.db.InsertOps(t, schema, dbtest.Op{Name: opC, Type: "scheduled", ExecutedAt: day + "11:55:00"})
		step("a Scheduled operation waits for its time")
		rb := a.db.InsertOps(t, schema, dbtest.Op{Name: opD, ExecutedAt: day + "11:56:00", CompletedAt: day + "11:56:01"})
		step("an operation completes")
		a.db.InsertOps(t, schema, dbtest.Op{Name: opA, ExecutedAt: day + "11:56:05", FailedAt: day + "11:56:06", Errors: []dbtest.Err{{Exception: "E", Message: "deploy failed", Trace: "#0"}}})
		a.db.Exec(t, "update operations set rolled_back_at = ?, state = 'rolled_back' where id = ?", day+"11:56:07", rb[0])
		step("the next one fails and the first is rolled back")
		step("unchanged with a rollback")

		// A deleted row is seen at the next reconcile, not before.
		a.db.Exec(t, "delete from operations where name = ? and executed_at = ?", opD+".php", day+"11:40:00")
		now = now.Add(2 * time.Hour)
		step("a deleted row, after the reconcile interval")
	})
}

// TestUnchangedReadSinceCostDoesNotGrow reads twice with no change in
// between, over a history ten times longer, in both shapes, on every
// database: the second, incremental read must fetch the same rows and issue
// the same queries at both sizes.
func TestUnchangedReadSinceCostDoesNotGrow(t *testing.T) {
	const bound = 100
	for _, d := range dbtest.All {
		for _, sh := range costShapes {
			t.Run(string(d)+"/"+string(sh.shape), func(t *testing.T) {
				t.Parallel()
				var costs []reader.Stats
				for _, h := range []dbtest.History{sh.small, sh.large} {
					db := dbtest.NewDatabase(t, d)
					dbtest.CreateSchema(t, db, dbtest.Schema{})
					g := db.InsertHistory(t, h)
					dir := t.TempDir()
					dbtest.WriteApp(t, dir, db, dbtest.AppFiles{Operations: g.Files})
					src, err := laravel.Resolve(laravel.Settings{AppDir: dir})
					if err != nil {
						t.Fatal(err)
					}
					ctx := context.Background()
					cdb, err := reader.Open(ctx, src.Conn)
					if err != nil {
						t.Fatal(err)
					}
					_, mark, err := reader.ReadSince(ctx, cdb, src, baseNow, nil, reader.IncrementalOptions{})
					if err != nil {
						t.Fatal(err)
					}
					before := cdb.Stats()
					snap, _, err := reader.ReadSince(ctx, cdb, src, baseNow.Add(time.Minute), mark, reader.IncrementalOptions{})
					if err != nil {
						t.Fatal(err)
					}
					c := cdb.Stats().Sub(before)
					cdb.Close()
					wantGenerated(t, snap, g)
					costs = append(costs, c)
					t.Logf("%d rows: unchanged read: %d queries, %d rows fetched", g.Rows, c.Queries, c.Rows)
				}
				small, large := costs[0], costs[1]
				if large != small {
					t.Errorf("an unchanged incremental read grew with history: %+v at the small size, %+v at ten times the rows", small, large)
				}
				if large.Rows > bound {
					t.Errorf("an unchanged incremental read fetched %d rows, want at most %d", large.Rows, bound)
				}
			})
		}
	}
}

// TestReadSinceFromAnEmptyTableSeesTheFirstFailure reads an application
// whose operations table is empty (no watermark yet), then a failure
// arrives: the next incremental read must report it, not wait for the
// reconcile.
func TestReadSinceFromAnEmptyTableSeesTheFirstFailure(t *testing.T) {
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			schema := dbtest.Schema{}
			a := newApp(t, d, schema, dbtest.AppFiles{Operations: []string{opA}})
			src := a.resolve(t, laravel.Settings{})
			ctx := context.Background()
			db, err := reader.Open(ctx, src.Conn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, mark, err := reader.ReadSince(ctx, db, src, baseNow, nil, reader.IncrementalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			a.db.InsertOps(t, schema, dbtest.Op{Name: opA, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01"})
			snap, _, err := reader.ReadSince(ctx, db, src, baseNow.Add(time.Minute), mark, reader.IncrementalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Failing) != 1 {
				t.Errorf("failing = %v after the first failure in an empty table, want it", snap.Failing)
			}
		})
	}
}

// longTrace is a PHP trace of frames frames (about 120 bytes each).
func longTrace(frames int) string {
	var b strings.Builder
	for i := range frames {
		fmt.Fprintf(&b, "#%d /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(%d): Illuminate\\Database\\Connection->run()\n", i, 800+i)
	}
	fmt.Fprintf(&b, "#%d {main}", frames)
	return b.String()
}

// markTraceBytes is the trace text a mark keeps of its failing runs.
func markTraceBytes(m *check.Mark) (n int) {
	for _, f := range m.Failing {
		for _, e := range f.Errors {
			n += len(e.Trace)
		}
	}
	return n
}

// TestMarkHoldsABoundedHeadOfEachTrace: a daemon holds a mark per
// application between ticks, so what a mark holds of a failing run's
// trace is bounded whatever the trace's length, on the heap as in the
// state file: a cut that shared the read's text would keep the whole
// trace alive.
func TestMarkHoldsABoundedHeadOfEachTrace(t *testing.T) {
	const perTrace = 1 << 10 // the head a mark keeps of each trace
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) { // not parallel: it weighs the heap
			heap := func() int64 {
				var m runtime.MemStats
				runtime.GC()
				runtime.GC()
				runtime.ReadMemStats(&m)
				return int64(m.HeapAlloc)
			}
			var sizes []int
			for _, frames := range []int{50, 20000} { // 6 KB and 2.4 MB
				schema := dbtest.Schema{}
				a := newApp(t, d, schema, dbtest.AppFiles{Operations: []string{opA, opB}})
				trace := longTrace(frames)
				for _, name := range []string{opA, opB} {
					a.db.InsertOps(t, schema, dbtest.Op{Name: name, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01",
						Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "boom", Trace: trace}}})
				}
				src := a.resolve(t, laravel.Settings{})
				ctx := context.Background()
				db, err := reader.Open(ctx, src.Conn)
				if err != nil {
					t.Fatal(err)
				}
				before := heap()
				snap, mark, err := reader.ReadSince(ctx, db, src, baseNow, nil, reader.IncrementalOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if got := len(snap.Failing[0].Errors[0].Trace); got != len(trace) {
					t.Fatalf("the read's trace has %d bytes, want all %d", got, len(trace))
				}
				snap = nil
				db.Close() // its buffers grew to the largest row
				held := heap() - before
				if n := markTraceBytes(mark); n > 2*perTrace {
					t.Errorf("%d-byte traces: the mark keeps %d bytes of trace for 2 errors, want at most %d", len(trace), n, 2*perTrace)
				}
				if held > 256<<10 {
					t.Errorf("%d-byte traces: holding the mark holds %d bytes of heap, want at most 256 KB", len(trace), held)
				}
				b, err := json.Marshal(mark)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(b))
				t.Logf("%d-byte traces: mark %d bytes encoded, %d bytes of trace, %d bytes of heap held", len(trace), len(b), markTraceBytes(mark), held)
			}
			if sizes[1] > sizes[0]+64 {
				t.Errorf("the encoded mark grew with the traces' length: %d bytes with 6 KB traces, %d with 2.4 MB", sizes[0], sizes[1])
			}
		})
	}
}

// TestReadSinceReadsWholeErrorsOfUnreportedFailures: a mark keeps only the
// head of each trace, so a failing run it knows whose alert is not made
// yet (a queued run in its retry grace) has its errors read again, whole;
// a reported one is answered from the mark.
func TestReadSinceReadsWholeErrorsOfUnreportedFailures(t *testing.T) {
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			schema := dbtest.Schema{}
			a := newApp(t, d, schema, dbtest.AppFiles{Operations: []string{opA}})
			trace := longTrace(200)
			a.db.InsertOps(t, schema, dbtest.Op{Name: opA, ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01",
				Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "boom", Trace: trace}}})
			src := a.resolve(t, laravel.Settings{})
			ctx := context.Background()
			db, err := reader.Open(ctx, src.Conn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, mark, err := reader.ReadSince(ctx, db, src, baseNow, nil, reader.IncrementalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				reported  bool
				wantBytes int
			}{{false, len(trace)}, {true, markTraceBytes(mark)}} {
				before := db.Stats()
				snap, _, err := reader.ReadSince(ctx, db, src, baseNow.Add(time.Minute), mark, reader.IncrementalOptions{
					Reported: func(check.Failure) bool { return tc.reported }})
				if err != nil {
					t.Fatal(err)
				}
				cost := db.Stats().Sub(before)
				if len(snap.Failing) != 1 || len(snap.Failing[0].Errors) != 1 {
					t.Fatalf("reported %v: failing = %+v, want the one failure with its error", tc.reported, snap.Failing)
				}
				if got := len(snap.Failing[0].Errors[0].Trace); got != tc.wantBytes {
					t.Errorf("reported %v: the trace has %d bytes, want %d (whole: %d, the mark's: %d)", tc.reported, got, tc.wantBytes, len(trace), markTraceBytes(mark))
				}
				t.Logf("reported %v: %d queries, %d rows", tc.reported, cost.Queries, cost.Rows)
			}
		})
	}
}
