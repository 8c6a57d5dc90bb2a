package reader

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// TestMariaDBProbeReadsOneRunPerCandidate holds the problem query's probes
// on MariaDB to about one index entry per candidate, however many runs
// each name has: the same 300 names run 13 and then 133 times, and in this
// history a failing name fails every run but its last. The storage engine's
// own counters say what the probes read (Handler_read_key, _next and _prev:
// the index dives and the entries walked; the scan of the table itself is
// Handler_read_rnd_next, and is the scan plan's by design). A probe that
// walked every run of the name, as NOT EXISTS on the name-only index did
// (131 index reads a candidate at 133 runs a name, 13 at 13), fails here.
func TestMariaDBProbeReadsOneRunPerCandidate(t *testing.T) {
	ctx := context.Background()
	for _, rows := range []int{4000, 40000} {
		db := dbtest.NewDatabase(t, dbtest.MySQL)
		dbtest.CreateSchema(t, db, dbtest.Schema{})
		g := db.InsertHistory(t, dbtest.History{Shape: dbtest.ManyRunsPerName, Rows: rows, Names: 300})
		db.Analyze(t)
		cdb, err := Open(ctx, laravel.Conn{Driver: "mysql", Host: db.Host, Port: db.Port, Database: db.Database, Username: db.Username, Password: db.Password})
		if err != nil {
			t.Fatal(err)
		}
		defer cdb.Close()
		sc, err := cdb.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		var candidates int64
		if err := sc.QueryRowContext(ctx, "SELECT COUNT(*) FROM operations o WHERE o.completed_at IS NULL AND (o.failed_at IS NOT NULL OR (o.skipped_at IS NULL AND o.rolled_back_at IS NULL))").Scan(&candidates); err != nil {
			t.Fatal(err)
		}
		r := reader{db: cdb, d: cdb.d, t: laravel.Tables{}.WithDefaults(), loc: time.UTC, q: sc}
		before := indexReads(t, sc)
		now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC) // after the generated history
		set, err := r.problems(ctx, false, nil, now, now.Add(-7*24*time.Hour).Format(time.DateTime))
		if err != nil {
			t.Fatal(err)
		}
		reads := indexReads(t, sc) - before
		failing, running := set.result()
		if len(failing) != 10 || len(running) != 3 {
			t.Errorf("%d rows: %d failing rows and %d running, want 10 and 3", g.Rows, len(failing), len(running))
		}
		per := float64(reads) / float64(candidates)
		t.Logf("%d rows, %d runs a name: %d candidates, %d index reads (%.1f a candidate)", g.Rows, g.Rows/300, candidates, reads, per)
		// Two probes a candidate (both spellings): a dive each, and the
		// newest completed run, usually the first entry walked.
		if per > 4 {
			t.Errorf("%d rows: the probes read %.1f index entries a candidate, want at most 4: they walk the runs of each name", g.Rows, per)
		}
	}
}

// indexReads is the session's Handler_read_key + _next + _prev: the index
// dives and index entries the storage engine has read.
func indexReads(t *testing.T, c *sql.Conn) int64 {
	t.Helper()
	return sessionStatusSum(t, c, "WHERE Variable_name IN ('Handler_read_key', 'Handler_read_next', 'Handler_read_prev')")
}
