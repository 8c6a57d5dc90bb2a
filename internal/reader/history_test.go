package reader_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/render"
)

// historyZone is the application's zone in the history tests: not UTC, so
// that a time stamp read in the wrong zone shows.
const historyZone = "Asia/Kathmandu"

// historyOps is a history with everything the completed and failed
// sections must get right: both spellings of a name, a failure recovered
// by the other spelling, one recovered by two later runs (recovered_at is
// the newest), one followed only by an older completed run, a failure
// without error rows, two failures at the same second whose order rests on
// their ids (integer ids numerically, "10" before "9"), and names and
// types that text.Line shortens, collapses or that hold wide characters
// (with integer ids, also names of 255 characters and, on SQLite, more).
func historyOps(d dbtest.Dialect, idType string) []dbtest.Op {
	long := "2024_01_09_000000_" + strings.Repeat("L", 255-len("2024_01_09_000000_"))
	ids := map[string][2]string{
		"id":   {"9", "10"},
		"ulid": {"01J0000000000000000000000A", "01J0000000000000000000000B"},
		"uuid": {"0190a000-0000-7000-8000-000000000009", "0190a000-0000-7000-8000-00000000000a"},
	}[idType]
	ops := []dbtest.Op{
		{Name: "2024_01_01_000000_Alpha", ExecutedAt: day + "08:00:00", CompletedAt: day + "08:01:00"},
		{Name: "2024_01_01_000000_Alpha.php", ExecutedAt: day + "07:00:00", FailedAt: day + "07:00:05", Errors: []dbtest.Err{
			{Exception: `Illuminate\Database\QueryException`, Message: "first <b>&amp;</b>", Trace: "#0 /app/a.php(1): a()\n#1 {main}", Context: `{"line": 42}`, CreatedAt: day + "07:00:03"},
			{Exception: "RuntimeException", Message: "second", Trace: "#0 {main}", CreatedAt: day + "07:00:04"},
		}},
		{Name: "2024_01_02_000000_Beta", ExecutedAt: day + "09:00:00", FailedAt: day + "09:00:01"},
		{ID: ids[0], Name: "2024_01_03_000000_Gamma", ExecutedAt: day + "10:00:00", FailedAt: day + "10:01:00",
			Errors: []dbtest.Err{{Exception: "E", Message: "gamma one", Trace: "#0"}}},
		{ID: ids[1], Name: "2024_01_03_000000_Gamma", ExecutedAt: day + "10:00:30", FailedAt: day + "10:01:00",
			Errors: []dbtest.Err{{Exception: "E", Message: "gamma two", Trace: "#0"}}},
		{Name: "2024_01_03_000000_Gamma.php", ExecutedAt: day + "06:00:00", CompletedAt: day + "06:10:00", Type: "async"},
		{Name: "2024_01_04_000000_Delta", ExecutedAt: day + "11:00:00", FailedAt: day + "11:00:02",
			Errors: []dbtest.Err{{Exception: "E", Message: "delta", Trace: "#0"}}},
		{Name: "2024_01_04_000000_Delta", ExecutedAt: day + "11:30:00", CompletedAt: day + "11:31:00"},
		{Name: "2024_01_04_000000_Delta.php", ExecutedAt: day + "12:30:00", CompletedAt: day + "12:31:00", Type: "batch"},
		{Name: "2024_01_05_000000_日本語の操作", ExecutedAt: day + "05:00:00", CompletedAt: day + "05:00:01"},
		{Name: "2024_01_06_000000_Two   Spaces ", ExecutedAt: day + "05:01:00", CompletedAt: day + "05:01:01",
			Type: "a_very_long_type_name_that_is_longer_than_forty"},
		{Name: "2024_01_07_000000_Bell\x07\x1b[31m|", ExecutedAt: day + "05:02:00", CompletedAt: day + "05:02:01", Type: "sync\x1b"},
		{Name: "2024_01_07_000001_Pipes||||||Name|", ExecutedAt: day + "05:02:30", CompletedAt: day + "05:02:31", Type: "a|b"},
		{Name: "2024_01_10_000000_Running", ExecutedAt: day + "11:50:00"},
		// One deploy's rows in one second: ordered by id, newest first
		// (the ids of the key types here grow with the order of insert).
		{Name: "2024_01_14_000001_SameSecondA", ExecutedAt: day + "02:00:00", CompletedAt: day + "02:00:09"},
		{Name: "2024_01_14_000002_SameSecondB", ExecutedAt: day + "02:00:00", CompletedAt: day + "02:00:01"},
		{Name: "2024_01_14_000003_SameSecondC", ExecutedAt: day + "02:00:00", FailedAt: day + "02:00:01"},
		{Name: "2024_01_14_000004_SameSecondD", ExecutedAt: day + "02:00:00", FailedAt: day + "02:00:08"},
		// Rolled back after it completed: still in the completed list,
		// marked.
		{Name: "2024_01_13_000000_RolledBack", State: "rolled_back", ExecutedAt: day + "03:00:00", CompletedAt: day + "03:00:02", RolledBackAt: day + "03:00:09"},
		// The queue's retry of an Asynchronous operation reuses its row:
		// two failed tries, then one that completed.
		{Name: "2024_01_12_000000_AsyncRetried", Type: "async", State: "completed", ExecutedAt: day + "04:00:00",
			FailedAt: day + "04:00:40", CompletedAt: day + "04:01:30", Errors: []dbtest.Err{
				{Exception: "RuntimeException", Message: "try 1", Trace: "#0 {main}", CreatedAt: day + "04:00:10"},
				{Exception: "RuntimeException", Message: "try 2", Trace: "#0 {main}", CreatedAt: day + "04:00:40"},
			}},
	}
	if idType != "id" {
		// Without the long names below, the widest name is one whose
		// width is not its length: the database cannot measure it.
		return ops
	}
	ops = append(ops, dbtest.Op{Name: long, ExecutedAt: day + "05:03:00", CompletedAt: day + "05:03:01"})
	if d == dbtest.SQLite {
		// Only SQLite stores names over 255 characters: text.Line cuts them.
		ops = append(ops, dbtest.Op{Name: "2024_01_11_000000_" + strings.Repeat("x", 300), ExecutedAt: day + "05:04:00", CompletedAt: day + "05:04:01"})
	}
	return ops
}

