package reader

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// Run is one row of the operations table as a deploy gate follows it:
// the run, every end it can have, and the error rows of a failed run.
type Run struct {
	check.Attempt
	// Errors are the run's error rows, oldest first (read for failed runs
	// only).
	Errors []check.ErrorRecord
}

// RunsMark is what ReadRuns remembers between two reads of the runs that
// started since one moment: the runs themselves (a deploy's, so a few
// dozen rows, never the history), their tally and the newest start seen.
// It lives in memory for one `seqwatch wait`; the zero value and nil mean
// nothing has been read yet.
type RunsMark struct {
	since string
	tally runTally
	runs  map[string]Run
}

// Runs returns every run read so far, in the order they started (ties by
// id as the database stores it).
func (m *RunsMark) Runs() []Run {
	if m == nil {
		return nil
	}
	out := make([]Run, 0, len(m.runs))
	for _, r := range m.runs {
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.ExecutedAt.Equal(b.ExecutedAt) {
			return a.ExecutedAt.Before(b.ExecutedAt)
		}
		if len(a.ID) != len(b.ID) {
			return len(a.ID) < len(b.ID)
		}
		return a.ID < b.ID
	})
	return out
}

// runTally is the fingerprint of a set of runs: how many there are, how
// many have each end, the newest failure and the newest start. Sequencer
// only inserts rows and sets their time stamps (failed_at is overwritten
// by a later failed try of the same row, never cleared), so any change to
// the runs since a moment changes this tally, but for a failed try whose
// failed_at is not the newest; ReadRuns re-reads those rows on request.
type runTally struct {
	rows, completed, failed, skipped, rolledBack int
	// newestFailed and newestStart are wall-clock text ("" when none).
	newestFailed, newestStart string
}

func (m *RunsMark) tallyOf() runTally {
	var t runTally
	for _, r := range m.runs {
		t.rows++
		if r.CompletedAt != nil {
			t.completed++
		}
		if r.FailedAt != nil {
			t.failed++
			if s := r.FailedAt.Format(time.DateTime); s > t.newestFailed {
				t.newestFailed = s
			}
		}
		if r.SkippedAt != nil {
			t.skipped++
		}
		if r.RolledBackAt != nil {
			t.rolledBack++
		}
		if s := r.ExecutedAt.Format(time.DateTime); s > t.newestStart {
			t.newestStart = s
		}
	}
	return t
}

