package reader

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// History streams the two lists of the whole history that `seqwatch status`
// prints: every completed row and every failed row with its errors. Rows go
// from the database cursor to the caller one at a time (one failure, with
// its error rows, at a time), so that memory does not grow with the
// history; the caller writes each out before asking for the next.
//
// Everything a History reads comes from one read-only transaction
// (REPEATABLE READ on PostgreSQL and MySQL, a read transaction on SQLite),
// so that the column widths measured before a table and the rows printed
// in it, or a list and its total, can never disagree. Close ends it.
type History struct {
	r  reader
	tx *sql.Tx
	// from limits the lists to runs started at or after it (wall-clock
	// text; "" is the whole history): status --since.
	from string
}

// From limits the History to the runs that started at or after t
// (`seqwatch status --since`): the lists, their totals and Rows.
func (h *History) From(t time.Time) {
	h.from = t.In(h.r.loc).Format(time.DateTime)
}

// since is the condition of From, to AND to a WHERE clause. The value is
// a time stamp formatted by this package (digits, '-', ':' and a space),
// so it is written as a literal: the queries of a History take no
// arguments.
func (h *History) since(alias string) string {
	if h.from == "" {
		return ""
	}
	return " AND " + alias + "executed_at >= '" + h.from + "'"
}

// OpenHistory checks that Sequencer's tables exist and starts the read
// transaction the History's queries share. ctx bounds every query,
// including the time a caller spends writing rows out.
func OpenHistory(ctx context.Context, db *DB, src laravel.Source) (*History, error) {
	loc := src.Location
	if loc == nil {
		loc = time.UTC
	}
	t := src.Tables.WithDefaults()
	if _, err := db.checkTables(ctx, t); err != nil {
		return nil, err
	}
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	return &History{r: reader{db: db, d: db.d, t: t, loc: loc, q: tx, bad: newUnreadableSet()}, tx: tx}, nil
}

// Close ends the read transaction. Nothing was written, so it is rolled
// back.
func (h *History) Close() error {
	if err := h.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return h.r.db.queryError("end the read transaction", err)
	}
	return nil
}

