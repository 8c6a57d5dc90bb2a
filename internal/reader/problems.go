package reader

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// walkRunsPerName is the crossover between the two plans for finding what
// is wrong, in rows per distinct operation name: at or above it, walking
// the (name, executed_at) index one name at a time costs less than one
// filtered scan of the table. Measured with BenchmarkPlanCrossover
// (100,000 rows, 1 to 64 runs per name, 2 cores): the walk wins from
// about 4 runs per name on PostgreSQL, 8-16 on SQLite and 16 on MariaDB;
// at one run per name it costs 20-30 times the scan.
func walkRunsPerName(dialect string) float64 {
	switch dialect {
	case "pgsql":
		return 4
	case "sqlite":
		return 12
	}
	return 16
}

// beginRead starts the read-only transaction a snapshot is read in.
// PostgreSQL and MySQL/MariaDB take REPEATABLE READ, so every statement sees
// the same snapshot; SQLite's read transaction is a snapshot already.
//
// On PostgreSQL, JIT compilation is off for the transaction: the reads are
// a scan and index probes whose estimated cost (a probe per row of the
// table) is over jit_above_cost from about 50,000 rows, and compiling them
// took 280 of the 340 ms the problem query took at 100,000 rows (265 of
// 500 at a million); every command and tick paid it. For this transaction
// only, and only where the server has JIT at all; set in a statement, not
// as a startup parameter, which PgBouncer would refuse.
func (db *DB) beginRead(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	if db.d.name() == "sqlite" {
		opts = nil
	}
	tx, err := db.SQL.BeginTx(ctx, opts)
	if err != nil {
		return nil, db.queryError("start a read-only transaction", err)
	}
	if db.d.name() == "pgsql" {
		if _, err := tx.ExecContext(ctx, "SELECT CASE WHEN current_setting('jit', true) IS NOT NULL THEN set_config('jit', 'off', true) END"); err != nil {
			tx.Rollback()
			return nil, db.queryError("start a read-only transaction", err)
		}
	}
	return tx, nil
}

// choosePlan decides, from the database's own statistics, whether to find
// unfinished operations by walking the name index (many runs per name) or
// by one filtered scan (about one row per name, Sequencer's usual shape).
// Without statistics it scans: correct on every shape, only slower on a
// long history of few names. why says what the choice rests on.
// A failure to read the statistics is not an error either: the scan is
// right on every shape, and why says what went wrong.
func (r *reader) choosePlan(ctx context.Context) (walk bool, why string) {
	rows, names, ok, err := r.tableStats(ctx)
	if err != nil {
		return false, "cannot read the statistics of " + r.t.Operations + ": " + err.Error()
	}
	if !ok || names <= 0 {
		return false, "no statistics for " + r.t.Operations + ", or no index on its name column (run ANALYZE for the faster plan on long histories; without Sequencer's (name, executed_at) index every probe scans the table)"
	}
	per := rows / names
	from := walkRunsPerName(r.d.name())
	return per >= from, fmt.Sprintf("statistics: about %.0f rows, %.0f names, %.1f rows per name (walk from %.0f)", rows, names, per, from)
}