// wantHistory works out from the rows alone what the completed and failed
// lists must hold, in order, as sequencer:status lists them.
func wantHistory(t *testing.T, ops []dbtest.Op, ids []string, loc *time.Location) (completed []check.Attempt, failed []check.Failure) {
	t.Helper()
	at := func(s string) *time.Time {
		if s == "" {
			return nil
		}
		v, err := time.ParseInLocation(time.DateTime, s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	attempt := func(i int) check.Attempt {
		op := ops[i]
		typ := cmp.Or(op.Type, "sync")
		state := "completed"
		if op.FailedAt != "" {
			state = "failed"
		}
		state = cmp.Or(op.State, state)
		return check.Attempt{ID: ids[i], Name: laravel.StripPHP(op.Name), Type: typ, State: state,
			ExecutedAt: *at(op.ExecutedAt), CompletedAt: at(op.CompletedAt), FailedAt: at(op.FailedAt), RolledBackAt: at(op.RolledBackAt)}
	}
	lastDone := map[string]time.Time{}
	for i, op := range ops {
		if op.CompletedAt != "" {
			a := attempt(i)
			if a.ExecutedAt.After(lastDone[a.Name]) {
				lastDone[a.Name] = a.ExecutedAt
			}
			if op.FailedAt == "" {
				completed = append(completed, a)
			}
		}
	}
	for i, op := range ops {
		if op.FailedAt == "" {
			continue
		}
		f := check.Failure{Attempt: attempt(i), Errors: []check.ErrorRecord{}}
		// Recovered by a run started at or after it: a later one, or the
		// row itself (the queue's retry).
		if last, ok := lastDone[f.Name]; ok && !last.Before(f.ExecutedAt) {
			f.Recovered, f.RecoveredAt = true, &last
		}
		for _, e := range op.Errors {
			f.Errors = append(f.Errors, check.ErrorRecord{Exception: e.Exception, Message: e.Message, Trace: e.Trace,
				Context: e.Context, CreatedAt: at(cmp.Or(e.CreatedAt, op.FailedAt))})
		}
		failed = append(failed, f)
	}
	// sequencer:status's order: the newest start first, ties by id,
	// newest first (integer ids numerically).
	newestFirst := func(a, b check.Attempt) int {
		if c := b.ExecutedAt.Compare(a.ExecutedAt); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.ID), len(a.ID)); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	}
	slices.SortStableFunc(completed, newestFirst)
	slices.SortStableFunc(failed, func(a, b check.Failure) int { return newestFirst(a.Attempt, b.Attempt) })
	return completed, failed
}

