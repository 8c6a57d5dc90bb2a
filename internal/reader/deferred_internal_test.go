package reader

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// TestDeferredReadFollowsProblems reads deferred_operations with the same
// problems (three pending rows past due, two in processing, two exhausted)
// under a history ten times longer (completed rows, and pending rows
// waiting for a time years away), with and without statistics, on every
// database. The rows each database examines for the read, counted by the
// database itself, must not grow with that history: MariaDB's Handler_read_*
// counters of the session, PostgreSQL's EXPLAIN ANALYZE of each statement
// (rows read at every scan of the table, filtered out or not), and for
// SQLite, which counts nothing it can be asked for, a plan that searches
// the (status, due_at) index and never scans the table. The rows returned
// must not grow either, and the answer must be right.
//
// SEQWATCH_DEFERRED_ROWS sets the larger history (default 40,000) and -v
// prints each plan: what docs/performance.md shows at 100k rows.
func TestDeferredReadFollowsProblems(t *testing.T) {
	large := 40_000
	if v, err := strconv.Atoi(os.Getenv("SEQWATCH_DEFERRED_ROWS")); err == nil && v > 0 {
		large = v
	}
	sizes := []int{large / 10, large}
	for _, d := range dbtest.All {
		for _, analyze := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/statistics=%v", d, analyze), func(t *testing.T) {
				t.Parallel()
				var costs []deferredCost
				for _, n := range sizes {
					c := deferredReadCost(t, d, n, analyze)
					t.Logf("%d history rows: %d rows examined, %d rows returned, %d queries\n%s", n, c.examined, c.stats.Rows, c.stats.Queries, c.plans)
					costs = append(costs, c)
				}
				small, big := costs[0], costs[1]
				if big.stats != small.stats {
					t.Errorf("the deferred read returned %+v at %d history rows, %+v at %d", small.stats, sizes[0], big.stats, sizes[1])
				}
				// A few rows of slack: MariaDB's counters include one index
				// dive per range and the SHOW STATUS between them.
				if big.examined > small.examined+5 || big.examined > 60 {
					t.Errorf("the deferred read examined %d rows at %d history rows and %d at %d: it reads the history, not the problems\n%s",
						small.examined, sizes[0], big.examined, sizes[1], big.plans)
				}
			})
		}
	}
}

// deferredCost is what one deferred read cost: rows examined by the
// database (-1 where it cannot count), what the driver saw, and the plans.
type deferredCost struct {
	examined int64
	stats    Stats
	plans    string
}

