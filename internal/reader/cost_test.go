package reader_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// costShapes are the two shapes of history, each at a small and a ten
// times larger size with the same problems and the same files.
var costShapes = []struct {
	shape        dbtest.Shape
	small, large dbtest.History
}{
	{dbtest.OneRunPerName,
		dbtest.History{Shape: dbtest.OneRunPerName, Rows: 4000, Files: 300},
		dbtest.History{Shape: dbtest.OneRunPerName, Rows: 40000, Files: 300}},
	{dbtest.ManyRunsPerName,
		dbtest.History{Shape: dbtest.ManyRunsPerName, Rows: 4000, Names: 300},
		dbtest.History{Shape: dbtest.ManyRunsPerName, Rows: 40000, Names: 300}},
}

// readCost is what one read fetched.
type readCost struct {
	stats reader.Stats
	snap  *check.Snapshot
}

// readCounted opens the application's database, reads a snapshot with opt
// and returns what the read alone fetched (the connection check and the
// table lookup are the same at every size and included).
func readCounted(t *testing.T, src laravel.Source, opt reader.ReadOptions) readCost {
	t.Helper()
	ctx := context.Background()
	db, err := reader.Open(ctx, src.Conn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := db.Stats()
	snap, err := reader.Read(ctx, db, src, baseNow, opt)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return readCost{stats: db.Stats().Sub(before), snap: snap}
}

// TestReadCostFollowsProblemsNotHistory reads the same problems and files
// over a history ten times longer, in both shapes, with and without the
// database's statistics, on every database: the queries issued and the rows
// fetched (counted at the driver) must not grow, and the answers must be
// right. A reader that loaded the history and dropped it in Go would fetch
// thousands of rows here.
func TestReadCostFollowsProblemsNotHistory(t *testing.T) {
	// Problems: 5 failing (2 failed rows + 2 error rows each), 3 running,
	// 42 never run; a plan fetches at most those rows, the unfinished
	// names, the pending files and a few statistics and catalogue rows.
	const bound = 120
	for _, d := range dbtest.All {
		for _, sh := range costShapes {
			for _, analyze := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/statistics=%v", d, sh.shape, analyze)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					var costs []readCost
					var pendingCosts []reader.Stats
					for _, h := range []dbtest.History{sh.small, sh.large} {
						db := dbtest.NewDatabase(t, d)
						dbtest.CreateSchema(t, db, dbtest.Schema{})
						g := db.InsertHistory(t, h)
						if analyze {
							db.Analyze(t)
						}
						dir := t.TempDir()
						dbtest.WriteApp(t, dir, db, dbtest.AppFiles{Operations: g.Files})
						src, err := laravel.Resolve(laravel.Settings{AppDir: dir})
						if err != nil {
							t.Fatal(err)
						}
						c := readCounted(t, src, reader.ReadOptions{})
						wantGenerated(t, c.snap, g)
						costs = append(costs, c)
						t.Logf("%d rows (%d failed): %d queries, %d rows fetched", g.Rows, g.FailedRows, c.stats.Queries, c.stats.Rows)
						pendingCosts = append(pendingCosts, readCounted(t, src, reader.ReadOptions{SkipProblems: true, LastSkips: true}).stats)
						failedList(t, src, g)
					}
					// status --pending: one probe per file, whatever the history.
					if pendingCosts[1] != pendingCosts[0] {
						t.Errorf("status --pending's read grew with history: %+v, then %+v at ten times the rows", pendingCosts[0], pendingCosts[1])
					}
					// The plan may change with the estimates (MySQL's are
					// sampled): the index walk costs one query and fetches
					// the unfinished names as stored (at most 13: a failing
					// operation may be stored in both spellings) on top.
					small, large := costs[0].stats, costs[1].stats
					if large.Queries > small.Queries+1 || large.Rows > small.Rows+13 {
						t.Errorf("reading grew with history: %d queries, %d rows at the small size; %d queries, %d rows at ten times the rows",
							small.Queries, small.Rows, large.Queries, large.Rows)
					}
					if large.Rows > bound {
						t.Errorf("read fetched %d rows, want at most %d (the problems and the files)", large.Rows, bound)
					}
				})
			}
		}
	}
}

// wantGenerated compares a snapshot with what InsertHistory wrote.
func wantGenerated(t *testing.T, snap *check.Snapshot, g dbtest.Generated) {
	t.Helper()
	var pending []string
	for _, f := range snap.PendingOperations {
		pending = append(pending, f.Name)
	}
	want := append([]string(nil), g.Pending...)
	sort.Strings(want)
	if !reflect.DeepEqual(pending, want) {
		t.Errorf("pending = %v, want %v", pending, want)
	}
	if snap.Counts.Failing != 5 || len(snap.Failing) != 10 {
		t.Errorf("failing: %d operations, %d rows; want 5 and 10", snap.Counts.Failing, len(snap.Failing))
	}
	for _, f := range snap.Failing {
		// 4-8 KB traces (an incremental read answers a reported run
		// with the first frames the mark keeps, up to 1 KB).
		if len(f.Errors) != 1 {
			t.Errorf("failing row %s has %d errors", f.ID, len(f.Errors))
		} else if n := len(f.Errors[0].Trace); n < 700 {
			t.Errorf("failing row %s has a trace of %d bytes", f.ID, n)
		}
	}
	if len(snap.InProgress) != 3 {
		t.Errorf("in progress: %d, want 3", len(snap.InProgress))
	}
	if snap.Counts.Completed != len(g.Files)-len(g.Pending) {
		t.Errorf("completed = %d, want %d", snap.Counts.Completed, len(g.Files)-len(g.Pending))
	}
}

// failedList streams the failed list as status --failed does and checks
// that it fetched the failed rows and their errors and nothing of the
// completed history (thousands of rows here).
func failedList(t *testing.T, src laravel.Source, g dbtest.Generated) {
	t.Helper()
	ctx := context.Background()
	db, err := reader.Open(ctx, src.Conn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := db.Stats()
	h, err := reader.OpenHistory(ctx, db, src)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	n, withTrace, notRead := 0, 0, 0
	atList := db.Stats()
	if err := h.Failed(ctx, false, func(f *check.Failure) error {
		n++
		for _, e := range f.Errors {
			if e.Trace != "" {
				withTrace++
			}
			if e.TraceNotRead {
				notRead++
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("Failed: %v", err)
	}
	got := db.Stats().Sub(before)
	if n != g.FailedRows {
		t.Errorf("status --failed listed %d failed rows, want %d", n, g.FailedRows)
	}
	// The list is one statement, whatever the number of failed rows: the
	// recovered look-ups are index probes inside it, not a query each.
	if q := db.Stats().Sub(atList).Queries; q != 1 {
		t.Errorf("status --failed's list took %d queries, want 1", q)
	}
	// Without -v no trace is read, and each error row that has one (all,
	// here) says so.
	if withTrace != 0 || notRead != g.ErrorRows {
		t.Errorf("status --failed without traces: %d traces read, %d marked as not read; want 0 and %d", withTrace, notRead, g.ErrorRows)
	}
	// One joined row per error row (one each here), a few for the table
	// checks and totals.
	if limit := int64(g.FailedRows + g.ErrorRows + 10); got.Rows > limit {
		t.Errorf("status --failed fetched %d rows for %d failed rows and %d errors, want at most %d: it reads more than the failed list", got.Rows, g.FailedRows, g.ErrorRows, limit)
	}
}