// historyApp is an application holding historyOps.
type historyApp struct {
	*app
	ops []dbtest.Op
	ids []string
	src laravel.Source
	db  *reader.DB
}

func newHistoryApp(t *testing.T, d dbtest.Dialect, idType string) *historyApp {
	t.Helper()
	schema := dbtest.Schema{IDType: idType}
	a := newApp(t, d, schema, dbtest.AppFiles{Timezone: historyZone,
		Operations: []string{"2024_01_02_000000_Beta", "2024_01_08_000000_Pending"}, Migrations: []string{mig1}})
	ops := historyOps(d, idType)
	ids := a.db.InsertOps(t, schema, ops...)
	src := a.resolve(t, laravel.Settings{})
	db, err := reader.Open(context.Background(), src.Conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &historyApp{app: a, ops: ops, ids: ids, src: src, db: db}
}

// history opens a History and closes it when the (sub)test ends; the DB
// has two connections and each open History holds one.
func (h *historyApp) history(t *testing.T) *reader.History {
	t.Helper()
	hist, err := reader.OpenHistory(context.Background(), h.db, h.src)
	if err != nil {
		t.Fatalf("OpenHistory: %v", err)
	}
	t.Cleanup(func() {
		if err := hist.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return hist
}

// TestStreamedStatusMatchesTheRenderingOfTheWholeHistory streams status
// from the database, on every dialect and id type, and compares it byte for
// byte with what RenderStatus (today's output, the golden files' renderer)
// prints for the lists worked out from the rows: the order, the recovered
// markers, the column widths measured before the first row, the totals.
func TestStreamedStatusMatchesTheRenderingOfTheWholeHistory(t *testing.T) {
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		ctx := context.Background()
		h := newHistoryApp(t, d, idType)
		snap, err := reader.Read(ctx, h.db, h.src, baseNow, reader.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		completed, failed := wantHistory(t, h.ops, h.ids, h.src.Location)
		want := *snap
		want.Completed, want.Failed = completed, failed
		for _, o := range []render.StatusOptions{
			{}, {Verbose: true}, {Completed: true}, {Failed: true}, {Failed: true, Verbose: true},
			{Pending: true}, {Color: true}, {Completed: true, Failed: true},
		} {
			t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
				var got, exp bytes.Buffer
				if err := render.StreamStatus(ctx, &got, snap, h.history(t), o); err != nil {
					t.Fatalf("StreamStatus: %v", err)
				}
				if err := render.Status(&exp, &want, o); err != nil {
					t.Fatal(err)
				}
				if got.String() != exp.String() {
					t.Errorf("streamed status differs:\n%s", lineDiff(exp.String(), got.String()))
				}
				wantNoControl(t, strings.ReplaceAll(got.String(), "\x1b[", ""))
			})
		}
	})
}

