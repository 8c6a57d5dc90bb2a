package reader

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// ReadOptions say how much to read.
type ReadOptions struct {
	// SkipPending leaves out the files, the migrations table and the
	// pending lists (status --failed and --completed need none of them).
	SkipPending bool
	// SkipProblems leaves out failing, in-progress and deferred operations
	// (status --pending).
	SkipProblems bool
	// Watch names operations whose newest completed run the caller needs
	// to know (Snapshot.LastCompleted): the daemon passes the operations
	// of its open problems, to tell a recovery from a deleted row.
	Watch []string
	// LastSkips reads, with each pending operation, its newest skipped
	// run (PendingFile.SkippedAt and SkipReason): what status shows.
	LastSkips bool
	// RolledBackLookback is how far back rolled-back runs are looked for
	// (check.Thresholds.RolledBackLookback); 0 is a week.
	RolledBackLookback time.Duration
	// Logger receives the reader's debug notes, such as which plan it
	// chose and why. Nil discards them.
	Logger *slog.Logger
	// watermark, when set, receives the newest executed_at (ReadSince).
	watermark *string
}

// batch is how many names go into one IN (...) list: well under every
// database's placeholder limit (SQLite's compound SELECT limit is 500).
const batch = 250

// Read takes a snapshot of the application: the files in src's paths and
// the rows of its tables. now is the time the snapshot is taken (in-progress
// durations are measured against it).
//
// It asks the database only what is wrong, so that its cost follows the
// problems and the files, not the length of the history: failed and open
// rows with no later completed run of the same operation, one probe per
// operation file for pending work, and the counts from SQL. Everything is
// read in one read-only transaction (REPEATABLE READ where the database has
// it), so an operation that completes during the read is seen once.
func Read(ctx context.Context, db *DB, src laravel.Source, now time.Time, opt ReadOptions) (*check.Snapshot, error) {
	snap, tx, _, err := read(ctx, db, src, now, opt)
	if err != nil {
		return nil, err
	}
	return snap, tx.Commit()
}

// ReadWithHistory is Read followed by OpenHistory in the same read-only
// transaction, so that status's pending section and its lists show the
// database at one moment. Close the History to end the transaction.
func ReadWithHistory(ctx context.Context, db *DB, src laravel.Source, now time.Time, opt ReadOptions) (*check.Snapshot, *History, error) {
	snap, tx, r, err := read(ctx, db, src, now, opt)
	if err != nil {
		return nil, nil, err
	}
	return snap, &History{r: r, tx: tx}, nil
}