// ReadRuns reads the runs of the operations table that started at or
// after since, incrementally from prev (nil: from nothing), and returns
// the runs that are new or changed since prev, with the mark for the next
// call. recheck names runs to read again whatever the tally says: a
// failed asynchronous run waiting for the queue's retry, whose next
// failed try may leave the tally as it was.
//
// What a read costs follows the changes, not the history nor even the
// deploy: in one read-only transaction,
//   - one row: the tally of the runs since `since` (an index range on
//     executed_at);
//   - when more runs started: the runs started at or after the newest
//     start seen;
//   - when a run ended: the runs that had not ended, re-read by id; when
//     one was rolled back: the completed ones, by id;
//   - the recheck runs, by id, and the error rows of runs that failed.
//
// Should the tally still disagree (a run made visible late by a
// transaction, rows deleted), it reads every run since `since` once.
func ReadRuns(ctx context.Context, db *DB, src laravel.Source, since time.Time, prev *RunsMark, recheck []string) ([]Run, *RunsMark, error) {
	loc := src.Location
	if loc == nil {
		loc = time.UTC
	}
	t := src.Tables.WithDefaults()
	// The tables are looked up once: a table that goes away later fails
	// the tally's query, which says so.
	if prev == nil {
		if _, err := db.checkTables(ctx, t); err != nil {
			return nil, nil, err
		}
	}
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	r := reader{db: db, d: db.d, t: t, loc: loc, q: tx}
	from := since.In(loc).Format(time.DateTime)

	next := &RunsMark{since: from, runs: map[string]Run{}}
	fresh := prev == nil || prev.since != from
	if !fresh {
		for id, run := range prev.runs {
			next.runs[id] = run
		}
	}
	fp, err := r.runTally(ctx, from)
	if err != nil {
		return nil, nil, err
	}
	changed := map[string]bool{}
	merge := func(runs []Run) {
		for _, run := range runs {
			old, ok := next.runs[run.ID]
			if !ok || !sameRun(old, run) {
				changed[run.ID] = true
				next.runs[run.ID] = run
			}
		}
	}
	all := func() error {
		runs, err := r.runsWhere(ctx, "o.executed_at >= "+r.d.ph(1), []any{from})
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, run := range runs {
			seen[run.ID] = true
		}
		for id := range next.runs {
			if !seen[id] {
				delete(next.runs, id) // deleted behind our back
			}
		}
		merge(runs)
		return nil
	}

	switch {
	case fresh || fp.rows < len(next.runs):
		if err := all(); err != nil {
			return nil, nil, err
		}
	default:
		known := next.tallyOf()
		if fp.rows > known.rows || fp.newestStart > known.newestStart {
			// New runs start at or after the newest start seen (those of
			// that same second are read again, and are few).
			cond, args := "o.executed_at >= "+r.d.ph(1), []any{from}
			if known.newestStart != "" {
				args = []any{known.newestStart}
			}
			runs, err := r.runsWhere(ctx, cond, args)
			if err != nil {
				return nil, nil, err
			}
			merge(runs)
			known = next.tallyOf()
		}
		if known != fp {
			var ids []string
			for id, run := range next.runs {
				ended := run.SkippedAt != nil || run.RolledBackAt != nil
				switch {
				case ended:
				case run.CompletedAt == nil && (known.completed != fp.completed || known.failed != fp.failed ||
					known.skipped != fp.skipped || known.newestFailed != fp.newestFailed):
					ids = append(ids, id)
				case run.CompletedAt != nil && known.rolledBack != fp.rolledBack:
					ids = append(ids, id)
				}
			}
			runs, err := r.runsByID(ctx, ids)
			if err != nil {
				return nil, nil, err
			}
			merge(runs)
			if next.tallyOf() != fp {
				if err := all(); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	var again []string
	for _, id := range recheck {
		if _, ok := next.runs[id]; ok && !changed[id] {
			again = append(again, id)
		}
	}
	runs, err := r.runsByID(ctx, again)
	if err != nil {
		return nil, nil, err
	}
	merge(runs)
	next.tally = fp

	// Error rows: of the runs that failed since the last read (a new
	// failure, or another failed try), and of those asked for again.
	var failed []check.Failure
	for id := range changed {
		run := next.runs[id]
		var before Run
		if prev != nil && !fresh {
			before = prev.runs[id]
		}
		if run.FailedAt != nil && (before.FailedAt == nil || !before.FailedAt.Equal(*run.FailedAt)) {
			failed = append(failed, check.Failure{Attempt: run.Attempt, Errors: []check.ErrorRecord{}})
		} else if before.ID != "" {
			run.Errors = before.Errors
			next.runs[id] = run
		}
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].ID < failed[j].ID })
	if err := r.errorsOf(ctx, failed, false); err != nil {
		return nil, nil, err
	}
	for _, f := range failed {
		run := next.runs[f.ID]
		run.Errors = f.Errors
		next.runs[f.ID] = run
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, db.queryError("end the read transaction", err)
	}
	out := make([]Run, 0, len(changed))
	for _, run := range next.Runs() {
		if changed[run.ID] {
			out = append(out, run)
		}
	}
	return out, next, nil
}

// sameRun reports whether two reads of one run agree on everything a gate
// judges.
func sameRun(a, b Run) bool {
	eq := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.Name == b.Name && a.Type == b.Type && a.State == b.State && a.ExecutedAt.Equal(b.ExecutedAt) &&
		eq(a.CompletedAt, b.CompletedAt) && eq(a.FailedAt, b.FailedAt) && eq(a.SkippedAt, b.SkippedAt) &&
		a.SkipReason == b.SkipReason && eq(a.RolledBackAt, b.RolledBackAt)
}

// runTally reads the tally of the runs started at or after from: one row.
func (r *reader) runTally(ctx context.Context, from string) (runTally, error) {
	var t runTally
	failed, start := r.stamp("failed_at"), r.stamp("executed_at")
	q := "SELECT COUNT(*), COUNT(completed_at), COUNT(failed_at), COUNT(skipped_at), COUNT(rolled_back_at), MAX(failed_at), MAX(executed_at) FROM " +
		r.d.table(r.t.Operations) + " WHERE executed_at >= " + r.d.ph(1)
	err := r.query(ctx, fmt.Sprintf("read operations table %q", r.t.Operations), q, []any{from}, func(rows *sql.Rows) error {
		return rows.Scan(&t.rows, &t.completed, &t.failed, &t.skipped, &t.rolledBack, failed, start)
	})
	if failed.valid {
		t.newestFailed = failed.t.Format(time.DateTime)
	}
	if start.valid {
		t.newestStart = start.t.Format(time.DateTime)
	}
	return t, err
}

// runCols are the columns of a Run.
func (r *reader) runCols() string {
	return r.d.text("o.id") + ", o.name, o.type, o.state, o.executed_at, o.completed_at, o.failed_at, o.skipped_at, o.skip_reason, o.rolled_back_at"
}

// runsWhere reads the runs that meet cond.
func (r *reader) runsWhere(ctx context.Context, cond string, args []any) ([]Run, error) {
	var out []Run
	q := "SELECT " + r.runCols() + " FROM " + r.d.table(r.t.Operations) + " o WHERE " + cond
	err := r.query(ctx, fmt.Sprintf("read operations table %q", r.t.Operations), q, args, func(rows *sql.Rows) error {
		run, err := r.scanRun(rows)
		if err != nil {
			return err
		}
		out = append(out, run)
		return nil
	})
	return out, err
}

// runsByID reads the runs of the given ids, a batch at a time.
func (r *reader) runsByID(ctx context.Context, ids []string) ([]Run, error) {
	sort.Strings(ids)
	var out []Run
	for i := 0; i < len(ids); i += batch {
		chunk := ids[i:min(i+batch, len(ids))]
		args := make([]any, len(chunk))
		for j, id := range chunk {
			args[j] = id
		}
		runs, err := r.runsWhere(ctx, "o.id IN "+r.d.in(1, len(chunk)), args)
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
	}
	return out, nil
}

func (r *reader) scanRun(rows *sql.Rows) (Run, error) {
	var run Run
	exec, done, failed := r.stamp("executed_at"), r.stamp("completed_at"), r.stamp("failed_at")
	skipped, rolled := r.stamp("skipped_at"), r.stamp("rolled_back_at")
	var typ, state, reason sql.NullString
	if err := rows.Scan(&run.ID, &run.Name, &typ, &state, exec, done, failed, skipped, &reason, rolled); err != nil {
		return Run{}, err
	}
	r.note(r.t.Operations, run.ID, "", exec, done, failed, skipped, rolled)
	run.Name = laravel.StripPHP(run.Name)
	run.Type, run.State, run.SkipReason = typ.String, state.String, reason.String
	run.ExecutedAt = exec.t
	run.CompletedAt, run.FailedAt, run.SkippedAt, run.RolledBackAt = done.ptr(), failed.ptr(), skipped.ptr(), rolled.ptr()
	return run, nil
}