// TestHistoryListsRows checks the rows the History hands out, field by
// field: recovered and recovered_at come from SQL, the errors of each
// failure in order, traces only when asked for.
func TestHistoryListsRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		ctx := context.Background()
		h := newHistoryApp(t, d, idType)
		completed, failed := wantHistory(t, h.ops, h.ids, h.src.Location)
		hist := h.history(t)
		var gotC []check.Attempt
		if err := hist.Completed(ctx, func(a *check.Attempt) error { gotC = append(gotC, *a); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(gotC, completed, sameAttempt) {
			t.Errorf("completed:\n got %v\nwant %v", gotC, completed)
		}
		for _, traces := range []bool{false, true} {
			got := collectFailed(t, hist, traces) // the same transaction, twice
			if len(got) != len(failed) {
				t.Fatalf("failed rows: got %d, want %d", len(got), len(failed))
			}
			for i, f := range got {
				w := failed[i]
				if !sameAttempt(f.Attempt, w.Attempt) || f.Recovered != w.Recovered || !sameTime(f.RecoveredAt, w.RecoveredAt) || len(f.Errors) != len(w.Errors) {
					t.Fatalf("failed[%d]:\n got %+v recovered %v at %v\nwant %+v recovered %v at %v", i, f.Attempt, f.Recovered, f.RecoveredAt, w.Attempt, w.Recovered, w.RecoveredAt)
				}
				for j, e := range f.Errors {
					we := w.Errors[j]
					if !traces {
						we.Trace = ""
					}
					if e.ID == "" || e.Exception != we.Exception || e.Message != we.Message || e.Trace != we.Trace || !e.CreatedTime().Equal(we.CreatedTime()) {
						t.Errorf("failed[%d].Errors[%d] = %+v, want %+v", i, j, e, we)
					}
				}
			}
		}
	})
}

// TestStatusJSONStreamsTheDocumentEncodingWrites compares the streamed
// --json document byte for byte with json.Encoder's indented encoding of
// the same snapshot held whole.
func TestStatusJSONStreamsTheDocumentEncodingWrites(t *testing.T) {
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		ctx := context.Background()
		h := newHistoryApp(t, d, idType)
		snap, err := reader.Read(ctx, h.db, h.src, baseNow, reader.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := render.StreamStatusJSON(ctx, &got, snap, h.history(t)); err != nil {
			t.Fatalf("StreamStatusJSON: %v", err)
		}

		whole := *snap
		hist := h.history(t)
		if err := hist.Completed(ctx, func(a *check.Attempt) error { whole.Completed = append(whole.Completed, *a); return nil }); err != nil {
			t.Fatal(err)
		}
		whole.Failed = collectFailed(t, hist, true)
		whole.Counts.CompletedRows, whole.Counts.FailedRows, whole.Counts.Rows = len(whole.Completed), len(whole.Failed), len(h.ops)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&whole); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("streamed JSON differs:\n%s", lineDiff(want.String(), got.String()))
		}
		if !json.Valid(got.Bytes()) {
			t.Error("streamed JSON is not valid JSON")
		}
		// The counts are right, not only consistent.
		completed, failed := wantHistory(t, h.ops, h.ids, h.src.Location)
		if len(whole.Completed) != len(completed) || len(whole.Failed) != len(failed) {
			t.Errorf("lists of %d completed and %d failed, want %d and %d", len(whole.Completed), len(whole.Failed), len(completed), len(failed))
		}
	})
}

// An application without history prints no completed or failed list in
// JSON (omitempty, as before), and empty sections in text.
func TestStatusOfAnEmptyHistory(t *testing.T) {
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a := newApp(t, d, dbtest.Schema{}, dbtest.AppFiles{Operations: []string{opA}})
			src := a.resolve(t, laravel.Settings{})
			db, err := reader.Open(ctx, src.Conn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			snap, err := reader.Read(ctx, db, src, baseNow, reader.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			hist, err := reader.OpenHistory(ctx, db, src)
			if err != nil {
				t.Fatal(err)
			}
			defer hist.Close()
			var js, text bytes.Buffer
			if err := render.StreamStatusJSON(ctx, &js, snap, hist); err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode(snap); err != nil {
				t.Fatal(err)
			}
			if js.String() != want.String() {
				t.Errorf("JSON of an empty history differs:\n%s", lineDiff(want.String(), js.String()))
			}
			if err := render.StreamStatus(ctx, &text, nil, hist, render.StatusOptions{Completed: true, Failed: true}); err != nil {
				t.Fatal(err)
			}
			if want := "Completed Operations\nTotal: 0 completed operation(s)\n\nFailed Operations\n\nTotal: 0 failed operation(s)\n"; text.String() != want {
				t.Errorf("text = %q, want %q", text.String(), want)
			}
		})
	}
}