// tableStats reads the estimated row count and the estimated number of
// distinct names of the operations table. ok is false when the database
// has none, or when no index starts with name (an older install): the walk
// would then scan the table once per name. A failure to read statistics is not an error: the scan works
// without them.
func (r *reader) tableStats(ctx context.Context) (rows, names float64, ok bool, err error) {
	var q string
	var args []any
	switch r.d.name() {
	case "pgsql":
		// n_distinct < 0 is a fraction of the rows.
		q = `SELECT c.reltuples, s.n_distinct FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = 'name'
WHERE c.oid = to_regclass($1)
  AND EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              WHERE i.indrelid = c.oid AND a.attname = 'name')`
		args = []any{r.t.Operations}
	case "mysql":
		q = `SELECT t.TABLE_ROWS, s.CARDINALITY FROM information_schema.TABLES t
JOIN information_schema.STATISTICS s ON s.TABLE_SCHEMA = t.TABLE_SCHEMA AND s.TABLE_NAME = t.TABLE_NAME
WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = ? AND s.COLUMN_NAME = 'name' AND s.SEQ_IN_INDEX = 1
ORDER BY s.CARDINALITY DESC LIMIT 1`
		args = []any{r.t.Operations}
	default:
		// sqlite_stat1 exists only after ANALYZE; "N avg-per-name ..." for
		// an index whose first column is name.
		var exists bool
		if err := r.query(ctx, "look up SQLite statistics", "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'sqlite_stat1'", nil, func(rs *sql.Rows) error {
			return rs.Scan(&exists)
		}); err != nil || !exists {
			return 0, 0, false, err
		}
		q = `SELECT s.stat FROM sqlite_stat1 s JOIN pragma_index_list(?) l ON l.name = s.idx
JOIN pragma_index_info(l.name) i ON i.seqno = 0 AND i.name = 'name' WHERE s.tbl = ?`
		args = []any{r.t.Operations, r.t.Operations}
		err = r.query(ctx, "read SQLite statistics", q, args, func(rs *sql.Rows) error {
			var stat string
			if err := rs.Scan(&stat); err != nil {
				return err
			}
			f := strings.Fields(stat)
			if len(f) < 2 || ok {
				return nil
			}
			n, err1 := strconv.ParseFloat(f[0], 64)
			per, err2 := strconv.ParseFloat(f[1], 64)
			if err1 == nil && err2 == nil && per > 0 {
				rows, names, ok = n, n/per, true
			}
			return nil
		})
		return rows, names, ok, err
	}
	var nRows, nNames sql.NullFloat64
	err = r.query(ctx, "read statistics of "+r.t.Operations, q, args, func(rs *sql.Rows) error {
		return rs.Scan(&nRows, &nNames)
	})
	if err != nil || !nRows.Valid || !nNames.Valid || nRows.Float64 <= 0 {
		return 0, 0, false, err
	}
	rows, names = nRows.Float64, nNames.Float64
	if names < 0 {
		names = -names * rows
	}
	return rows, names, names > 0, nil
}

// unfinishedNames walks the unique (name, executed_at) index one name at a
// time (a loose index scan) and returns the raw names, as stored, whose
// newest run did not complete or was rolled back. Only those can have a
// failing, open or rolled-back run.
func (r *reader) unfinishedNames(ctx context.Context) ([]string, error) {
	ops := r.d.table(r.t.Operations)
	// A name whose other spelling completed later is finished too: leave
	// it out here, so that what comes back follows the problems.
	other := func(alias string) string {
		return `
  AND NOT EXISTS (SELECT 1 FROM ` + ops + ` c WHERE c.name = ` + r.d.otherSpelling(alias+".name") + ` AND c.completed_at IS NOT NULL
    AND c.executed_at >= (SELECT MAX(executed_at) FROM ` + ops + ` m WHERE m.name = ` + alias + `.name) AND ` + r.d.stampOK("c.executed_at") + r.d.probeFence() + `)`
	}
	// A newest run whose start cannot be read proves nothing (it may sort
	// after every time, as PostgreSQL's infinity does): its name is looked
	// at, by problemQuery's rules, which never let it count as later. A
	// newest run that was rolled back is looked at too (rolledBackWhere).
	unfinished := func(alias string) string {
		return "(" + alias + ".completed_at IS NULL OR " + alias + ".rolled_back_at IS NOT NULL OR NOT " + r.d.stampOK(alias+".executed_at") + ")"
	}
	var q string
	switch r.d.name() {
	case "pgsql":
		q = `WITH RECURSIVE t AS (
  (SELECT name, completed_at, executed_at, rolled_back_at FROM ` + ops + ` ORDER BY name DESC, executed_at DESC LIMIT 1)
  UNION ALL
  SELECT o.name, o.completed_at, o.executed_at, o.rolled_back_at FROM t CROSS JOIN LATERAL
    (SELECT name, completed_at, executed_at, rolled_back_at FROM ` + ops + ` WHERE name < t.name ORDER BY name DESC, executed_at DESC LIMIT 1) o
)
SELECT name FROM t WHERE ` + unfinished("t") + other("t")
	case "mysql":
		// MySQL and MariaDB do the loose index scan for GROUP BY ... MAX.
		q = `SELECT o.name FROM ` + ops + ` o
JOIN (SELECT name, MAX(executed_at) AS m FROM ` + ops + ` GROUP BY name) x ON o.name = x.name AND o.executed_at = x.m
WHERE ` + unfinished("o") + other("o")
	default:
		q = `WITH RECURSIVE t(name) AS (
  SELECT MAX(name) FROM ` + ops + `
  UNION ALL
  SELECT (SELECT MAX(name) FROM ` + ops + ` WHERE name < t.name) FROM t WHERE t.name IS NOT NULL
)
SELECT t.name FROM t WHERE t.name IS NOT NULL
  AND EXISTS (SELECT 1 FROM (SELECT completed_at, executed_at, rolled_back_at FROM ` + ops + ` WHERE name = t.name ORDER BY executed_at DESC LIMIT 1) n WHERE ` + unfinished("n") + `)` + other("t")
	}
	var names []string
	err := r.query(ctx, fmt.Sprintf("read operations table %q", r.t.Operations), q, nil, func(rows *sql.Rows) error {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
		return nil
	})
	return names, err
}