// deferredNow is when the guard's snapshot is taken: after the history,
// years before the waiting rows.
var deferredNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// deferredReadCost builds a deferred_operations table of history rows
// around the guard's problems and reads it once.
func deferredReadCost(t *testing.T, d dbtest.Dialect, history int, analyze bool) deferredCost {
	t.Helper()
	ctx := context.Background()
	db := dbtest.NewDatabase(t, d)
	schema := dbtest.Schema{WithDeferred: true}
	dbtest.CreateSchema(t, db, schema)
	db.InsertDeferredHistory(t, history-history/10, history/10)
	ago := func(h time.Duration) string { return deferredNow.Add(-h).Format(time.DateTime) }
	db.InsertDeferred(t, schema,
		dbtest.Deferred{Operation: "App\\Deferred\\Overdue", DueAt: ago(72 * time.Hour)},
		dbtest.Deferred{Operation: "App\\Deferred\\Overdue", DueAt: ago(2 * time.Hour)},
		dbtest.Deferred{Operation: "App\\Deferred\\Due", DueAt: ago(time.Minute)},
		dbtest.Deferred{Operation: "App\\Deferred\\Soon", DueAt: deferredNow.Add(time.Minute).Format(time.DateTime)},
		dbtest.Deferred{Operation: "App\\Deferred\\Stuck", DueAt: ago(4 * time.Hour), Status: "processing", Attempts: 1, ReservedAt: ago(3 * time.Hour)},
		dbtest.Deferred{Operation: "App\\Deferred\\Running", DueAt: ago(10 * time.Minute), Status: "processing", Attempts: 1, ReservedAt: ago(5 * time.Minute)},
		dbtest.Deferred{Operation: "App\\Deferred\\Broken", DueAt: ago(48 * time.Hour), Status: "failed", Attempts: 3, FailedAt: ago(47 * time.Hour), LastError: "boom"},
		dbtest.Deferred{Operation: "App\\Deferred\\Broken", DueAt: ago(24 * time.Hour), Status: "failed", Attempts: 3, FailedAt: ago(23 * time.Hour), LastError: "boom"},
		dbtest.Deferred{Operation: "App\\Deferred\\Cancelled", DueAt: ago(24 * time.Hour), Status: "cancelled"},
	)
	if analyze {
		q := map[dbtest.Dialect]string{dbtest.Postgres: "ANALYZE deferred_operations", dbtest.MySQL: "ANALYZE TABLE deferred_operations", dbtest.SQLite: "ANALYZE"}[d]
		if _, err := db.SQL.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn := laravel.Conn{Driver: string(d), Host: db.Host, Port: db.Port, Database: db.Database, Username: db.Username, Password: db.Password}
	if d == dbtest.SQLite {
		conn.Database = db.Path
	}
	cdb, err := Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer cdb.Close()
	// One connection, so that MariaDB's session counters are the read's.
	sc, err := cdb.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	r := reader{db: cdb, d: cdb.d, t: laravel.Tables{}.WithDefaults(), loc: time.UTC, q: sc}
	c := deferredCost{examined: -1}
	summary, exhausted := r.deferredQueries(deferredNow)
	var handlers int64
	if d == dbtest.MySQL {
		handlers = handlerReads(t, sc)
	}
	before := cdb.Stats()
	got, err := r.deferred(ctx, deferredNow)
	if err != nil {
		t.Fatalf("deferred: %v", err)
	}
	c.stats = cdb.Stats().Sub(before)
	switch d {
	case dbtest.MySQL:
		c.examined = handlerReads(t, sc) - handlers
		c.plans = mariadbPlans(t, sc, summary, exhausted)
	case dbtest.Postgres:
		c.examined, c.plans = postgresExamined(t, sc, summary, exhausted)
	default:
		c.plans = sqlitePlans(t, sc, summary, exhausted)
		c.examined = 0
		// Each part a search of the index: the due pending rows by a
		// range of both columns, the processing and failed rows by status.
		if strings.Contains(c.plans, "SCAN") || strings.Count(c.plans, "SEARCH deferred_operations USING") != 3 ||
			strings.Count(c.plans, "deferred_operations_status_due_at_index (status=? AND due_at<?)") != 1 ||
			strings.Count(c.plans, "deferred_operations_status_due_at_index (status=?)") != 2 {
			t.Errorf("SQLite's plan does not search the (status, due_at) index for each part of the read (the pending rows by a range of due_at):\n%s", c.plans)
		}
	}
	if got.Pending != 3 || got.Processing != 2 || len(got.Exhausted) != 2 {
		t.Errorf("deferred = %d pending, %d processing, %d exhausted; want 3 (due at or before now), 2 and 2", got.Pending, got.Processing, len(got.Exhausted))
	}
	if want := deferredNow.Add(-72 * time.Hour); got.OldestDueAt == nil || !got.OldestDueAt.Equal(want) {
		t.Errorf("OldestDueAt = %v, want %v", got.OldestDueAt, want)
	}
	if want := deferredNow.Add(-3 * time.Hour); got.OldestReservedAt == nil || !got.OldestReservedAt.Equal(want) {
		t.Errorf("OldestReservedAt = %v, want %v", got.OldestReservedAt, want)
	}
	return c
}

// handlerReads is the sum of the session's Handler_read_* counters:
// every row or index entry the storage engine handed to the server.
func handlerReads(t *testing.T, c *sql.Conn) int64 {
	t.Helper()
	return sessionStatusSum(t, c, "LIKE 'Handler_read%'")
}

// sessionStatusSum adds up MariaDB's session counters that SHOW SESSION
// STATUS selects with filter (a LIKE or WHERE clause).
func sessionStatusSum(t *testing.T, c *sql.Conn, filter string) int64 {
	t.Helper()
	rows, err := c.QueryContext(context.Background(), "SHOW SESSION STATUS "+filter)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sum
}

// mariadbPlans is MariaDB's EXPLAIN of each statement, one line per table.
func mariadbPlans(t *testing.T, c *sql.Conn, stmts ...statement) string {
	t.Helper()
	var b strings.Builder
	for _, s := range stmts {
		rows, err := c.QueryContext(context.Background(), "EXPLAIN "+s.q, s.args...)
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var f []string
			for i, v := range vals {
				if v.Valid {
					f = append(f, cols[i]+"="+v.String)
				}
			}
			b.WriteString("  " + strings.Join(f, " ") + "\n")
		}
		rows.Close()
	}
	return b.String()
}

// postgresExamined runs EXPLAIN (ANALYZE, FORMAT JSON) of each statement
// and adds up, at every scan of a table, the rows it read: those it
// returned and those its filters removed, times its loops.
func postgresExamined(t *testing.T, c *sql.Conn, stmts ...statement) (int64, string) {
	t.Helper()
	var sum int64
	var b strings.Builder
	var walk func(node map[string]any, depth int)
	walk = func(node map[string]any, depth int) {
		num := func(k string) int64 { f, _ := node[k].(float64); return int64(f) }
		if rel, ok := node["Relation Name"].(string); ok {
			read := (num("Actual Rows") + num("Rows Removed by Filter") + num("Rows Removed by Index Recheck")) * max(num("Actual Loops"), 1)
			sum += read
			fmt.Fprintf(&b, "  %s%s on %s %v: %d rows read\n", strings.Repeat("  ", depth), node["Node Type"], rel, node["Index Cond"], read)
		} else {
			fmt.Fprintf(&b, "  %s%s\n", strings.Repeat("  ", depth), node["Node Type"])
		}
		kids, _ := node["Plans"].([]any)
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				walk(m, depth+1)
			}
		}
	}
	for _, s := range stmts {
		var out string
		if err := c.QueryRowContext(context.Background(), "EXPLAIN (ANALYZE, FORMAT JSON) "+s.q, s.args...).Scan(&out); err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		var plans []struct {
			Plan map[string]any `json:"Plan"`
		}
		if err := json.Unmarshal([]byte(out), &plans); err != nil {
			t.Fatal(err)
		}
		for _, p := range plans {
			walk(p.Plan, 0)
		}
	}
	return sum, b.String()
}

// sqlitePlans is SQLite's EXPLAIN QUERY PLAN of each statement.
func sqlitePlans(t *testing.T, c *sql.Conn, stmts ...statement) string {
	t.Helper()
	var b strings.Builder
	for _, s := range stmts {
		rows, err := c.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+s.q, s.args...)
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			b.WriteString("  " + detail + "\n")
		}
		rows.Close()
	}
	return b.String()
}
