package reader

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
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

// TestMariaDBPendingProbeReadsTheIndexOnly holds status --pending's probe
// on MariaDB to a few index reads a file and no temporary table, however
// many runs each name has, whatever the collation of operations.name: 2,000
// names run 10 times each (the fleet benchmark's shape), their 2,000 files
// and 45 never run, with and without the newest skips. The server's own
// counters say what the probe cost: Handler_read_key, _next and _prev
// (index dives and entries walked), _rnd_next (rows of the name list, or of
// a scan) and Created_tmp_tables. The UNION ALL of
// one-row SELECTs it replaced materialized three temporary tables per
// batch of 2,000 names; JSON_TABLE with its own collation failed against
// a utf8mb4_general_ci column and scanned the table per file against a
// latin1 one.
func TestMariaDBPendingProbeReadsTheIndexOnly(t *testing.T) {
	for _, column := range []string{"", "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", "CHARACTER SET latin1"} {
		t.Run("name "+column, func(t *testing.T) {
			testPendingProbe(t, column)
		})
	}
}

func testPendingProbe(t *testing.T, column string) {
	ctx := context.Background()
	db := dbtest.NewDatabase(t, dbtest.MySQL)
	dbtest.CreateSchema(t, db, dbtest.Schema{})
	if column != "" {
		if _, err := db.SQL.Exec("ALTER TABLE operations MODIFY name VARCHAR(255) " + column + " NOT NULL"); err != nil {
			t.Fatal(err)
		}
	}
	g := db.InsertHistory(t, dbtest.History{Shape: dbtest.ManyRunsPerName, Rows: 20000, Names: 2000, Files: 2000, NeverRun: 45})
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
	r := reader{db: cdb, d: cdb.d, t: laravel.Tables{}.WithDefaults(), loc: time.UTC, q: sc}
	files := make([]check.PendingFile, len(g.Files))
	for i, name := range g.Files {
		files[i] = check.PendingFile{Name: name, File: name + ".php"}
	}
	for _, skips := range []bool{false, true} {
		reads, tmp := handlerReads(t, sc), tmpTables(t, sc)
		got, err := r.pendingFiles(ctx, pendingList(files), skips)
		if err != nil {
			t.Fatal(err)
		}
		reads, tmp = handlerReads(t, sc)-reads, tmpTables(t, sc)-tmp
		var names []string
		for _, f := range got {
			names = append(names, f.Name)
		}
		if !slices.Equal(names, g.Pending) {
			t.Errorf("skips=%v: pending = %v, want %v", skips, names, g.Pending)
		}
		per := float64(reads) / float64(len(files))
		t.Logf("skips=%v: %d files, %d handler reads (%.1f a file), %d temporary tables", skips, len(files), reads, per, tmp)
		if tmp != 0 {
			t.Errorf("skips=%v: the probe created %d temporary tables, want none", skips, tmp)
		}
		// Without skips: the file's row of the list, a dive per spelling
		// and the first completed run. With them, two more walks per
		// spelling for each pending file, stopping at the newest skip.
		if limit := map[bool]float64{false: 4, true: 10}[skips]; per > limit {
			t.Errorf("skips=%v: the probe read %.1f rows and index entries a file, want at most %.0f: it walks the runs of each name or scans the table", skips, per, limit)
		}
	}
}

// tmpTables is the session's Created_tmp_tables (in memory and on disk).
func tmpTables(t *testing.T, c *sql.Conn) int64 {
	t.Helper()
	return sessionStatusSum(t, c, "LIKE 'Created_tmp_tables'")
}

func TestHasJSONTableFollowsTheServerVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{
		{"10.11.19-MariaDB-0+deb12u1", true},
		{"10.6.0-MariaDB", true},
		{"10.5.27-MariaDB-log", false},
		{"11.4.2-MariaDB", true},
		{"5.5.5-10.11.6-MariaDB", false}, // the old replication prefix: not trusted, the UNION ALL
		{"8.0.36", true},
		{"8.0.3-rc-log", false},
		{"5.7.44-log", false},
		{"9.1.0", true},
		{"", false},
	} {
		if got := hasJSONTable(tc.version); got != tc.want {
			t.Errorf("hasJSONTable(%q) = %v, want %v", tc.version, got, tc.want)
		}
	}
}