// problems reads the failed rows and the open rows (neither completed,
// failed, skipped nor rolled back) that no run of the same operation, in
// either spelling, completed at or after; and, in the same statement, the
// rolled-back runs still their operation's newest (rolledBackWhere) that
// started at or after since. With walk, only the given raw names are
// looked at; otherwise one filtered scan finds the problems, and a range
// of the executed_at index the rolled-back runs (Sequencer has no index on
// rolled_back_at), joined with UNION ALL so that a partial index on
// unfinished rows still serves the scan.
func (r *reader) problems(ctx context.Context, walk bool, names []string, now time.Time, since string) (*problemSet, error) {
	set := newProblemSet(now)
	scan := set.scan(r)
	what := fmt.Sprintf("read failed, running and rolled-back operations from %q", r.t.Operations)
	var err error
	switch {
	case !walk:
		q := r.problemQuery() + "\nUNION ALL\n" + r.rolledBackQuery() + " AND o.executed_at >= " + r.d.ph(1)
		err = r.query(ctx, what, q, []any{since}, scan)
	case r.d.name() == "pgsql":
		err = r.query(ctx, what, r.problemOrRolledBackQuery()+" AND o.name = ANY($1)", []any{names}, scan)
	default:
		for i := 0; i < len(names) && err == nil; i += batch {
			chunk := names[i:min(i+batch, len(names))]
			args := make([]any, len(chunk))
			for j, n := range chunk {
				args[j] = n
			}
			err = r.query(ctx, what, r.problemOrRolledBackQuery()+" AND o.name IN "+r.d.in(1, len(chunk)), args, scan)
		}
	}
	if err != nil {
		return nil, err
	}
	return set, nil
}

// problemSet collects the rows of problem queries: each row once (by id),
// failed rows as failures, open rows as in progress (with how long they
// have been running at now), rolled-back runs apart.
type problemSet struct {
	now        time.Time
	seen       map[string]bool
	failing    []check.Failure
	running    []check.Attempt
	rolledBack []check.RolledBackRun
}

func newProblemSet(now time.Time) *problemSet {
	return &problemSet{now: now, seen: map[string]bool{}, failing: []check.Failure{}, running: []check.Attempt{}, rolledBack: []check.RolledBackRun{}}
}