// read is Read, leaving its transaction open for the caller to end (it is
// rolled back when read fails).
func read(ctx context.Context, db *DB, src laravel.Source, now time.Time, opt ReadOptions) (_ *check.Snapshot, _ *sql.Tx, _ reader, err error) {
	loc := src.Location
	if loc == nil {
		loc = time.UTC
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	snap := &check.Snapshot{
		App: src.Name, Environment: src.Environment, Driver: src.Conn.Driver, Timezone: loc.String(),
		TakenAt:           now.In(loc),
		PendingMigrations: []check.PendingFile{}, PendingOperations: []check.PendingFile{},
		InProgress: []check.Attempt{}, Scheduled: []check.Attempt{}, Failing: []check.Failure{}, RolledBack: []check.RolledBackRun{},
		LastCompleted: map[string]time.Time{},
	}
	var opFiles, migFiles *laravel.Listing
	if !opt.SkipPending {
		var err error
		if opFiles, migFiles, err = discover(src, snap); err != nil {
			return nil, nil, reader{}, err
		}
	}

	t := src.Tables.WithDefaults()
	hasDeferred, err := db.checkTables(ctx, t)
	if err != nil {
		return nil, nil, reader{}, err
	}
	// The plan is chosen before the transaction: statistics are estimates,
	// and a failed look-up must not abort the read (on PostgreSQL an error
	// ends the transaction it happens in).
	var walk bool
	if !opt.SkipProblems {
		plain := reader{db: db, d: db.d, t: t, loc: loc}
		var why string
		walk, why = plain.choosePlan(ctx)
		log.Debug("read plan", "plan", map[bool]string{true: "index walk", false: "filtered scan"}[walk], "why", why)
	}
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, nil, reader{}, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	r := reader{db: db, d: db.d, t: t, loc: loc, q: tx, bad: newUnreadableSet()}

	if !opt.SkipProblems {
		var names []string
		if walk {
			if names, err = r.unfinishedNames(ctx); err != nil {
				return nil, nil, reader{}, err
			}
		}
		lookback := opt.RolledBackLookback
		if lookback <= 0 {
			lookback = defaultRolledBackLookback
		}
		since := now.In(loc).Add(-lookback)
		if !walk || len(names) > 0 {
			set, err := r.problems(ctx, walk, names, now, since.Format(time.DateTime))
			if err != nil {
				return nil, nil, reader{}, err
			}
			failing, running := set.result()
			snap.Failing = failing
			var warn []string
			snap.InProgress, snap.Scheduled, warn = scheduledApart(running, src.OperationPaths)
			snap.Warnings = append(snap.Warnings, warn...)
			if snap.RolledBack, err = r.rolledBackSince(ctx, set.rolledBack, since); err != nil {
				return nil, nil, reader{}, err
			}
		}
		if err := r.errorsOf(ctx, snap.Failing, false); err != nil {
			return nil, nil, reader{}, err
		}
		sortFailures(snap.Failing)
		distinct := map[string]bool{}
		for _, f := range snap.Failing {
			distinct[f.Name] = true
		}
		snap.Counts.Failing = len(distinct)
		snap.Counts.InProgress = len(snap.InProgress)
		snap.Counts.Scheduled = len(snap.Scheduled)
		snap.Counts.RolledBack = len(snap.RolledBack)
		if hasDeferred {
			if snap.Deferred, err = r.deferred(ctx, now); err != nil {
				return nil, nil, reader{}, err
			}
			snap.Counts.DeferredExhausted = len(snap.Deferred.Exhausted)
		}
	}
	if len(opt.Watch) > 0 {
		if err := r.lastCompleted(ctx, uniqueSorted(opt.Watch), snap.LastCompleted); err != nil {
			return nil, nil, reader{}, err
		}
	}

	if !opt.SkipPending {
		if snap.PendingOperations, err = r.pendingFiles(ctx, opFiles, opt.LastSkips); err != nil {
			return nil, nil, reader{}, err
		}
		snap.Counts.PendingOperations = len(snap.PendingOperations)
		snap.Counts.Completed = opFiles.Len() - len(snap.PendingOperations)
		ran, err := r.migrations(ctx)
		if err != nil {
			return nil, nil, reader{}, err
		}
		for i := range migFiles.Len() {
			if !ran[migFiles.Name(i)] {
				snap.PendingMigrations = append(snap.PendingMigrations, migFiles.File(i))
			}
		}
		snap.Counts.PendingMigrations = len(snap.PendingMigrations)
	}

	if opt.watermark != nil {
		if *opt.watermark, err = r.newestStart(ctx); err != nil {
			return nil, nil, reader{}, err
		}
	}
	r.bad.fill(snap)
	return snap, tx, r, nil
}

// discover lists the operation and migration files of src, and records
// in snap the discovery directories that do not exist (MissingDirs, and a
// warning each).
func discover(src laravel.Source, snap *check.Snapshot) (ops, migs *laravel.Listing, err error) {
	for _, d := range []struct {
		of    string
		dirs  []string
		files **laravel.Listing
	}{{"operation", src.OperationPaths, &ops}, {"migration", src.MigrationPaths, &migs}} {
		var missing []string
		if *d.files, missing, err = laravel.Discover(d.dirs); err != nil {
			return nil, nil, err
		}
		for _, p := range missing {
			m := check.MissingDir{Of: d.of, Path: p}
			snap.MissingDirs = append(snap.MissingDirs, m)
			snap.Warnings = append(snap.Warnings, m.String())
		}
	}
	return ops, migs, nil
}

func uniqueSorted(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		n = laravel.StripPHP(n)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func sortFailures(fs []check.Failure) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].FailedAt, fs[j].FailedAt
		switch {
		case a == nil || b == nil:
			return b == nil && a != nil
		case !a.Equal(*b):
			return a.After(*b)
		}
		// Integer ids as text: the longer is the larger; ULIDs and UUIDs
		// have one length and sort as text.
		if len(fs[i].ID) != len(fs[j].ID) {
			return len(fs[i].ID) > len(fs[j].ID)
		}
		return fs[i].ID > fs[j].ID
	})
}

