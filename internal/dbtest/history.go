package dbtest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Shape is how a generated history spreads its rows over operation names.
type Shape string

// The shapes histories have in real applications.
const (
	// OneRunPerName is Sequencer's usual shape: an operation runs once, a
	// retry adds one row, so N rows hold about N names; the files of old
	// operations have been deleted, so most names have no file.
	OneRunPerName Shape = "one-run-per-name"
	// ManyRunsPerName is a long history of few names (10,000 names, every
	// one with a file), each run many times.
	ManyRunsPerName Shape = "many-runs-per-name"
)

// History describes a generated history. Zero fields take the defaults
// noted.
type History struct {
	Shape Shape
	// Rows is the number of rows of the completed history (before the
	// problems are added); at least Names.
	Rows int
	// Names is the number of operation names with a completed history
	// under ManyRunsPerName (default 10,000); OneRunPerName uses about Rows.
	Names int
	// Files is the number of completed operations that still have a file
	// (the newest ones; default 10,000, at most the names).
	Files int
	// Failing operations failed twice and never completed (default 5);
	// Running have one open row (default 3); NeverRun have a file and no
	// row (default 42). All have files, and all are pending.
	Failing, Running, NeverRun int
	// FailedEvery: one run in FailedEvery failed and was retried by the
	// next run of the same name, which completed (default 50, i.e. 2%).
	FailedEvery int
	// TraceMin and TraceMax bound a failed row's trace size in bytes
	// (default 4096 and 8192): real PHP traces, a frame a line.
	TraceMin, TraceMax int
	// Now is when the open rows started running (plus minutes); default
	// 2026-01-01.
	Now time.Time
}

// Generated is what InsertHistory wrote.
type Generated struct {
	// Files are the operation files to write (names without ".php").
	Files []string
	// Rows, FailedRows and ErrorRows count the rows written.
	Rows, FailedRows, ErrorRows int
	// Pending are the names of the pending files, sorted as files are.
	Pending []string
}

func (h History) withDefaults() History {
	if h.Shape == "" {
		h.Shape = OneRunPerName
	}
	if h.Names == 0 {
		h.Names = 10000
	}
	if h.Files == 0 {
		h.Files = 10000
	}
	if h.Failing == 0 {
		h.Failing = 5
	}
	if h.Running == 0 {
		h.Running = 3
	}
	if h.NeverRun == 0 {
		h.NeverRun = 42
	}
	if h.FailedEvery == 0 {
		h.FailedEvery = 50
	}
	if h.TraceMin == 0 {
		h.TraceMin = 4096
	}
	if h.TraceMax == 0 {
		h.TraceMax = 8192
	}
	if h.Now.IsZero() {
		h.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return h
}

// historyName is the name of the i-th operation: Sequencer's
// YYYY_MM_DD_HHMMSS_Name, in time order.
func historyName(i int) string {
	t := time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Minute)
	return t.Format("2006_01_02_150405") + fmt.Sprintf("_BackfillInvoiceTotals%07d", i)
}

var traceFrames = []string{
	"/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection->runQueryCallback('insert into \"inv...', Array, Object(Closure))",
	"/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Query/Builder.php(3788): Illuminate\\Database\\Connection->insert('insert into \"inv...', Array)",
	"/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Eloquent/Model.php(1359): Illuminate\\Database\\Eloquent\\Builder->__call('insertGetId', Array)",
	"/var/www/app/app/Services/Billing/InvoiceRecalculator.php(88): Illuminate\\Database\\Eloquent\\Model->save()",
	"/var/www/app/vendor/laravel/framework/src/Illuminate/Collections/Traits/EnumeratesValues.php(260): App\\Services\\Billing\\InvoiceRecalculator->App\\Services\\Billing\\{closure}(Object(App\\Models\\Invoice), 17)",
}

// historyTrace is a trace of n bytes or a little more.
func historyTrace(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "#%d %s\n", i, traceFrames[i%len(traceFrames)])
	}
	b.WriteString("#main {main}")
	return b.String()
}