// scan is the row callback of r.query for problemQuery's columns.
func (p *problemSet) scan(r *reader) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		var a check.Attempt
		failed, err := r.scanAttempt(rows, &a)
		if err != nil {
			return err
		}
		if p.seen[a.ID] {
			return nil
		}
		p.seen[a.ID] = true
		if check.RolledBack(a) {
			p.rolledBack = append(p.rolledBack, check.RolledBackRun{Attempt: a})
			return nil
		}
		if failed {
			p.failing = append(p.failing, check.Failure{Attempt: a, Errors: []check.ErrorRecord{}})
			return nil
		}
		if !a.ExecutedAt.IsZero() {
			// Unset when the start cannot be read: how long is unknown.
			a.RunningFor = check.Duration(max(p.now.Sub(a.ExecutedAt), 0))
		}
		p.running = append(p.running, a)
		return nil
	}
}

// result returns the failures and the running rows, oldest start first.
func (p *problemSet) result() ([]check.Failure, []check.Attempt) {
	sort.SliceStable(p.running, func(i, j int) bool { return p.running[i].ExecutedAt.Before(p.running[j].ExecutedAt) })
	return p.failing, p.running
}

// problemQuery selects the problem rows: failed rows and open rows
// (neither completed, failed, skipped nor rolled back) that no run of the
// same operation, in either spelling, completed at or after. Callers add
// conditions with AND.
//
// The two spellings are probed by two NOT EXISTS with equalities: MariaDB
// uses no index for "name IN (o.name, <expression>)" and scans the table
// once per row (4.5 s instead of 18 ms at 20,000 rows).
//
// On PostgreSQL each probe ends in OFFSET 0, which keeps the planner from
// turning NOT EXISTS into a hash anti-join that hashes every completed row:
// probing the index for each candidate is cheaper (1M rows: 700 instead of
// 900 ms), and with a partial index on unfinished rows (docs/performance.md)
// the whole query follows the candidates (170 ms).
//
// A run whose start cannot be read (stampOK) is later than nothing: it
// recovers no failure and ends no open run. Its own start sorts where the
// database sorts the value (PostgreSQL's infinity and SQLite's text after
// every time, MySQL's zero date, -infinity, ” and numbers before), so
// such a failed row is failing unless a run that can be read started at
// or after it by that order and completed; every plan agrees on that.
//
// A failed row that also has completed_at set is no problem (it completed
// itself), so candidates can be limited to completed_at IS NULL, which such
// a partial index covers.
func (r *reader) problemQuery() string {
	return "SELECT " + r.attemptCols("o.") + " FROM " + r.d.table(r.t.Operations) + " o\nWHERE " + r.problemWhere()
}

// problemWhere is problemQuery's condition on a row o: check.Recovered
// (a completed run started at or after it) and check.InProgress, in SQL.
//
// On MySQL and MariaDB each probe asks for the newest completed run of the
// name (ORDER BY executed_at DESC LIMIT 1, a backward walk of Sequencer's
// unique (name, executed_at) index that stops at the first completed run)
// and compares its start with o's. NOT EXISTS there took the name-only
// index, whose entries carry no executed_at, and fetched every run of the
// name from the table to read it: with 10 runs per name and a pool
// smaller than the data (the fleet benchmark's 100 databases), the
// problem query read 8,000 pages per application and took three quarters
// of the server's time (docs/performance.md). The backward walk reads
// about one run per candidate (TestMariaDBProbeReadsOneRunPerCandidate).
// The two are the same test: no completed run that can be read started at
// or after o exactly when the newest such run started before o, or there
// is none.
func (r *reader) problemWhere() string {
	ops := r.d.table(r.t.Operations)
	later := func(name string) string {
		if r.d.name() == "mysql" {
			return `
  AND COALESCE((SELECT c.executed_at FROM ` + ops + ` c WHERE c.name = ` + name + ` AND c.completed_at IS NOT NULL AND ` + r.d.stampOK("c.executed_at") +
				` ORDER BY c.executed_at DESC LIMIT 1) < o.executed_at, TRUE)`
		}
		return `
  AND NOT EXISTS (SELECT 1 FROM ` + ops + ` c WHERE c.name = ` + name + ` AND c.executed_at >= o.executed_at AND c.completed_at IS NOT NULL AND ` + r.d.stampOK("c.executed_at") + r.d.probeFence() + `)`
	}
	return `o.completed_at IS NULL AND (o.failed_at IS NOT NULL OR (o.skipped_at IS NULL AND o.rolled_back_at IS NULL))` +
		later("o.name") + later(r.d.otherSpelling("o.name"))
}

