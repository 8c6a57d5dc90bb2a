package reader

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/text"
)

// IncrementalOptions tune ReadSince.
type IncrementalOptions struct {
	// Lookback is how far before the watermark rows are read again: a
	// row is written when its operation starts, and a transaction (a
	// transactional batch, a slow deploy) can make it visible after newer
	// rows were seen. Default one hour; a row that becomes visible later
	// than that is found by the next reconcile. Re-reading costs the rows
	// started in that window (an index range), not the history.
	Lookback time.Duration
	// ReconcileEvery forces a full read this often, to see rows deleted or
	// edited behind the watermark. Default one hour.
	ReconcileEvery time.Duration
	// Watch, RolledBackLookback and Logger are as in ReadOptions (the
	// look-back applies to full reads; an incremental one looks at the
	// rows started since the watermark and the rolled-back runs of the
	// mark).
	Watch              []string
	RolledBackLookback time.Duration
	Logger             *slog.Logger
	// Reported says whether a failed run's alert has been made (nil: every
	// run's has). A mark keeps only the first lines of each error's trace
	// (markTrace), enough for the status page: the errors of a failing run
	// the mark knows are taken from it when the run is reported, and read
	// again in full when it is not (a queued run waiting out its retry
	// grace), since its alert is built from this read.
	Reported func(check.Failure) bool
}