// InsertHistory fills an empty operations table (auto-increment ids, Schema
// IDType "id") and its errors table with a generated history, in large
// multi-row inserts inside one transaction, and returns what it wrote. The
// caller writes the files (WriteApp) and runs ANALYZE if it wants
// statistics.
func (db *DB) InsertHistory(t testing.TB, h History) Generated {
	t.Helper()
	h = h.withDefaults()
	tx, err := db.SQL.Begin()
	if err != nil {
		t.Fatalf("dbtest: InsertHistory: %v", err)
	}
	defer tx.Rollback()
	var g Generated
	const opCols = "id, name, type, state, executed_at, completed_at, failed_at, created_at, updated_at"
	const errCols = "id, operation_id, exception, message, trace, context, created_at"
	var ops, errs []any
	var opRows, errRows int
	flush := func(table, cols string, rows *int, vals *[]any, width int) {
		if *rows == 0 {
			return
		}
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
		q := "insert into " + db.Quote(table) + " (" + cols + ") values " + strings.TrimSuffix(strings.Repeat(row+", ", *rows), ", ")
		if _, err := tx.Exec(db.Rebind(q), *vals...); err != nil {
			t.Fatalf("dbtest: InsertHistory: insert into %s: %v", table, err)
		}
		*rows, *vals = 0, (*vals)[:0]
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	id := 0
	stamp := func(t time.Time) string { return t.Format(time.DateTime) }
	// add writes one row; kind is "completed", "failed" or "open".
	add := func(name, kind string, at time.Time) {
		id++
		g.Rows++
		stored := name
		if id%10 == 0 {
			stored += ".php" // Sequencer stores both spellings
		}
		var done, failed any
		switch kind {
		case "completed":
			done = stamp(at.Add(2 * time.Second))
		case "failed":
			failed = stamp(at.Add(time.Second))
		}
		state := map[string]string{"completed": "completed", "failed": "failed", "open": "pending"}[kind]
		ops = append(ops, id, stored, "sync", state, stamp(at), done, failed, stamp(at), stamp(at))
		opRows++
		if opRows == 500 {
			flush("operations", opCols, &opRows, &ops, 9)
		}
		if kind == "failed" {
			g.FailedRows++
			g.ErrorRows++
			size := h.TraceMin + (id*7919)%(h.TraceMax-h.TraceMin+1)
			errs = append(errs, g.ErrorRows, id, "Illuminate\\Database\\QueryException",
				fmt.Sprintf("SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock (row %d)", id),
				historyTrace(size), `{"file":"/var/www/app/database/operations/x.php","line":42}`, stamp(at.Add(time.Second)))
			errRows++
			if errRows == 100 {
				// The foreign key wants the operation rows first.
				flush("operations", opCols, &opRows, &ops, 9)
				flush("operation_errors", errCols, &errRows, &errs, 7)
			}
		}
	}
	var completedNames []string
	switch h.Shape {
	case OneRunPerName:
		for i := 0; g.Rows < h.Rows; i++ {
			name := historyName(i)
			at := base.Add(time.Duration(i) * time.Minute)
			if i%h.FailedEvery == h.FailedEvery-1 {
				add(name, "failed", at)
				at = at.Add(10 * time.Second)
			}
			add(name, "completed", at)
			completedNames = append(completedNames, name)
		}
	case ManyRunsPerName:
		names := min(h.Names, h.Rows)
		for i := range names {
			completedNames = append(completedNames, historyName(i))
		}
		for k := 0; g.Rows < h.Rows; k++ {
			i := k % names
			at := base.Add(time.Duration(k) * time.Minute)
			// A failed run is followed by the next run of the name, which
			// completes; the last round completes every name.
			if (k*2654435761)%h.FailedEvery == 0 && g.Rows+names < h.Rows {
				add(completedNames[i], "failed", at)
				continue
			}
			add(completedNames[i], "completed", at)
		}
	default:
		t.Fatalf("dbtest: InsertHistory: unknown shape %q", h.Shape)
	}
	// The problems, newest of all, each with a file.
	next := len(completedNames) + 1000
	var pending []string
	for j := range h.Failing {
		name := historyName(next + j)
		add(name, "failed", h.Now.Add(-2*time.Hour))
		add(name, "failed", h.Now.Add(-time.Hour))
		pending = append(pending, name)
	}
	next += h.Failing
	for j := range h.Running {
		name := historyName(next + j)
		add(name, "open", h.Now.Add(-time.Duration(10+j)*time.Minute))
		pending = append(pending, name)
	}
	next += h.Running
	for j := range h.NeverRun {
		pending = append(pending, historyName(next+j))
	}
	flush("operations", opCols, &opRows, &ops, 9)
	flush("operation_errors", errCols, &errRows, &errs, 7)
	if err := tx.Commit(); err != nil {
		t.Fatalf("dbtest: InsertHistory: commit: %v", err)
	}
	db.syncSequence(t, "operations")
	db.syncSequence(t, "operation_errors")
	files := min(h.Files, len(completedNames))
	g.Files = append(g.Files, completedNames[len(completedNames)-files:]...)
	g.Files = append(g.Files, pending...)
	g.Pending = pending
	return g
}

// Analyze makes the database gather the planner statistics of the
// operations table (ANALYZE), as autovacuum or a DBA would have.
func (db *DB) Analyze(t testing.TB) {
	t.Helper()
	q := "ANALYZE"
	switch db.Dialect {
	case Postgres:
		q = "ANALYZE " + db.Quote("operations")
	case MySQL:
		q = "ANALYZE TABLE " + db.Quote("operations")
	}
	if _, err := db.SQL.Exec(q); err != nil {
		t.Fatalf("dbtest: %s: %v", q, err)
	}
}

// InsertDeferredHistory fills deferred_operations (Schema.WithDeferred) with
// the history of a queue that holds no problem: done rows that completed
// long ago (due every 10 minutes from 2021), then waiting rows pending
// for a time years from now (before 2038: MariaDB's timestamp ends there).
// Rows are inserted 500 to a statement, in one transaction.
func (db *DB) InsertDeferredHistory(t testing.TB, done, waiting int) {
	t.Helper()
	tx, err := db.SQL.Begin()
	if err != nil {
		t.Fatalf("dbtest: InsertDeferredHistory: %v", err)
	}
	defer tx.Rollback()
	const cols = "operation, payload, due_at, status, attempts, max_attempts, reserved_at, processed_at, created_at, updated_at"
	base := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	var vals []any
	rows := 0
	flush := func() {
		if rows == 0 {
			return
		}
		row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		q := "insert into deferred_operations (" + cols + ") values " + strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
		if _, err := tx.Exec(db.Rebind(q), vals...); err != nil {
			t.Fatalf("dbtest: insert deferred_operations: %v", err)
		}
		vals, rows = vals[:0], 0
	}
	n := done + waiting
	for i := range n {
		due := base.Add(time.Duration(i) * 10 * time.Minute)
		status, processed, reserved := "completed", any(due.Add(time.Second).Format(time.DateTime)), any(due.Format(time.DateTime))
		if i >= done {
			due = time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i-n) * time.Hour)
			status, processed, reserved = "pending", nil, nil
		}
		at := due.Format(time.DateTime)
		vals = append(vals, fmt.Sprintf("App\\Operations\\Deferred%07d", i), fmt.Sprintf(`{"invoice":%d}`, i), at, status, 1, 3, reserved, processed, at, at)
		rows++
		if rows == 500 {
			flush()
		}
	}
	flush()
	if err := tx.Commit(); err != nil {
		t.Fatalf("dbtest: InsertDeferredHistory: %v", err)
	}
}