// rolledBackWhere is the condition on a row o that it is a rolled-back run
// (check.RolledBack) still its operation's newest, in either spelling: no
// run of the operation started after it.
func (r *reader) rolledBackWhere() string {
	ops := r.d.table(r.t.Operations)
	newest := func(name string) string {
		return `
  AND NOT EXISTS (SELECT 1 FROM ` + ops + ` c WHERE c.name = ` + name + ` AND c.executed_at > o.executed_at` + r.d.probeFence() + `)`
	}
	return `o.rolled_back_at IS NOT NULL AND o.completed_at IS NOT NULL AND o.rolled_back_at >= o.completed_at` +
		newest("o.name") + newest(r.d.otherSpelling("o.name"))
}

// rolledBackQuery selects the rows of rolledBackWhere; callers add
// conditions with AND.
func (r *reader) rolledBackQuery() string {
	return "SELECT " + r.attemptCols("o.") + " FROM " + r.d.table(r.t.Operations) + " o\nWHERE " + r.rolledBackWhere()
}

// problemOrRolledBackQuery selects the rows of problemQuery and of
// rolledBackQuery at once, for a read already narrowed by names, ids or an
// executed_at range; callers add conditions with AND.
func (r *reader) problemOrRolledBackQuery() string {
	return "SELECT " + r.attemptCols("o.") + " FROM " + r.d.table(r.t.Operations) + " o\nWHERE ((" + r.problemWhere() + ")\n  OR (" + r.rolledBackWhere() + "))"
}

// fileBatch is how many file names go into one pending probe on MySQL
// without JSON_TABLE: one parameter each, well under its limit
// (PostgreSQL, SQLite and MySQL with JSON_TABLE take all the names as one
// parameter).
const fileBatch = 2000