// TestHistoryFetchesOnlyItsRows counts the rows that reach seqwatch: the
// failed list fetches one row per error of each failed row (one for a
// failure without errors) and nothing of the completed history, and the
// completed list one per completed row plus its one measuring row.
func TestHistoryFetchesOnlyItsRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		ctx := context.Background()
		h := newHistoryApp(t, d, idType)
		bulkCompleted(t, h.app.db, idType, 20, 50) // 1,000 more completed rows
		completed, failed := wantHistory(t, h.ops, h.ids, h.src.Location)
		wantFailedRows := 0
		for _, f := range failed {
			wantFailedRows += max(1, len(f.Errors))
		}
		hist := h.history(t)
		before := h.db.Stats()
		n := 0
		if err := hist.Failed(ctx, false, func(*check.Failure) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if got := h.db.Stats().Sub(before); got.Rows != int64(wantFailedRows) || got.Queries != 1 || n != len(failed) {
			t.Errorf("failed list: %d failures from %d rows in %d queries, want %d from %d rows in 1", n, got.Rows, got.Queries, len(failed), wantFailedRows)
		}
		// Rows whose names text.Line changes are measured one by one; the
		// others by the database.
		odd := 0
		for _, a := range completed {
			if strings.ContainsFunc(a.Name+a.Type, func(r rune) bool { return r <= ' ' || r > '~' || r == '|' }) {
				odd++
			}
		}
		before = h.db.Stats()
		var out bytes.Buffer
		if err := render.StreamStatus(ctx, &out, nil, hist, render.StatusOptions{Completed: true}); err != nil {
			t.Fatal(err)
		}
		// The measuring row, the plain maxima measured apart, the odd rows,
		// the list.
		want := int64(1 + 1 + odd + len(completed) + 1000)
		if got := h.db.Stats().Sub(before); got.Rows != want || got.Queries != 4 {
			t.Errorf("completed section: %d rows in %d queries, want %d in 4", got.Rows, got.Queries, want)
		}
		if !strings.Contains(out.String(), fmt.Sprintf("Total: %d completed operation(s)", len(completed)+1000)) {
			t.Errorf("completed total missing:\n%s", out.String()[max(0, out.Len()-200):])
		}
	})
}

// A history of plain names (nearly every one) is measured in one pass
// that returns one row, before the list.
func TestPlainHistoryIsMeasuredInOnePass(t *testing.T) {
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a := newApp(t, d, dbtest.Schema{}, dbtest.AppFiles{})
			bulkCompleted(t, a.db, "id", 10, 30)
			src := a.resolve(t, laravel.Settings{})
			db, err := reader.Open(ctx, src.Conn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			hist, err := reader.OpenHistory(ctx, db, src)
			if err != nil {
				t.Fatal(err)
			}
			defer hist.Close()
			before := db.Stats()
			var got bytes.Buffer
			if err := render.StreamStatus(ctx, &got, nil, hist, render.StatusOptions{Completed: true}); err != nil {
				t.Fatal(err)
			}
			if st := db.Stats().Sub(before); st.Queries != 2 || st.Rows != 301 {
				t.Errorf("%d rows in %d queries, want 301 in 2", st.Rows, st.Queries)
			}
			var all []check.Attempt
			if err := hist.Completed(ctx, func(a *check.Attempt) error { all = append(all, *a); return nil }); err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := render.Status(&want, &check.Snapshot{Completed: all}, render.StatusOptions{Completed: true}); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("streamed table differs:\n%s", lineDiff(want.String(), got.String()))
			}
		})
	}
}