// each runs q in the History's transaction and calls scan for every row.
func (h *History) each(ctx context.Context, what, q string, scan func(*sql.Rows) error) error {
	rows, err := h.tx.QueryContext(ctx, q)
	if err != nil {
		return h.r.db.queryError(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			var se *stopError
			if errors.As(err, &se) {
				return se.err
			}
			return h.r.db.queryError(what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return h.r.db.queryError(what, err)
	}
	return nil
}

// stopError carries an error of the caller's callback (a write that
// failed) through each unchanged: it is not the database's.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

// Unreadable returns the values the History's transaction met that
// cannot be read (those of the Read before it, in ReadWithHistory,
// included), each row and column once, and the number of rows they are
// in. Call it after the lists: they are found as the rows stream past.
func (h *History) Unreadable() ([]check.Unreadable, int) {
	if h.r.bad == nil {
		return nil, 0
	}
	return h.r.bad.named(), h.r.bad.count()
}

// Rows counts the rows of the operations table.
func (h *History) Rows(ctx context.Context) (int, error) {
	var n int
	err := h.each(ctx, fmt.Sprintf("count operations table %q", h.r.t.Operations),
		"SELECT COUNT(*) FROM "+h.r.d.table(h.r.t.Operations)+" WHERE 1 = 1"+h.since(""), func(rows *sql.Rows) error { return rows.Scan(&n) })
	return n, err
}

// completedWhere selects the rows of the completed list, as
// sequencer:status lists them.
const completedWhere = " WHERE completed_at IS NOT NULL AND failed_at IS NULL"

// runOrder is the order of both lists, as sequencer:status 3.0.3 really
// orders them (whatever the column names in its code suggest): the newest
// start first, and of runs that started in the same second (one deploy's),
// the newest id first: integer ids numerically, ULIDs and UUIDs (which
// Laravel makes time-ordered) byte by byte.
func (r *reader) runOrder(alias string) string {
	return " ORDER BY " + alias + "executed_at DESC, " + r.d.byteOrderDesc(r.d.text(alias+"id"))
}

// Completed calls fn with every completed row in sequencer:status's order
// (runOrder). The Attempt passed is reused for the next row. An error fn
// returns stops the read and is returned unchanged.
func (h *History) Completed(ctx context.Context, fn func(*check.Attempt) error) error {
	q := "SELECT " + h.r.attemptCols("") + " FROM " + h.r.d.table(h.r.t.Operations) + completedWhere + h.since("") + h.r.runOrder("")
	var a check.Attempt
	return h.each(ctx, fmt.Sprintf("read completed operations from %q", h.r.t.Operations), q, func(rows *sql.Rows) error {
		a = check.Attempt{}
		if _, err := h.r.scanAttempt(rows, &a); err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return &stopError{err}
		}
		return nil
	})
}

// CompletedText is what the database measures of the completed list's
// names and types, so that a table of them can know its column widths
// before its first row. Plain text is printable ASCII other than the space
// and '|': its display width is its length, and sanitising it for a
// terminal line changes nothing but its length. Any other text is odd, and
// the rows that hold it are for the caller to measure (CompletedOdd).
type CompletedText struct {
	// NameLen and TypeLen are the lengths, in characters, of the longest
	// plain name (without ".php") and of the longest plain type; -1 when
	// no completed row has one.
	NameLen, TypeLen int
	// Stamped says whether a completed row has a start time.
	Stamped bool
	// Odd says whether some completed row's name or type is odd.
	Odd bool
	// RolledBack says whether some completed row was rolled back after it
	// completed (check.RolledBack): status marks those.
	RolledBack bool
}

// CompletedText measures the names and types of the completed list. The
// database measures them in one pass (one pattern match per column and
// row, which cost more than the scan): all of them, in practice, are
// plain; only when one is not is a second pass needed for the widest plain
// text of each column, measured apart.
func (h *History) CompletedText(ctx context.Context) (CompletedText, error) {
	r := &h.r
	base := r.d.base("name")
	from := " FROM " + r.d.table(r.t.Operations) + completedWhere + h.since("")
	what := fmt.Sprintf("measure completed operations in %q", r.t.Operations)
	// A row with odd text counts as oddLen, far above any real length, so
	// that each maximum says both the widest plain text and whether there
	// is odd text at all.
	q := "SELECT MAX(CASE WHEN " + r.d.odd("name") + " THEN " + oddLen + " ELSE " + r.d.charLen(base) + " END), " +
		"MAX(CASE WHEN " + r.d.odd("type") + " THEN " + oddLen + " ELSE " + r.d.charLen("type") + " END), " +
		"COUNT(executed_at), " +
		// check.RolledBack, in SQL.
		"COALESCE(SUM(CASE WHEN rolled_back_at IS NOT NULL AND rolled_back_at >= completed_at AND " + r.d.stampOK("rolled_back_at") + " AND " + r.d.stampOK("completed_at") + " THEN 1 ELSE 0 END), 0)" + from
	var nameLen, typeLen sql.NullInt64
	var stamped, rolledBack int64
	if err := h.each(ctx, what, q, func(rows *sql.Rows) error { return rows.Scan(&nameLen, &typeLen, &stamped, &rolledBack) }); err != nil {
		return CompletedText{}, err
	}
	m := CompletedText{NameLen: -1, TypeLen: -1, Stamped: stamped > 0, RolledBack: rolledBack > 0}
	m.Odd = nameLen.Int64 >= oddLenValue || typeLen.Int64 >= oddLenValue
	if m.Odd {
		// Rare: the widest plain text of each column, measured apart.
		q = "SELECT MAX(CASE WHEN NOT " + r.d.odd("name") + " THEN " + r.d.charLen(base) + " END), " +
			"MAX(CASE WHEN NOT " + r.d.odd("type") + " THEN " + r.d.charLen("type") + " END)" + from
		if err := h.each(ctx, what, q, func(rows *sql.Rows) error { return rows.Scan(&nameLen, &typeLen) }); err != nil {
			return CompletedText{}, err
		}
	}
	if nameLen.Valid {
		m.NameLen = int(nameLen.Int64)
	}
	if typeLen.Valid {
		m.TypeLen = int(typeLen.Int64)
	}
	return m, nil
}

// CompletedOdd calls fn with the name (without ".php") and the type of
// every completed row whose name or type is odd (see CompletedText), for
// the caller to measure as its table will. An error fn returns stops the
// read and is returned unchanged.
func (h *History) CompletedOdd(ctx context.Context, fn func(name, typ string) error) error {
	r := &h.r
	q := "SELECT name, type FROM " + r.d.table(r.t.Operations) + completedWhere + h.since("") + " AND (" + r.d.odd("name") + " OR " + r.d.odd("type") + ")"
	return h.each(ctx, fmt.Sprintf("measure completed operations in %q", r.t.Operations), q, func(rows *sql.Rows) error {
		var n, t sql.NullString
		if err := rows.Scan(&n, &t); err != nil {
			return err
		}
		if err := fn(laravel.StripPHP(n.String), t.String); err != nil {
			return &stopError{err}
		}
		return nil
	})
}

// oddLen stands for the length of odd text.
const (
	oddLen      = "1073741824"
	oddLenValue = 1 << 30
)

// CompletedTable calls fn with every completed row, in Completed's order,
// reading only what a table of them shows: the name, the type and the
// time stamps, rolled_back_at included (ID and State stay empty). The Attempt passed is reused for
// the next row. An error fn returns stops the read and is returned
// unchanged.
//
// The id of a row is read only when one of its time stamps cannot be read
// (see Unreadable), to name it: the rows of a million-row table carry no
// id otherwise.
func (h *History) CompletedTable(ctx context.Context, fn func(*check.Attempt) error) error {
	r := &h.r
	id := "CASE WHEN " + r.d.unreadable("executed_at") + " OR " + r.d.unreadable("completed_at") + " OR " + r.d.unreadable("rolled_back_at") + " THEN " + r.d.text("id") + " END"
	q := "SELECT " + id + ", name, type, executed_at, completed_at, rolled_back_at FROM " + r.d.table(r.t.Operations) + completedWhere + h.since("") + r.runOrder("")
	var a check.Attempt
	return h.each(ctx, fmt.Sprintf("read completed operations from %q", r.t.Operations), q, func(rows *sql.Rows) error {
		exec, done, rolledBack := r.stamp("executed_at"), r.stamp("completed_at"), r.stamp("rolled_back_at")
		var rowID, typ sql.NullString
		if err := rows.Scan(&rowID, &a.Name, &typ, exec, done, rolledBack); err != nil {
			return err
		}
		r.note(r.t.Operations, rowID.String, "", exec, done, rolledBack)
		a.Name, a.Type = laravel.StripPHP(a.Name), typ.String
		a.ExecutedAt, a.CompletedAt, a.RolledBackAt = exec.t, done.ptr(), rolledBack.ptr()
		if err := fn(&a); err != nil {
			return &stopError{err}
		}
		return nil
	})
}

// Failed calls fn with every failed row and its error rows (oldest error
// first), in sequencer:status's order (runOrder: the newest start first,
// ties by id, newest first). Recovered and RecoveredAt
// are check.Recovered's: whether a completed row of the same name (with or
// without ".php") started at or after the failed one (the row itself, when
// the queue's retry completed it in place), and the start of the newest
// such row. Traces are read only when traces is set; without them, an
// error row that has one says so (ErrorRecord.TraceNotRead). The
// Failure passed, and its Errors, are reused for the next one; only one
// failure's errors are held at a time. An error fn returns stops the read
// and is returned unchanged.
func (h *History) Failed(ctx context.Context, traces bool, fn func(*check.Failure) error) error {
	r := &h.r
	q := h.failedQuery(traces)
	var cur check.Failure
	have := false
	flush := func() error {
		if !have {
			return nil
		}
		have = false
		return fn(&cur)
	}
	errBuf := []check.ErrorRecord{}
	err := h.each(ctx, fmt.Sprintf("read failed operations and their errors from %q and %q", r.t.Operations, r.t.Errors), q, func(rows *sql.Rows) error {
		var a check.Attempt
		exec, done, failed, created := r.stamp("executed_at"), r.stamp("completed_at"), r.stamp("failed_at"), r.stamp("created_at")
		bare, withPHP := r.stamp(""), r.stamp("")
		skipped, rolledBack := r.stamp("skipped_at"), r.stamp("rolled_back_at")
		var typ, state, reason, errID, exc, msg, tr, context sql.NullString
		var traceNotRead sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Name, &typ, &state, exec, done, failed, skipped, &reason, rolledBack, bare, withPHP,
			&errID, &exc, &msg, &tr, &traceNotRead, &context, created); err != nil {
			return err
		}
		if !have || a.ID != cur.ID {
			r.note(r.t.Operations, a.ID, "", exec, done, failed, skipped, rolledBack)
			if err := flush(); err != nil {
				return &stopError{err}
			}
			a.Name = laravel.StripPHP(a.Name)
			a.Type, a.State = typ.String, state.String
			a.ExecutedAt = exec.t
			a.CompletedAt, a.FailedAt = done.ptr(), failed.ptr()
			a.SkippedAt, a.SkipReason, a.RolledBackAt = skipped.ptr(), reason.String, rolledBack.ptr()
			clear(errBuf)
			cur = check.Failure{Attempt: a, Errors: errBuf[:0]}
			recovered := laterOf(bare.ptr(), withPHP.ptr())
			if since, ok := check.Recovered(a, recovered); ok {
				cur.Recovered, cur.RecoveredAt = true, &since
			}
			cur.OperationCompleted = recovered != nil || a.CompletedAt != nil
			have = true
		}
		if errID.Valid {
			r.note(r.t.Errors, errID.String, cur.ID, created)
			cur.Errors = append(cur.Errors, check.ErrorRecord{ID: errID.String, Exception: exc.String, Message: msg.String,
				Trace: tr.String, TraceNotRead: traceNotRead.Int64 == 1, Context: context.String, CreatedAt: created.ptr()})
			errBuf = cur.Errors
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// failedQuery is Failed's statement: the failed rows (with --since, those
// of the window) joined with their error rows, in the list's order.
func (h *History) failedQuery(traces bool) string {
	r := &h.r
	ops, errs := r.d.table(r.t.Operations), r.d.table(r.t.Errors)
	// Without traces, only whether there is one (hasTrace), which does
	// not fetch a 4-8 KB trace.
	trace := "e.trace, 0"
	if !traces {
		trace = "'', " + r.d.hasTrace(errs)
	}
	// The newest completed run of each spelling, found by a backward walk
	// of the unique (name, executed_at) index that stops at the first
	// completed row: a few index entries per failed row, however long the
	// operation's history.
	base := r.d.base("f.name")
	// Only a run that started at or after the failed one counts (the row
	// itself among them, check.Recovered), and only one whose start can
	// be read (the rule of problemQuery). The two spellings are two
	// columns, and the later of them is taken here: MySQL and SQLite
	// have no GREATEST that ignores NULLs, and spelling one out
	// (COALESCE(GREATEST(a, b), a, b)) names each probe twice.
	newest := func(name string) string {
		return "(SELECT c.executed_at FROM " + ops + " c WHERE c.name = " + name +
			" AND c.completed_at IS NOT NULL AND c.executed_at >= f.executed_at AND " + r.d.stampOK("c.executed_at") + " ORDER BY c.executed_at DESC LIMIT 1)"
	}
	// On SQLite, without --since, the failed rows are found by a scan of
	// the table, as sequencer:status finds them, and sorted (a few per
	// hundred rows): left to itself SQLite walks the executed_at index
	// for the order and reads every row of the history by its rowid
	// through that index, one random page read a row, to test failed_at
	// (at 100k rows that walk was most of the read's time; see
	// docs/performance.md). With --since the index finds the window.
	scan := ""
	if r.d.name() == "sqlite" && h.from == "" {
		scan = " NOT INDEXED"
	}
	id := r.d.text("f.id")
	q := "SELECT " + id + ", f.name, f.type, f.state, f.executed_at, f.completed_at, f.failed_at, f.skipped_at, f.skip_reason, f.rolled_back_at, " +
		newest(base) + ", " + newest(r.d.withPHP(base)) + ", " +
		r.d.text("e.id") + ", e.exception, e.message, " + trace + ", " + r.d.text("e.context") + ", e.created_at" +
		" FROM " + ops + " f" + scan + " LEFT JOIN " + errs + " e ON e.operation_id = f.id" +
		" WHERE f.failed_at IS NOT NULL" + h.since("f.") +
		r.runOrder("f.") + ", e.created_at, e.id"
	return q
}

// laterOf is the later of two times either of which may be nil.
func laterOf(a, b *time.Time) *time.Time {
	if a == nil || b != nil && b.After(*a) {
		return b
	}
	return a
}
