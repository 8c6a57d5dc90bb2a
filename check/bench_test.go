package check_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/check/dbtest"
)

// EnvBenchLarge set to 1 lets BenchmarkRead generate and read a history of
// a million rows (about 20 s of set-up).
const EnvBenchLarge = "SEQWATCH_BENCH_LARGE"

// benchData is what ../bench/data.sql makes, whatever the history size.
const (
	benchPending    = 20 // operation files without a completed row
	benchInProgress = 3
	benchMigrations = 200
)

// BenchmarkRead reads a snapshot, as `seqwatch check` does, of a PostgreSQL
// history made by ../bench/data.sql (the data bench/run.sh uses): 10,000
// operation files, ~3% failed rows with 4-8 KB traces, 5 still failing.
//
//	go test ./check -run '^$' -bench Read -benchmem
//	SEQWATCH_BENCH_LARGE=1 go test ./check -run '^$' -bench 'Read/rows=1000000'
func BenchmarkRead(b *testing.B) {
	for _, rows := range []int{10_000, 100_000, 1_000_000} {
		b.Run("rows="+strconv.Itoa(rows), func(b *testing.B) {
			if rows >= 1_000_000 && os.Getenv(EnvBenchLarge) != "1" {
				b.Skipf("set %s=1 to generate and read a million rows", EnvBenchLarge)
			}
			src := newBenchApp(b, rows, 5)
			ctx := context.Background()
			db, err := check.Open(ctx, src.Conn)
			if err != nil {
				b.Fatalf("Open: %v", err)
			}
			b.Cleanup(func() { db.Close() })
			now := time.Now()
			b.ReportAllocs()
			var snap *check.Snapshot
			for b.Loop() {
				if snap, err = check.Read(ctx, db, src, now, check.ReadOptions{}); err != nil {
					b.Fatalf("Read: %v", err)
				}
			}
			b.ReportMetric(float64(rows), "rows/op")
			checkBenchSnapshot(b, snap, rows, 5)
		})
	}
}

// TestBenchDataMatchesItsDescription keeps ../bench/data.sql honest: the
// snapshot of what it makes has the counts its header promises.
func TestBenchDataMatchesItsDescription(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 10,000 rows")
	}
	for _, failing := range []int{5, 100} {
		t.Run(fmt.Sprintf("failing=%d", failing), func(t *testing.T) {
			t.Parallel()
			rows := 10_000
			if failing > 5 {
				rows = 20_000
			}
			src := newBenchApp(t, rows, failing)
			ctx := context.Background()
			db, err := check.Open(ctx, src.Conn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			snap, err := check.Read(ctx, db, src, time.Now(), check.ReadOptions{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			checkBenchSnapshot(t, snap, rows, failing)
			hist, err := check.Read(ctx, db, src, time.Now(), check.ReadOptions{History: true})
			if err != nil {
				t.Fatalf("Read with history: %v", err)
			}
			checkBenchHistory(t, hist, rows, failing)
			for _, f := range snap.Failing {
				if len(f.Errors) == 0 || len(f.Errors) > 2 {
					t.Errorf("failing row %s of %s has %d error rows, want 1 or 2", f.ID, f.Name, len(f.Errors))
				}
				for _, e := range f.Errors {
					if n := len(e.Trace); n < 4000 || n > 8500 {
						t.Errorf("trace of error %s is %d bytes, want 4-8 KB", e.ID, n)
					}
				}
			}
		})
	}
}

// checkBenchSnapshot fails unless snap has the shape data.sql promises.
func checkBenchSnapshot(tb testing.TB, snap *check.Snapshot, rows, failing int) {
	tb.Helper()
	c := snap.Counts
	pendingFailing := min(failing, 5)
	// The failing operations that never completed fail twice each; those
	// beyond 5 fail once, after completing.
	wantFailingRows := 2*pendingFailing + max(failing-5, 0)
	got := []struct {
		what      string
		got, want int
	}{
		{"failing operations", c.Failing, failing},
		{"failing rows", len(snap.Failing), wantFailingRows},
		{"in progress", c.InProgress, benchInProgress},
		{"pending operations", c.PendingOperations, benchPending},
		{"pending migrations", c.PendingMigrations, 0},
		{"completed operations", c.Completed, 10_000 - benchPending},
		{"deferred exhausted", c.DeferredExhausted, 1},
	}
	for _, g := range got {
		if g.got != g.want {
			tb.Errorf("%s = %d, want %d", g.what, g.got, g.want)
		}
	}
}

// checkBenchHistory fails unless the history counts (read with History)
// add up to the rows data.sql made.
func checkBenchHistory(tb testing.TB, snap *check.Snapshot, rows, failing int) {
	tb.Helper()
	c := snap.Counts
	wantFailingRows := 2*min(failing, 5) + max(failing-5, 0)
	if c.Rows != rows {
		tb.Errorf("rows = %d, want %d", c.Rows, rows)
	}
	if c.FailedRows < wantFailingRows || c.FailedRows+c.CompletedRows+benchInProgress != rows {
		tb.Errorf("failed rows %d + completed rows %d + in progress %d != %d rows", c.FailedRows, c.CompletedRows, benchInProgress, rows)
	}
}

// newBenchApp creates a PostgreSQL database with Sequencer's tables, fills
// it with ../bench/data.sql, writes the Laravel application around it and
// returns its resolved source.
func newBenchApp(tb testing.TB, rows, failing int) check.Source {
	tb.Helper()
	script, err := os.ReadFile(filepath.Join("..", "bench", "data.sql"))
	if err != nil {
		tb.Fatalf("read the generator: %v", err)
	}
	db := dbtest.NewDatabase(tb, dbtest.Postgres)
	dbtest.CreateSchema(tb, db, dbtest.Schema{WithDeferred: true})

	ctx := context.Background()
	// One connection: the settings and bench_files are the session's.
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"SET bench.rows = '" + strconv.Itoa(rows) + "'",
		"SET bench.failing = '" + strconv.Itoa(failing) + "'",
		string(script), // no arguments: sent as one simple query
		// As autovacuum would have done on a live table; VACUUM cannot run
		// inside the script's implicit transaction.
		"VACUUM",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			tb.Fatalf("generate %d rows: %v", rows, err)
		}
	}
	files := dbtest.AppFiles{}
	res, err := conn.QueryContext(ctx, "SELECT kind, name FROM bench_files ORDER BY kind, i")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Close()
	for res.Next() {
		var kind, name string
		if err := res.Scan(&kind, &name); err != nil {
			tb.Fatal(err)
		}
		if kind == "operation" {
			files.Operations = append(files.Operations, name)
		} else {
			files.Migrations = append(files.Migrations, name)
		}
	}
	if err := res.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(files.Operations) != 10_000 || len(files.Migrations) != benchMigrations {
		tb.Fatalf("bench_files holds %d operations and %d migrations, want 10000 and %d", len(files.Operations), len(files.Migrations), benchMigrations)
	}

	dir := tb.TempDir()
	dbtest.WriteApp(tb, dir, db, files)
	src, err := check.Resolve(check.Settings{AppDir: dir})
	if err != nil {
		tb.Fatalf("Resolve: %v", err)
	}
	return src
}