// TestHistoryReadsOneSnapshot: rows committed after the History's first
// read do not appear in its lists, so a table's widths and total always
// agree with its rows. (SQLite: a reader holds the database's shared lock,
// so no writer can commit meanwhile; the servers are what this checks.)
func TestHistoryReadsOneSnapshot(t *testing.T) {
	for _, d := range []dbtest.Dialect{dbtest.Postgres, dbtest.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := newHistoryApp(t, d, "id")
			hist := h.history(t)
			rows, err := hist.Rows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			h.app.db.InsertOps(t, dbtest.Schema{}, dbtest.Op{Name: "2024_02_01_000000_" + strings.Repeat("Late", 50), ExecutedAt: day + "11:59:00", CompletedAt: day + "11:59:30"},
				dbtest.Op{Name: "2024_02_01_000001_LateFailure", ExecutedAt: day + "11:59:00", FailedAt: day + "11:59:30"})
			var out bytes.Buffer
			if err := render.StreamStatus(ctx, &out, nil, hist, render.StatusOptions{Completed: true, Failed: true}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "Late") {
				t.Errorf("rows committed after the read began appear:\n%s", out.String())
			}
			if again, err := hist.Rows(ctx); err != nil || again != rows {
				t.Errorf("row count changed within the read: %d, then %d (%v)", rows, again, err)
			}
		})
	}
}

// A failing write stops the stream and is returned as it is, not dressed
// up as a database error.
func TestStatusStopsAtAFailingWriter(t *testing.T) {
	ctx := context.Background()
	h := newHistoryApp(t, dbtest.SQLite, "id")
	boom := fmt.Errorf("disk full")
	for _, o := range []render.StatusOptions{{Completed: true}, {Failed: true}} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			w := &failingWriter{after: 300, err: boom}
			if err := render.StreamStatus(ctx, w, nil, h.history(t), o); err != boom {
				t.Errorf("error %v, want %v", err, boom)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		w := &failingWriter{after: 300, err: boom}
		if err := render.StreamStatusJSON(ctx, w, &check.Snapshot{}, h.history(t)); err != boom {
			t.Errorf("error %v, want %v", err, boom)
		}
	})
}

type failingWriter struct {
	after int
	err   error
}

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.after -= len(b); w.after < 0 {
		return 0, w.err
	}
	return len(b), nil
}

func collectFailed(t *testing.T, hist *reader.History, traces bool) []check.Failure {
	t.Helper()
	var out []check.Failure
	err := hist.Failed(context.Background(), traces, func(f *check.Failure) error {
		c := *f
		c.Errors = slices.Clone(f.Errors)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameAttempt(a, b check.Attempt) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Type == b.Type && a.State == b.State && a.ExecutedAt.Equal(b.ExecutedAt) &&
		a.ExecutedAt.Location().String() == b.ExecutedAt.Location().String() &&
		sameTime(a.CompletedAt, b.CompletedAt) && sameTime(a.FailedAt, b.FailedAt) && sameTime(a.RolledBackAt, b.RolledBackAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 6; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n want %q\n  got %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// TestStatusReadsItsSectionsInOneTransaction: status's pending section and
// its lists come from one transaction, so rows committed after the read
// began appear in none of them, whatever section they would change.
func TestStatusReadsItsSectionsInOneTransaction(t *testing.T) {
	for _, d := range []dbtest.Dialect{dbtest.Postgres, dbtest.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := newHistoryApp(t, d, "id")
			before := h.db.Stats()
			snap, hist, err := reader.ReadWithHistory(ctx, h.db, h.src, time.Date(2024, 1, 20, 12, 0, 0, 0, time.UTC), reader.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer hist.Close()
			// The pending operation runs and completes after the read began.
			h.app.db.InsertOps(t, dbtest.Schema{}, dbtest.Op{Name: "2024_01_08_000000_Pending", ExecutedAt: day + "11:59:00", CompletedAt: day + "11:59:30"})
			var out bytes.Buffer
			if err := render.StreamStatus(ctx, &out, snap, hist, render.StatusOptions{}); err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(snap.PendingOperations, func(p check.PendingFile) bool { return p.Name == "2024_01_08_000000_Pending" }) {
				t.Fatalf("the operation is not pending in the snapshot: %+v", snap.PendingOperations)
			}
			if strings.Contains(out.String(), "11:59:30") {
				t.Errorf("the completion committed after the read began appears in the lists while the operation shows as pending:\n%s", out.String())
			}
			if tx := h.db.Stats().Sub(before).Transactions; tx != 1 {
				t.Errorf("status's sections were read in %d transactions, want 1", tx)
			}
		})
	}
}