// checkTables verifies that Sequencer's tables exist and reports whether the
// optional deferred_operations table does.
func (db *DB) checkTables(ctx context.Context, t laravel.Tables) (hasDeferred bool, err error) {
	names := []string{t.Operations, t.Errors, t.Migrations, t.Deferred}
	found := map[string]bool{}
	var q string
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	switch db.d.name() {
	case "pgsql":
		// to_regclass honours the search_path and schema-qualified names.
		q = "SELECT CAST(to_regclass($1) AS TEXT) IS NOT NULL, CAST(to_regclass($2) AS TEXT) IS NOT NULL, CAST(to_regclass($3) AS TEXT) IS NOT NULL, CAST(to_regclass($4) AS TEXT) IS NOT NULL"
		var ok [4]bool
		if err := db.SQL.QueryRowContext(ctx, q, args...).Scan(&ok[0], &ok[1], &ok[2], &ok[3]); err != nil {
			return false, db.queryError("look up Sequencer's tables", err)
		}
		for i, n := range names {
			found[n] = ok[i]
		}
	default:
		if db.d.name() == "mysql" {
			q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (?, ?, ?, ?)"
		} else {
			q = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name IN (?, ?, ?, ?)"
		}
		rows, err := db.SQL.QueryContext(ctx, q, args...)
		if err != nil {
			return false, db.queryError("look up Sequencer's tables", err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return false, db.queryError("look up Sequencer's tables", err)
			}
			found[n] = true
		}
		if err := rows.Err(); err != nil {
			return false, db.queryError("look up Sequencer's tables", err)
		}
	}
	var missing []string
	for _, n := range names[:3] {
		if !found[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return false, &SchemaError{Missing: missing, Where: db.conn.Where()}
	}
	return found[t.Deferred], nil
}

type reader struct {
	db  *DB
	d   dialect
	t   laravel.Tables
	loc *time.Location
	// q runs the queries: the read transaction, or the DB when nil.
	q queryer
	// bad collects the values the read cannot read (nil: not noted).
	bad *unreadableSet
}

// queryer is what a reader needs of a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (r *reader) query(ctx context.Context, what, q string, args []any, scan func(*sql.Rows) error) error {
	var qr queryer = r.db.SQL
	if r.q != nil {
		qr = r.q
	}
	rows, err := qr.QueryContext(ctx, q, args...)
	if err != nil {
		return r.db.queryError(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return r.db.queryError(what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return r.db.queryError(what, err)
	}
	return nil
}

// attemptCols are the columns of a run that scanAttempt reads, each
// qualified with alias ("o." or "").
func (r *reader) attemptCols(alias string) string {
	cols := r.d.text(alias + "id")
	for _, c := range []string{"name", "type", "state", "executed_at", "completed_at", "failed_at", "skipped_at", "skip_reason", "rolled_back_at"} {
		cols += ", " + alias + c
	}
	return cols
}

// scanAttempt scans attemptCols into a. failed says failed_at is set: a
// failed_at that cannot be read leaves a.FailedAt nil, but the row failed
// all the same (when is unknown).
func (r *reader) scanAttempt(rows *sql.Rows, a *check.Attempt) (failed bool, err error) {
	exec, done, fail := r.stamp("executed_at"), r.stamp("completed_at"), r.stamp("failed_at")
	skipped, rolledBack := r.stamp("skipped_at"), r.stamp("rolled_back_at")
	var typ, state, reason sql.NullString
	if err := rows.Scan(&a.ID, &a.Name, &typ, &state, exec, done, fail, skipped, &reason, rolledBack); err != nil {
		return false, err
	}
	r.note(r.t.Operations, a.ID, "", exec, done, fail, skipped, rolledBack)
	a.Name = laravel.StripPHP(a.Name)
	a.Type, a.State = typ.String, state.String
	a.ExecutedAt = exec.t
	a.CompletedAt, a.FailedAt = done.ptr(), fail.ptr()
	a.SkippedAt, a.SkipReason, a.RolledBackAt = skipped.ptr(), reason.String, rolledBack.ptr()
	return fail.set, nil
}

// nameArgs returns both spellings (with and without ".php") of each name.
func nameArgs(names []string) []any {
	args := make([]any, 0, 2*len(names))
	for _, n := range names {
		args = append(args, n, n+".php")
	}
	return args
}

// migrations reads the names in Laravel's migrations table.
func (r *reader) migrations(ctx context.Context) (map[string]bool, error) {
	ran := map[string]bool{}
	q := "SELECT migration FROM " + r.d.table(r.t.Migrations)
	err := r.query(ctx, fmt.Sprintf("read migrations table %q", r.t.Migrations), q, nil, func(rows *sql.Rows) error {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		ran[laravel.StripPHP(m)] = true
		return nil
	})
	return ran, err
}

// deferred summarises deferred_operations as of now: the pending rows
// already due, the rows in processing, and the rows that used up their
// attempts. Only those can be a problem (check.DeferredOverdue,
// DeferredStuck, and an exhausted row each), so that is all it reads, on
// the (status, due_at) index: the completed and cancelled history and the
// rows waiting for a later time are never touched (TestDeferredReadFollowsProblems
// counts the rows each database examines).
func (r *reader) deferred(ctx context.Context, now time.Time) (*check.Deferred, error) {
	d := &check.Deferred{Exhausted: []check.DeferredFailure{}}
	what := fmt.Sprintf("read deferred operations table %q", r.t.Deferred)
	summary, exhausted := r.deferredQueries(now)
	err := r.query(ctx, what, summary.q, summary.args, func(rows *sql.Rows) error {
		var status string
		var n int
		due, reserved := r.stamp("due_at"), r.stamp("reserved_at")
		if err := rows.Scan(&status, &n, due, reserved); err != nil {
			return err
		}
		if status == "pending" {
			d.Pending, d.OldestDueAt = n, due.ptr()
		} else {
			d.Processing, d.OldestReservedAt = n, reserved.ptr()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = r.query(ctx, what, exhausted.q, exhausted.args, func(rows *sql.Rows) error {
		var f check.DeferredFailure
		failed := r.stamp("failed_at")
		var lastErr sql.NullString
		if err := rows.Scan(&f.ID, &f.Operation, &f.Attempts, &f.MaxAttempts, failed, &lastErr); err != nil {
			return err
		}
		r.note(r.t.Deferred, f.ID, "", failed)
		f.FailedAt, f.LastError = failed.ptr(), lastErr.String
		d.Exhausted = append(d.Exhausted, f)
		return nil
	})
	return d, err
}

// statement is one SQL statement and its arguments.
type statement struct {
	q    string
	args []any
}

// deferredQueries are deferred's two statements at now. The summary is two
// rows (a count and an oldest time each), each a range of the (status,
// due_at) index: the pending rows due at or before now (what
// sequencer:deferred-process would take; Sequencer moves a retried row back
// to pending with a later due_at) and the processing rows, few unless their
// workers died. Values that cannot be read are left out of the minimums.
// The exhausted rows are those with status failed: Sequencer sets it only
// when the attempts are used up, and the row stays so until someone acts;
// attempts >= max_attempts says so again for other writers.
func (r *reader) deferredQueries(now time.Time) (summary, exhausted statement) {
	tbl := r.d.table(r.t.Deferred)
	readable := func(col string) string { return "MIN(CASE WHEN " + r.d.stampOK(col) + " THEN " + col + " END)" }
	summary = statement{
		q: "SELECT 'pending', COUNT(*), " + readable("due_at") + ", NULL FROM " + tbl + " WHERE status = 'pending' AND due_at <= " + r.d.ph(1) +
			"\nUNION ALL\nSELECT 'processing', COUNT(*), NULL, " + readable("reserved_at") + " FROM " + tbl + " WHERE status = 'processing'",
		args: []any{now.In(r.loc).Format(time.DateTime)},
	}
	exhausted = statement{q: "SELECT " + r.d.text("id") + ", operation, attempts, max_attempts, failed_at, last_error FROM " + tbl +
		" WHERE status = 'failed' AND attempts >= max_attempts ORDER BY CASE WHEN failed_at IS NULL THEN 1 ELSE 0 END, failed_at DESC"}
	return summary, exhausted
}

// lastCompleted adds to lastOK the newest completed run of each name whose
// newest run did not complete; it reads only those operations' rows.
func (r *reader) lastCompleted(ctx context.Context, names []string, lastOK map[string]time.Time) error {
	for i := 0; i < len(names); i += batch {
		chunk := names[i:min(i+batch, len(names))]
		q := "SELECT name, MAX(executed_at) FROM " + r.d.table(r.t.Operations) +
			" WHERE completed_at IS NOT NULL AND " + r.d.stampOK("executed_at") + " AND name IN " + r.d.in(1, 2*len(chunk)) + " GROUP BY name"
		err := r.query(ctx, fmt.Sprintf("read operations table %q", r.t.Operations), q, nameArgs(chunk), func(rows *sql.Rows) error {
			var name string
			at := r.stamp("executed_at")
			if err := rows.Scan(&name, at); err != nil {
				return err
			}
			if !at.valid {
				return nil // as problemQuery: no recovery
			}
			name = laravel.StripPHP(name)
			if prev, ok := lastOK[name]; !ok || at.t.After(prev) {
				lastOK[name] = at.t
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