// ReadSince reads the application incrementally from prev (nil, or a mark
// of another source or version, means a full read). It returns the same
// snapshot a full Read would (for a history that only grows) and the mark
// for the next call. An unchanged application costs:
//   - the rows whose executed_at is within Lookback of the watermark (an
//     index range);
//   - the open rows of the mark, re-read by id;
//   - one probe per pending file;
//   - nothing for the files unless their directories changed.
func ReadSince(ctx context.Context, db *DB, src laravel.Source, now time.Time, prev *check.Mark, opt IncrementalOptions) (*check.Snapshot, *check.Mark, error) {
	if opt.Lookback <= 0 {
		opt.Lookback = time.Hour
	}
	if opt.ReconcileEvery <= 0 {
		opt.ReconcileEvery = time.Hour
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ident := markSource(src)
	dirs := dirSignature(src)
	full := ""
	switch {
	case prev == nil:
		full = "no mark yet"
	case prev.Version != check.MarkVersion:
		full = "mark of another version"
	case prev.Source != ident:
		full = "mark of another source"
	case prev.Watermark == "":
		// The table was empty: nothing to start a range from, and a full
		// read of a short table is cheap.
		full = "no watermark (the table was empty)"
	case now.Sub(prev.Reconciled) >= opt.ReconcileEvery || now.Before(prev.Reconciled):
		full = "reconcile"
	}
	if full != "" {
		log.Debug("full read", "why", full)
		snap, wm, err := readFull(ctx, db, src, now, ReadOptions{Watch: opt.Watch, RolledBackLookback: opt.RolledBackLookback, Logger: opt.Logger})
		if err != nil {
			return nil, nil, err
		}
		return snap, markOf(snap, ident, dirs, wm, now), nil
	}

	loc := src.Location
	if loc == nil {
		loc = time.UTC
	}
	snap := &check.Snapshot{
		App: src.Name, Environment: src.Environment, Driver: src.Conn.Driver, Timezone: loc.String(),
		TakenAt:       now.In(loc),
		LastCompleted: map[string]time.Time{},
	}
	t := src.Tables.WithDefaults()
	hasDeferred, err := db.checkTables(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	r := reader{db: db, d: db.d, t: t, loc: loc, q: tx, bad: newUnreadableSet()}

	// Problems: rows started since the watermark (less the look-back) and
	// the rows open last time, filtered by the same rule as a full read.
	since := ""
	if prev.Watermark != "" {
		wm, err := time.ParseInLocation(time.DateTime, prev.Watermark, loc)
		if err != nil {
			return nil, nil, fmt.Errorf("state: read watermark %q: %w", prev.Watermark, err)
		}
		since = wm.Add(-opt.Lookback).Format(time.DateTime)
	}
	var ids []string
	known := map[string]check.Failure{}
	for _, f := range prev.Failing {
		ids = append(ids, f.ID)
		known[f.ID] = f
	}
	for _, a := range prev.InProgress {
		ids = append(ids, a.ID)
	}
	for _, a := range prev.Scheduled {
		ids = append(ids, a.ID)
	}
	for _, rb := range prev.RolledBack {
		ids = append(ids, rb.ID)
	}
	set, newest, err := r.problemsSince(ctx, since, ids, now)
	if err != nil {
		return nil, nil, err
	}
	failing, running := set.result()
	// Known failures keep the errors of the mark; only new ones, and those
	// not reported yet (their alert needs the whole traces), are read.
	var fresh []check.Failure
	at := map[string]int{}
	for i, f := range failing {
		if k, ok := known[f.ID]; ok && (opt.Reported == nil || opt.Reported(f)) {
			failing[i].Errors = k.Errors
		} else {
			at[f.ID] = i
			fresh = append(fresh, f)
		}
	}
	if err := r.errorsOf(ctx, fresh, false); err != nil {
		return nil, nil, err
	}
	for _, f := range fresh {
		failing[at[f.ID]].Errors = f.Errors
	}
	// The errors kept from the mark are not read again: nor are their
	// unreadable values, which the mark keeps too.
	for _, u := range prev.Unreadable {
		if _, reread := at[u.OperationID]; u.Table == t.Errors && !reread && stillFailing(failing, u.OperationID) {
			r.bad.add(u)
		}
	}
	sortFailures(failing)
	snap.Failing = failing
	var warnScheduled []string
	snap.InProgress, snap.Scheduled, warnScheduled = scheduledApart(running, src.OperationPaths)
	distinct := map[string]bool{}
	for _, f := range failing {
		distinct[f.Name] = true
	}
	snap.Counts.Failing = len(distinct)
	snap.Counts.InProgress = len(snap.InProgress)
	snap.Counts.Scheduled = len(snap.Scheduled)
	lookback := opt.RolledBackLookback
	if lookback <= 0 {
		lookback = defaultRolledBackLookback
	}
	if snap.RolledBack, err = r.rolledBackSince(ctx, set.rolledBack, now.In(loc).Add(-lookback)); err != nil {
		return nil, nil, err
	}
	snap.Counts.RolledBack = len(snap.RolledBack)
	if hasDeferred {
		if snap.Deferred, err = r.deferred(ctx, now); err != nil {
			return nil, nil, err
		}
		snap.Counts.DeferredExhausted = len(snap.Deferred.Exhausted)
	}
	if len(opt.Watch) > 0 {
		if err := r.lastCompleted(ctx, uniqueSorted(opt.Watch), snap.LastCompleted); err != nil {
			return nil, nil, err
		}
	}

	// Files: listed again only when a directory changed; otherwise only
	// the files pending last time can have changed (by completing).
	completed := prev.Completed
	var probe, migFiles fileList
	listed := dirs != prev.Dirs
	if listed {
		log.Debug("discovery directories changed: listing files")
		ops, migs, err := discover(src, snap)
		if err != nil {
			return nil, nil, err
		}
		probe, migFiles = ops, migs
	} else {
		probe = pendingList(prev.PendingOperations)
		migFiles = pendingList(prev.PendingMigrations)
		snap.Warnings = slices.Clone(prev.Warnings)
		snap.MissingDirs = slices.Clone(prev.MissingDirs)
	}
	snap.Warnings = appendNew(snap.Warnings, warnScheduled...)
	if snap.PendingOperations, err = r.pendingFiles(ctx, probe, false); err != nil {
		return nil, nil, err
	}
	if listed {
		completed = probe.Len() - len(snap.PendingOperations)
	} else {
		completed += probe.Len() - len(snap.PendingOperations)
	}
	snap.Counts.PendingOperations = len(snap.PendingOperations)
	snap.Counts.Completed = completed
	snap.PendingMigrations = []check.PendingFile{}
	if migFiles.Len() > 0 {
		ran, err := r.migrations(ctx)
		if err != nil {
			return nil, nil, err
		}
		for i := range migFiles.Len() {
			if !ran[migFiles.Name(i)] {
				snap.PendingMigrations = append(snap.PendingMigrations, migFiles.File(i))
			}
		}
	}
	snap.Counts.PendingMigrations = len(snap.PendingMigrations)
	r.bad.fill(snap)
	if err := tx.Commit(); err != nil {
		return nil, nil, db.queryError("end the read transaction", err)
	}

	wm := prev.Watermark
	if newest != "" && newest > wm {
		wm = newest
	}
	m := markOf(snap, ident, dirs, wm, prev.Reconciled)
	return snap, m, nil
}

// appendNew appends to list the items it does not hold yet (a mark keeps
// the warnings of the read it was taken from).
func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// readFull is Read plus the watermark, in the same transaction.
func readFull(ctx context.Context, db *DB, src laravel.Source, now time.Time, opt ReadOptions) (*check.Snapshot, string, error) {
	var wm string
	opt.watermark = &wm
	snap, err := Read(ctx, db, src, now, opt)
	return snap, wm, err
}

// markOf builds the mark of a snapshot. Durations are left out, so that an
// unchanged application gives an identical mark (and an unchanged state
// file).
func markOf(s *check.Snapshot, source, dirs, watermark string, reconciled time.Time) *check.Mark {
	m := &check.Mark{
		Version: check.MarkVersion, Source: source, Watermark: watermark, Reconciled: reconciled, Dirs: dirs,
		InProgress:        make([]check.Attempt, len(s.InProgress)),
		Scheduled:         make([]check.Attempt, len(s.Scheduled)),
		PendingOperations: s.PendingOperations, PendingMigrations: s.PendingMigrations,
		Completed: s.Counts.Completed, Warnings: s.Warnings, Unreadable: s.Unreadable, MissingDirs: s.MissingDirs,
	}
	for i, a := range s.InProgress {
		a.RunningFor = 0
		m.InProgress[i] = a
	}
	for i, a := range s.Scheduled {
		a.RunningFor = 0
		m.Scheduled[i] = a
	}
	m.RolledBack = s.RolledBack
	// Traces and messages are cut (markTrace, markMessage): the mark lives
	// in the state file, rewritten whenever it changes, and in the
	// daemon's memory between ticks, once per application; alerts are
	// built from fresh reads (IncrementalOptions.Reported), not from the
	// mark; what it keeps is for the status page. The cut text is a copy:
	// a substring would keep the whole trace it was cut from alive.
	m.Failing = make([]check.Failure, len(s.Failing))
	for i, f := range s.Failing {
		errs := make([]check.ErrorRecord, len(f.Errors))
		for j, e := range f.Errors {
			e.Trace = cutCopy(e.Trace, text.CutLines(e.Trace, markTrace))
			e.Message = cutCopy(e.Message, text.CutBytes(e.Message, markMessage))
			errs[j] = e
		}
		f.Errors = errs
		m.Failing[i] = f
	}
	return m
}

// stillFailing says whether the operation row id is among failing.
func stillFailing(failing []check.Failure, id string) bool {
	for _, f := range failing {
		if f.ID == id {
			return true
		}
	}
	return false
}

// cutCopy is cut, a prefix of s, as a string of its own when it is
// shorter than s (an uncut string is shared: a mark taken from a mark
// copies nothing).
func cutCopy(s, cut string) string {
	if len(cut) == len(s) {
		return s
	}
	return strings.Clone(cut)
}

// markTrace and markMessage bound what a mark keeps of each error: a
// burst of a thousand failures stays a few MB of state, and a daemon
// watching a thousand applications holds a mark for each. markTrace is
// the first frames of a PHP trace (each 100-250 bytes): where it was
// thrown, for the status page; the whole trace is read again for an
// alert (IncrementalOptions.Reported) and by status --failed -v.
const (
	markTrace   = 1 << 10
	markMessage = 2 << 10
)

// markSource identifies where a snapshot comes from, without secrets.
func markSource(src laravel.Source) string {
	c := src.Conn
	t := src.Tables.WithDefaults()
	return strings.Join([]string{c.Driver, c.Host, fmt.Sprint(c.Port), c.Database, t.Operations, t.Errors, t.Migrations,
		strings.Join(src.OperationPaths, ","), strings.Join(src.MigrationPaths, ","), zoneName(src.Location)}, "|")
}

func zoneName(l *time.Location) string {
	if l == nil {
		return "UTC"
	}
	return l.String()
}

// dirSignature is the modification time of each discovery directory:
// adding, removing or renaming a file changes it.
func dirSignature(src laravel.Source) string {
	var b strings.Builder
	for _, d := range append(append([]string{}, src.OperationPaths...), src.MigrationPaths...) {
		fi, err := os.Stat(d)
		if err != nil {
			fmt.Fprintf(&b, "%s:-;", d)
			continue
		}
		fmt.Fprintf(&b, "%s:%d;", d, fi.ModTime().UnixNano())
	}
	return b.String()
}

// problemsSince reads the problem rows and the rolled-back runs still
// their operation's newest among those started at or after since ("" =
// none) and those with the given ids, and the newest executed_at among the
// rows started since (as wall-clock text).
func (r *reader) problemsSince(ctx context.Context, since string, ids []string, now time.Time) (set *problemSet, newest string, err error) {
	set = newProblemSet(now)
	scan := set.scan(r)
	what := fmt.Sprintf("read failed, running and rolled-back operations from %q", r.t.Operations)
	base := r.problemOrRolledBackQuery()
	if since != "" {
		if err := r.query(ctx, what, base+" AND o.executed_at >= "+r.d.ph(1), []any{since}, scan); err != nil {
			return nil, "", err
		}
	}
	for i := 0; i < len(ids); i += batch {
		chunk := ids[i:min(i+batch, len(ids))]
		args := make([]any, len(chunk))
		for j, id := range chunk {
			args[j] = id
		}
		if err := r.query(ctx, what, base+" AND o.id IN "+r.d.in(1, len(chunk)), args, scan); err != nil {
			return nil, "", err
		}
	}
	if newest, err = r.newestStart(ctx); err != nil {
		return nil, "", err
	}
	return set, newest, nil
}

// newestStart is the newest executed_at that can be read, as wall-clock
// text ("" for none): one probe of the executed_at index from its end,
// past the few values that sort after every time and cannot be read
// (PostgreSQL's infinity, text in SQLite), which would otherwise stop
// the watermark for good.
func (r *reader) newestStart(ctx context.Context) (string, error) {
	q := "SELECT executed_at FROM " + r.d.table(r.t.Operations) + " WHERE " + r.d.stampOK("executed_at") + " ORDER BY executed_at DESC LIMIT 1"
	wm := r.stamp("executed_at")
	if err := r.query(ctx, fmt.Sprintf("read operations table %q", r.t.Operations), q, nil, func(rows *sql.Rows) error {
		return rows.Scan(wm)
	}); err != nil {
		return "", err
	}
	if !wm.valid {
		return "", nil
	}
	return wm.t.Format(time.DateTime), nil
}