// errorsOf reads the error rows of the given failed rows, oldest first
// within each. noTraces leaves the traces out. The ids go in as text; each
// driver turns them into the column's type, so an index on operation_id
// serves.
func (r *reader) errorsOf(ctx context.Context, fs []check.Failure, noTraces bool) error {
	if len(fs) == 0 {
		return nil
	}
	index := make(map[string]int, len(fs))
	for i, f := range fs {
		index[f.ID] = i
	}
	trace := "e.trace"
	if noTraces {
		trace = "''"
	}
	what := fmt.Sprintf("read operation errors from %q", r.t.Errors)
	for i := 0; i < len(fs); i += batch {
		chunk := fs[i:min(i+batch, len(fs))]
		args := make([]any, len(chunk))
		for j, f := range chunk {
			args[j] = f.ID
		}
		q := "SELECT " + r.d.text("e.operation_id") + ", " + r.d.text("e.id") + ", e.exception, e.message, " + trace + ", " + r.d.text("e.context") + ", e.created_at FROM " +
			r.d.table(r.t.Errors) + " e WHERE e.operation_id IN " + r.d.in(1, len(chunk)) + " ORDER BY e.created_at, e.id"
		err := r.query(ctx, what, q, args, func(rows *sql.Rows) error {
			var opID string
			var e check.ErrorRecord
			var exc, msg, tr, context sql.NullString
			created := r.stamp("created_at")
			if err := rows.Scan(&opID, &e.ID, &exc, &msg, &tr, &context, created); err != nil {
				return err
			}
			r.note(r.t.Errors, e.ID, opID, created)
			e.Exception, e.Message, e.Trace, e.Context, e.CreatedAt = exc.String, msg.String, tr.String, context.String, created.ptr()
			if k, ok := index[opID]; ok {
				fs[k].Errors = append(fs[k].Errors, e)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fileList is the operation files a pending probe asks about: a
// directory's listing (laravel.Listing, compact: only the pending files
// get strings of their own), or the files pending at the last read.
type fileList interface {
	Len() int
	// Name is the i-th file's name without ".php", for the probe only.
	Name(i int) string
	// File is the i-th file, to keep.
	File(i int) check.PendingFile
}

// pendingList is a fileList of files already held.
type pendingList []check.PendingFile

func (p pendingList) Len() int                     { return len(p) }
func (p pendingList) Name(i int) string            { return p[i].Name }
func (p pendingList) File(i int) check.PendingFile { return p[i] }

// pendingFiles returns the files with no completed run: one index probe per
// file, however many names the table holds. Only the pending files come
// back from the database. With skips, each comes with its newest skipped
// run (skipped_at, skip_reason), found by the same statement: a backward
// walk of the (name, executed_at) index per spelling that stops at the
// first skipped run.
func (r *reader) pendingFiles(ctx context.Context, files fileList, skips bool) ([]check.PendingFile, error) {
	out := []check.PendingFile{}
	if files.Len() == 0 {
		return out, nil
	}
	ops := r.d.table(r.t.Operations)
	what := fmt.Sprintf("read operations table %q", r.t.Operations)
	skipCols := ""
	if skips {
		for _, name := range []string{"f.n", r.d.concat("f.n", "'.php'")} {
			for _, col := range []string{"skipped_at", "skip_reason"} {
				skipCols += ", (SELECT s." + col + " FROM " + ops + " s WHERE s.name = " + name + " AND s.skipped_at IS NOT NULL ORDER BY s.executed_at DESC LIMIT 1)"
			}
		}
	}
	keep := func(offset int) func(*sql.Rows) error {
		return func(rows *sql.Rows) error {
			var i int
			at := [2]*wallTime{r.stamp("skipped_at"), r.stamp("skipped_at")}
			var reason [2]sql.NullString
			dest := []any{&i}
			if skips {
				dest = append(dest, at[0], &reason[0], at[1], &reason[1])
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			if i < 1 || offset+i > files.Len() {
				return fmt.Errorf("file index %d out of range", i)
			}
			f := files.File(offset + i - 1)
			// The later skip of the two spellings.
			for k := range at {
				if at[k].valid && (f.SkippedAt == nil || at[k].t.After(*f.SkippedAt)) {
					f.SkippedAt, f.SkipReason = at[k].ptr(), reason[k].String
				}
			}
			out = append(out, f)
			return nil
		}
	}
	if r.d.name() == "pgsql" {
		names := make([]string, files.Len())
		for i := range names {
			names[i] = files.Name(i)
		}
		q := `SELECT f.i` + skipCols + ` FROM unnest(CAST($1 AS text[])) WITH ORDINALITY AS f(n, i)
WHERE NOT EXISTS (SELECT 1 FROM ` + ops + ` c WHERE c.name IN (f.n, f.n || '.php') AND c.completed_at IS NOT NULL` + r.d.probeFence() + `)
ORDER BY f.i`
		if err := r.query(ctx, what, q, []any{names}, keep(0)); err != nil {
			return nil, err
		}
		return out, nil
	}
	notExists := " WHERE NOT EXISTS (SELECT 1 FROM " + ops + " c WHERE c.name = f.n AND c.completed_at IS NOT NULL)" +
		" AND NOT EXISTS (SELECT 1 FROM " + ops + " c WHERE c.name = " + r.d.concat("f.n", "'.php'") + " AND c.completed_at IS NOT NULL)"
	if r.d.name() == "sqlite" {
		// One parameter, a JSON array of the names, whatever their number:
		// the statement is the same short text for every application and
		// every file count. A VALUES list of a placeholder per name made
		// SQLite parse thousands of terms again for every batch of every
		// read, more than half of a first tick's CPU with 10,000 files.
		// json_each is built into the SQLite the driver embeds.
		names := make([]string, files.Len())
		for i := range names {
			names[i] = files.Name(i)
		}
		list, err := json.Marshal(names)
		if err != nil {
			return nil, fmt.Errorf("encode the operation file names: %w", err)
		}
		q := "WITH f(i, n) AS (SELECT key + 1, value FROM json_each(?)) SELECT f.i" + skipCols + " FROM f" + notExists
		if err := r.query(ctx, what, q, []any{string(list)}, keep(0)); err != nil {
			return nil, err
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	}
	if cs, coll, ok, err := r.jsonTableName(ctx); err != nil {
		return nil, err
	} else if ok {
		// One parameter, a JSON array of the names, as on SQLite: one
		// short statement instead of a UNION ALL of 2,000 one-row SELECTs
		// per batch, which MariaDB parsed, optimized and materialized
		// select by select. The column is declared in the character set
		// and collation of operations.name: with its own (the
		// connection's) the comparison fails (Illegal mix of collations)
		// or no longer probes the index, where a placeholder takes the
		// column's. TEXT, so that no name is cut to a shorter one.
		names := make([]string, files.Len())
		for i := range names {
			names[i] = files.Name(i)
		}
		list, err := json.Marshal(names)
		if err != nil {
			return nil, fmt.Errorf("encode the operation file names: %w", err)
		}
		q := "SELECT f.i" + skipCols + " FROM JSON_TABLE(?, '$[*]' COLUMNS (i FOR ORDINALITY, n TEXT CHARACTER SET " + cs + " COLLATE " + coll + " PATH '$')) f" + notExists
		if err := r.query(ctx, what, q, []any{string(list)}, keep(0)); err != nil {
			return nil, err
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	}
	// Without JSON_TABLE (MariaDB before 10.6, MySQL before 8.0) the file
	// names go in as a derived table, each probed with NOT EXISTS (which
	// stops at the first completed run, however many runs a name has).
	// MariaDB compares a VALUES column wrongly here, so MySQL gets a UNION
	// ALL of one-row SELECTs.
	for start := 0; start < files.Len(); start += fileBatch {
		end := min(start+fileBatch, files.Len())
		var b strings.Builder
		args := make([]any, 0, end-start)
		for j := range end - start {
			if j == 0 {
				b.WriteString("SELECT f.i" + skipCols + " FROM (SELECT 1 AS i, ? AS n")
			} else {
				fmt.Fprintf(&b, " UNION ALL SELECT %d, ?", j+1)
			}
			args = append(args, files.Name(start+j))
		}
		b.WriteString(") f" + notExists)
		if err := r.query(ctx, what, b.String(), args, keep(start)); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// jsonTableName reports whether the MySQL server has JSON_TABLE (MariaDB
// 10.6, MySQL 8.0.4) and, if so, the character set and collation of
// operations.name, for the pending probe's name column. CHARSET and
// COLLATION of MAX(name) are the column's even in an empty table, and MAX
// is one look at the end of the name index; information_schema.COLUMNS
// would make the server build a temporary table on disk at every read.
func (r *reader) jsonTableName(ctx context.Context) (charset, collation string, ok bool, err error) {
	q := "SELECT VERSION(), CHARSET(MAX(name)), COLLATION(MAX(name)) FROM " + r.d.table(r.t.Operations)
	var version, cs, coll string
	err = r.query(ctx, fmt.Sprintf("look up the collation of %q's name column", r.t.Operations), q, nil, func(rows *sql.Rows) error {
		return rows.Scan(&version, &cs, &coll)
	})
	if err != nil || cs == "binary" || !sqlWord(cs) || !sqlWord(coll) {
		return "", "", false, err
	}
	return cs, coll, hasJSONTable(version), nil
}

// hasJSONTable reports whether a MySQL server of this VERSION() has
// JSON_TABLE: MariaDB from 10.6, MySQL from 8.0.4.
func hasJSONTable(version string) bool {
	f := strings.FieldsFunc(version, func(c rune) bool { return c == '.' || c == '-' })
	if len(f) < 3 {
		return false
	}
	major, err1 := strconv.Atoi(f[0])
	minor, err2 := strconv.Atoi(f[1])
	patch, err3 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return false
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return major > 10 || major == 10 && minor >= 6
	}
	return major > 8 || major == 8 && (minor > 0 || patch >= 4)
}

// sqlWord reports whether s is a bare name (letters, digits, underscores)
// that can go into a statement's text, as a character set or collation.
func sqlWord(s string) bool {
	for _, c := range s {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// scheduledApart moves out of running the Scheduled operations waiting
// for their time (check.Scheduled): only the operation file tells, so the
// file of each run that could be one (type scheduled, state pending) is
// read, once per operation, at most a few KB each. A file that cannot be
// read leaves its run in progress, with a warning; a file that is gone
// does too (nothing waits for a time it no longer declares).
func scheduledApart(running []check.Attempt, dirs []string) (inProgress, scheduled []check.Attempt, warnings []string) {
	inProgress, scheduled = running[:0:0], []check.Attempt{}
	known := map[string]bool{}
	for _, a := range running {
		if !check.Scheduled(a, true) {
			inProgress = append(inProgress, a)
			continue
		}
		implements, ok := known[a.Name]
		if !ok {
			var err error
			if p := laravel.OperationFile(dirs, a.Name); p != "" {
				if implements, err = laravel.ImplementsScheduled(p); err != nil {
					warnings = append(warnings, err.Error()+": cannot tell whether "+a.Name+" waits for its time; it is shown in progress")
				}
			}
			known[a.Name] = implements
		}
		if check.Scheduled(a, implements) {
			scheduled = append(scheduled, a)
		} else {
			inProgress = append(inProgress, a)
		}
	}
	return inProgress, scheduled, warnings
}

// defaultRolledBackLookback is ReadOptions.RolledBackLookback when unset
// (check.Thresholds.RolledBackLookback of the default thresholds).
const defaultRolledBackLookback = 7 * 24 * time.Hour

// rolledBackSince keeps the rolled-back runs that started at or after
// since (the read's look-back), newest rollback first, and finds the cause
// of each among the failed runs of the same stretch of time
// (check.RollbackCause): one query, only when there are some.
func (r *reader) rolledBackSince(ctx context.Context, runs []check.RolledBackRun, since time.Time) ([]check.RolledBackRun, error) {
	out := []check.RolledBackRun{}
	for _, rb := range runs {
		if !rb.ExecutedAt.Before(since) {
			out = append(out, rb)
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RolledBackAt.After(*out[j].RolledBackAt) })
	from, to := out[0].ExecutedAt, *out[0].RolledBackAt
	for _, rb := range out {
		from = minTime(from, rb.ExecutedAt)
		to = maxTime(to, *rb.RolledBackAt)
	}
	var failed []check.Attempt
	q := "SELECT " + r.attemptCols("o.") + " FROM " + r.d.table(r.t.Operations) + " o WHERE o.failed_at IS NOT NULL AND o.executed_at >= " + r.d.ph(1) + " AND o.executed_at <= " + r.d.ph(2)
	err := r.query(ctx, fmt.Sprintf("read the failures behind rolled-back operations from %q", r.t.Operations), q,
		[]any{from.Format(time.DateTime), to.Format(time.DateTime)}, func(rows *sql.Rows) error {
			var a check.Attempt
			if _, err := r.scanAttempt(rows, &a); err != nil {
				return err
			}
			failed = append(failed, a)
			return nil
		})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if c, ok := check.RollbackCause(out[i].Attempt, failed); ok {
			out[i].Cause = &c
		}
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
