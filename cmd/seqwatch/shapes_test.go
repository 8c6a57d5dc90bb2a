package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/notify/webhook"
)

// shapeNow is when the row shapes are read.
var shapeNow = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// shapeWant is what every view says about one row shape
// (dbtest.RowShapes), read at shapeNow with stuck_after 30m.
type shapeWant struct {
	// status and notStatus are text that `seqwatch status` prints, or
	// must not.
	status, notStatus []string
	// json checks the `status --json` document, decoded as the schema
	// (check.Snapshot) and as plain JSON (for the presence of fields).
	json func(t *testing.T, doc *check.Snapshot, raw map[string]any)
	// verdict, summary and perf are `seqwatch check`'s status, text in
	// its summary, and some of its performance data.
	verdict check.Status
	summary []string
	perf    map[string]int
	// events are the kinds the daemon sends: at the tick that first sees
	// the rows (its state started on empty tables, so nothing is a first
	// run's digest), and at a tick 5 minutes later.
	events [2][]string
	// eventText is text the summaries of the first tick's events hold.
	eventText []string
}

// shapeWants says, for every shape, what status, check and the daemon say.
var shapeWants = map[string]shapeWant{
	"sync_completed": {
		status:  []string{"Completed Operations", dbtest.ShapeOpA + ".php", "Total: 1 completed operation(s)", "Total: 1 pending operation(s)", "Total: 0 failed operation(s)"},
		verdict: check.OK,
		perf:    map[string]int{"failed": 0, "pending": 1, "completed": 1},
	},
	"sync_failed": {
		status:    []string{dbtest.ShapeOpA + ".php (Failed at: ", "SQLSTATE[23505]: duplicate key", "Total: 1 failed operation(s)", "Total: 2 pending operation(s)"},
		notStatus: []string{"runs again"},
		verdict:   check.Critical, summary: []string{"1 failed operation (" + dbtest.ShapeOpA + ": QueryException: SQLSTATE[23505]: duplicate key)"},
		perf: map[string]int{"failed": 1, "pending": 2},
		json: func(t *testing.T, doc *check.Snapshot, raw map[string]any) {
			if len(doc.Failed) != 1 || doc.Failed[0].Recovered || len(doc.Failing) != 1 || doc.Counts.Failing != 1 {
				t.Errorf("failed %+v failing %+v: want one failing row, not recovered", doc.Failed, doc.Failing)
			}
		},
		events: [2][]string{{"operation.failed"}, nil},
	},
	"errors_not_recorded": {
		status:  []string{"No error recorded (SEQUENCER_RECORD_ERRORS may be off).", "Total: 1 failed operation(s)"},
		verdict: check.Critical, summary: []string{"no error recorded"},
		events: [2][]string{{"operation.failed"}, nil},
	},
	"not_run_here": {
		status:  []string{"Total: 1 completed operation(s)", "Total: 0 pending operation(s)"},
		verdict: check.OK, perf: map[string]int{"completed": 1, "pending": 0},
	},
	"async_retry_completed_in_place": {
		status: []string{dbtest.ShapeOpA + ".php (Failed at: ", "[recovered: the queue's retry completed it at ",
			"Total: 0 failed operation(s) (and 1 that failed and later completed, marked recovered)", "Total: 0 completed operation(s)"},
		notStatus: []string{"Total: 1 failed operation(s)"},
		verdict:   check.OK, perf: map[string]int{"failed": 0, "pending": 0, "completed": 1},
		json: func(t *testing.T, doc *check.Snapshot, raw map[string]any) {
			if len(doc.Failed) != 1 || !doc.Failed[0].Recovered || doc.Failed[0].RecoveredAt == nil || len(doc.Failing) != 0 || doc.Counts.Failing != 0 {
				t.Errorf("failed %+v failing %+v: want the row recovered, nothing failing", doc.Failed, doc.Failing)
			}
		},
	},
	"scheduled_waiting": {
		status:    []string{"Scheduled\n", dbtest.ShapeOpA + ".php", "3h00m", "Total: 1 scheduled operation(s) waiting for their time", "Total: 0 operation(s) in progress"},
		notStatus: []string{"Total: 1 operation(s) in progress"},
		verdict:   check.OK, perf: map[string]int{"in_progress": 0, "stuck": 0, "scheduled": 1},
		json: func(t *testing.T, doc *check.Snapshot, raw map[string]any) {
			if len(doc.Scheduled) != 1 || doc.Scheduled[0].Name != dbtest.ShapeOpA || len(doc.InProgress) != 0 || doc.Counts.Scheduled != 1 || doc.Counts.InProgress != 0 {
				t.Errorf("scheduled %+v in progress %+v counts %+v: want one scheduled, none in progress", doc.Scheduled, doc.InProgress, doc.Counts)
			}
		},
	},
	"scheduled_by_full_name_waiting_too_long": {
		status:  []string{"Total: 1 scheduled operation(s) waiting for their time", "Total: 0 operation(s) in progress"},
		verdict: check.Warning, summary: []string{"1 scheduled operation waiting longer than 2d00h (" + dbtest.ShapeOpA + " queued 2d02h ago)"},
		perf:   map[string]int{"in_progress": 0, "stuck": 1, "scheduled": 1},
		events: [2][]string{{"operation.stuck"}, nil},
	},
	"scheduled_type_not_waiting": {
		status:  []string{"Total: 1 operation(s) in progress", "Total: 0 scheduled operation(s) waiting for their time"},
		verdict: check.Warning, summary: []string{"1 operation in progress longer than 30m00s"},
		perf:   map[string]int{"in_progress": 1, "stuck": 1, "scheduled": 0},
		events: [2][]string{{"operation.stuck"}, nil},
	},
	"async_dead_worker": {
		status:  []string{"Total: 1 operation(s) in progress"},
		verdict: check.Warning, summary: []string{"1 operation in progress longer than 30m00s"},
		perf:   map[string]int{"in_progress": 1, "stuck": 1},
		events: [2][]string{{"operation.stuck"}, nil},
	},
	"deferred_stuck_in_processing": {
		verdict: check.Warning, summary: []string{"2 deferred operations processing, the oldest reserved 3h00m ago (more than 1h00m: its worker died?)"},
		json: func(t *testing.T, doc *check.Snapshot, raw map[string]any) {
			if doc.Deferred == nil || doc.Deferred.Processing != 2 || doc.Deferred.OldestReservedAt == nil {
				t.Errorf("deferred %+v: want 2 processing with the oldest reservation", doc.Deferred)
			}
		},
		events: [2][]string{{"deferred.stuck"}, nil},
	},
	"deferred_overdue": {
		// The row due in an hour is not counted: it is no one's problem yet.
		verdict: check.Warning, summary: []string{"1 deferred operation pending, the oldest due 2h00m ago (more than 1h00m: is sequencer:deferred-process scheduled?)"},
		events: [2][]string{{"deferred.overdue"}, nil},
	},
	"deferred_on_time": {
		verdict: check.OK,
	},
	"async_tries_used_up": {
		status:  []string{dbtest.ShapeOpA + ".php (Failed at: 2026-05-04 11:03:00) [runs again at the next sequencer:process]", "Stripe timed out (try 3)", "Total: 1 failed operation(s)", "Total: 1 pending operation(s)"},
		verdict: check.Critical, summary: []string{"RuntimeException: Stripe timed out (try 3)"},
		events:    [2][]string{{"operation.failed"}, nil},
		eventText: []string{"(the queue gave up on it; it runs again at the next sequencer:process)"},
	},
	"skipped": {
		status:  []string{"Last Skipped", dbtest.ShapeOpA + ".php", "2026-05-04 10:00:01: Waiting for the payment provider's migration to finish (ticket PAY-1432)", "Total: 1 pending operation(s)", "Total: 0 operation(s) in progress"},
		verdict: check.OK, perf: map[string]int{"pending": 1, "in_progress": 0, "completed": 0},
		json: func(t *testing.T, doc *check.Snapshot, raw map[string]any) {
			if len(doc.PendingOperations) != 1 || doc.PendingOperations[0].SkippedAt == nil || !strings.HasPrefix(doc.PendingOperations[0].SkipReason, "Waiting for the payment provider's migration\n") {
				t.Errorf("pending %+v: want the newest skip and its reason", doc.PendingOperations)
			}
		},
	},
	"rolled_back": {
		status:  []string{dbtest.ShapeOpA + ".php", " [rolled back at 2026-05-04 11:41:00]", "Total: 1 completed operation(s)", "Total: 1 failed operation(s)", "Total: 2 pending operation(s)"},
		verdict: check.Critical, summary: []string{"1 failed operation", "1 rolled-back operation that Sequencer will not run again (" + dbtest.ShapeOpA + " rolled back 19m00s ago after " + dbtest.ShapeOpB + " failed)"},
		perf: map[string]int{"failed": 1, "rolled_back": 1, "completed": 1},
		json: func(t *testing.T, doc *check.Snapshot, raw map[string]any) {
			if len(doc.RolledBack) != 1 || doc.RolledBack[0].Name != dbtest.ShapeOpA || doc.RolledBack[0].Cause == nil || doc.RolledBack[0].Cause.Name != dbtest.ShapeOpB || doc.Counts.RolledBack != 1 {
				t.Errorf("rolled_back %+v, counts %+v: want %s, caused by %s", doc.RolledBack, doc.Counts, dbtest.ShapeOpA, dbtest.ShapeOpB)
			}
			if len(doc.Completed) != 1 || doc.Completed[0].RolledBackAt == nil {
				t.Errorf("completed %+v: want the rolled-back run with rolled_back_at", doc.Completed)
			}
			for _, list := range []string{"completed", "failed", "failing"} {
				for _, run := range raw[list].([]any) {
					if _, ok := run.(map[string]any)["rolled_back_at"]; !ok {
						t.Errorf("a run of %s has no rolled_back_at: %v", list, run)
					}
				}
			}
		},
		events: [2][]string{{"operation.failed", "operation.rolled_back"}, nil},
	},
	"rolled_back_days_ago": {
		status:  []string{" [rolled back at ", "Total: 0 failed operation(s) (and 1 that failed and later completed, marked recovered)"},
		verdict: check.OK, perf: map[string]int{"failed": 0, "rolled_back": 1},
		events: [2][]string{{"operation.rolled_back"}, nil},
	},
}

// TestEveryRowShape reads every row shape the real Sequencer writes, on
// every database and key type, and checks what status (text and --json),
// check and the daemon say about it.
func TestEveryRowShape(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, sh := range dbtest.RowShapes() {
		names[sh.Name] = true
		if _, ok := shapeWants[sh.Name]; !ok {
			t.Errorf("row shape %s: no expectation in shapeWants", sh.Name)
		}
	}
	for name := range shapeWants {
		if !names[name] {
			t.Errorf("shapeWants has %s, which is no row shape of dbtest.RowShapes", name)
		}
	}
	servers := shapeServers(t)
	for _, d := range dbtest.All {
		for _, idType := range []string{"id", "ulid", "uuid"} {
			for _, sh := range dbtest.RowShapes() {
				want, ok := shapeWants[sh.Name]
				if !ok {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s/%s", d, idType, sh.Name), func(t *testing.T) {
					t.Parallel()
					a := newShapeApp(t, servers, d, idType, sh)
					a.checkViews(t, want)
				})
			}
		}
	}
}

// shapeServers starts one PostgreSQL and one MariaDB server for the test
// (SQLite needs none).
func shapeServers(t *testing.T) map[dbtest.Dialect]*dbtest.Server {
	t.Helper()
	return map[dbtest.Dialect]*dbtest.Server{
		dbtest.Postgres: dbtest.NewServer(t, dbtest.Postgres),
		dbtest.MySQL:    dbtest.NewServer(t, dbtest.MySQL),
	}
}

// shapeApp is an application on one database whose tables hold nothing
// yet; insert writes a shape's rows.
type shapeApp struct {
	dir    string
	db     *dbtest.DB
	schema dbtest.Schema
	shape  dbtest.RowShape
	ids    []string
}

func newShapeApp(t *testing.T, servers map[dbtest.Dialect]*dbtest.Server, d dbtest.Dialect, idType string, sh dbtest.RowShape) *shapeApp {
	t.Helper()
	var db *dbtest.DB
	if srv := servers[d]; srv != nil {
		db = srv.NewDatabase(t)
	} else {
		db = dbtest.NewDatabase(t, d)
	}
	schema := dbtest.Schema{IDType: idType, WithDeferred: sh.Deferred != nil}
	dbtest.CreateSchema(t, db, schema)
	dir := t.TempDir()
	dbtest.WriteApp(t, dir, db, dbtest.AppFiles{Operations: sh.Files, Contents: sh.Contents})
	return &shapeApp{dir: dir, db: db, schema: schema, shape: sh}
}

// insert writes the shape's rows as of now.
func (a *shapeApp) insert(t *testing.T, now time.Time) {
	t.Helper()
	if a.shape.Ops != nil {
		a.ids = a.db.InsertOps(t, a.schema, a.shape.Ops(now)...)
	}
	if a.shape.Deferred != nil {
		a.db.InsertDeferred(t, a.schema, a.shape.Deferred(now)...)
	}
}

// daemon writes a configuration for run --once that sends to a webhook
// receiver, and returns a function that runs one tick at a time and
// returns the kinds of the events it sent.
func (a *shapeApp) daemon(t *testing.T, extra string) func(now time.Time) []string {
	tick := a.daemonEvents(t, extra)
	return func(now time.Time) []string { return kinds(tick(now)) }
}

// daemonEvents is daemon, returning the events.
func (a *shapeApp) daemonEvents(t *testing.T, extra string) func(now time.Time) []webhook.Payload {
	t.Helper()
	var clock time.Time
	hook := newHookReceiver(t, func() time.Time { return clock })
	dir := t.TempDir()
	conf := daemonConf{app: a.dir, statePath: filepath.Join(dir, "state.json"), stuckAfter: "30m",
		channels: []string{hookChannel("hook", hook.url())}}.yaml()
	conf = strings.Replace(conf, "thresholds:\n", "thresholds:\n"+extra, 1)
	cfg := filepath.Join(dir, "seqwatch.yaml")
	writeFileT(t, cfg, conf)
	seen := 0
	return func(now time.Time) []webhook.Payload {
		t.Helper()
		clock = now
		if r := runAt(t, now, "run", "--once", "--config", cfg); r.code != 0 {
			t.Fatalf("run --once at %s: exit %d\n%s", now.Format(time.DateTime), r.code, r.stderr)
		}
		got := hook.requests()
		var evs []webhook.Payload
		for _, r := range got[seen:] {
			evs = append(evs, members(r.Payload)...)
		}
		seen = len(got)
		return evs
	}
}

// checkViews inserts the shape's rows and compares what each view says
// with want.
func (a *shapeApp) checkViews(t *testing.T, want shapeWant) {
	t.Helper()
	tick := a.daemonEvents(t, "")
	if evs := tick(shapeNow.Add(-2 * time.Hour)); len(evs) != 0 {
		t.Fatalf("the daemon's first tick on empty tables sent %v", kinds(evs))
	}
	a.insert(t, shapeNow)

	r := runAt(t, shapeNow, "status", "--app", a.dir)
	if r.code != 0 {
		t.Fatalf("status: exit %d: %s", r.code, r.stderr)
	}
	for _, s := range want.status {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("status does not say %q:\n%s", s, r.stdout)
		}
	}
	for _, s := range want.notStatus {
		if strings.Contains(r.stdout, s) {
			t.Errorf("status says %q:\n%s", s, r.stdout)
		}
	}

	r = runAt(t, shapeNow, "status", "--app", a.dir, "--json")
	if r.code != 0 {
		t.Fatalf("status --json: exit %d: %s", r.code, r.stderr)
	}
	var doc check.Snapshot
	var raw map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("status --json: %v", err)
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("status --json: %v", err)
	}
	if want.json != nil {
		want.json(t, &doc, raw)
	}

	r = runAt(t, shapeNow, "check", "--app", a.dir, "--stuck-after", "30m", "--json")
	var v check.Verdict
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("check --json: %v\n%s", err, r.stdout)
	}
	if v.Status != want.verdict || r.code != int(want.verdict) {
		t.Errorf("check: %s (exit %d), want %s", v.Summary, r.code, want.verdict)
	}
	for _, s := range want.summary {
		if !strings.Contains(v.Summary, s) {
			t.Errorf("check's summary %q does not say %q", v.Summary, s)
		}
	}
	for label, n := range want.perf {
		i := slices.IndexFunc(v.Perf, func(p check.Perf) bool { return p.Label == label })
		if i < 0 || v.Perf[i].Value != n {
			t.Errorf("check's perfdata %v: want %s=%d", v.Perf, label, n)
		}
	}

	for i, at := range []time.Time{shapeNow, shapeNow.Add(5 * time.Minute)} {
		evs := tick(at)
		if got := kinds(evs); !slices.Equal(got, want.events[i]) {
			t.Errorf("daemon tick %d sent %v, want %v", i+1, got, want.events[i])
		}
		if i > 0 {
			continue
		}
		var summaries []string
		for _, ev := range evs {
			summaries = append(summaries, ev.Summary)
		}
		for _, s := range want.eventText {
			if !strings.Contains(strings.Join(summaries, "\n"), s) {
				t.Errorf("the daemon's events do not say %q:\n%s", s, strings.Join(summaries, "\n"))
			}
		}
	}
}

func writeFileT(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// story is a run of Sequencer told as changes to its rows over time, and
// the events the daemon sends at each step.
type story struct {
	name     string
	files    []string
	contents map[string]string
	// thresholds are extra lines under thresholds: in seqwatch.yaml.
	thresholds string
	// deferred creates the deferred_operations table.
	deferred bool
	steps    []storyStep
}

// storyStep changes the rows at shapeNow+at (do may be nil), then runs a
// tick and expects want.
type storyStep struct {
	at   time.Duration
	do   func(t *testing.T, a *shapeApp, now time.Time)
	want []string
}

// insertOps is a step that inserts rows.
func insertOps(ops func(now time.Time) []dbtest.Op) func(t *testing.T, a *shapeApp, now time.Time) {
	return func(t *testing.T, a *shapeApp, now time.Time) {
		a.ids = append(a.ids, a.db.InsertOps(t, a.schema, ops(now)...)...)
	}
}

// updateOp is a step that sets columns of the i-th inserted row.
func updateOp(i int, set func(now time.Time) map[string]any) func(t *testing.T, a *shapeApp, now time.Time) {
	return func(t *testing.T, a *shapeApp, now time.Time) {
		cols := set(now)
		var parts []string
		var args []any
		for _, c := range slices.Sorted(maps.Keys(cols)) {
			parts = append(parts, a.db.Quote(c)+" = ?")
			args = append(args, cols[c])
		}
		a.db.Exec(t, "update "+a.db.Quote("operations")+" set "+strings.Join(parts, ", ")+" where "+a.db.Quote("id")+" = ?", append(args, a.ids[i])...)
	}
}

var stories = []story{
	{
		// A try fails and the queue's next try completes the row within
		// async_retry_grace: nothing is sent, ever.
		name: "async_failure_retried_within_the_grace", files: []string{dbtest.ShapeOpA},
		contents: map[string]string{dbtest.ShapeOpA: dbtest.AsyncRetryablePHP},
		steps: []storyStep{
			{at: 0, do: insertOps(func(now time.Time) []dbtest.Op {
				return []dbtest.Op{{Name: dbtest.ShapeOpA, Type: "async", ExecutedAt: dbtest.Wall(now.Add(-time.Minute))}}
			})},
			{at: time.Minute, do: updateOp(0, func(now time.Time) map[string]any {
				return map[string]any{"state": "failed", "failed_at": dbtest.Wall(now)}
			})},
			{at: 2 * time.Minute, do: updateOp(0, func(now time.Time) map[string]any {
				return map[string]any{"state": "completed", "completed_at": dbtest.Wall(now)}
			})},
			{at: 10 * time.Minute},
		},
	},
	{
		// With async_retry_grace 0 a failed try is sent at once, and its
		// completion by the next try is a recovery.
		name: "async_failure_without_grace", files: []string{dbtest.ShapeOpA}, thresholds: "  async_retry_grace: 0s\n",
		contents: map[string]string{dbtest.ShapeOpA: dbtest.AsyncRetryablePHP},
		steps: []storyStep{
			{at: 0, do: insertOps(func(now time.Time) []dbtest.Op {
				return []dbtest.Op{{Name: dbtest.ShapeOpA, Type: "async", ExecutedAt: dbtest.Wall(now.Add(-time.Minute))}}
			})},
			{at: time.Minute, do: updateOp(0, func(now time.Time) map[string]any {
				return map[string]any{"state": "failed", "failed_at": dbtest.Wall(now)}
			}), want: []string{"operation.failed"}},
			{at: 2 * time.Minute, do: updateOp(0, func(now time.Time) map[string]any {
				return map[string]any{"state": "completed", "completed_at": dbtest.Wall(now)}
			}), want: []string{"operation.recovered"}},
		},
	},
	{
		// A sync failure is not retried by the queue: sent at once.
		name: "sync_failure_sent_at_once", files: []string{dbtest.ShapeOpA},
		steps: []storyStep{
			{at: 0, do: insertOps(func(now time.Time) []dbtest.Op {
				return []dbtest.Op{{Name: dbtest.ShapeOpA, ExecutedAt: dbtest.Wall(now.Add(-time.Second)), FailedAt: dbtest.Wall(now)}}
			}), want: []string{"operation.failed"}},
		},
	},
	{
		// The queue's retry completes the row that failed: the daemon
		// reported the failure, and now reports its recovery.
		name: "async_failure_recovered_in_place", files: []string{dbtest.ShapeOpA},
		contents: map[string]string{dbtest.ShapeOpA: dbtest.AsyncRetryablePHP},
		steps: []storyStep{
			{at: 0, do: insertOps(func(now time.Time) []dbtest.Op {
				return []dbtest.Op{{Name: dbtest.ShapeOpA, Type: "async", ExecutedAt: dbtest.Wall(now.Add(-time.Minute))}}
			})},
			{at: time.Minute, do: updateOp(0, func(now time.Time) map[string]any {
				return map[string]any{"state": "failed", "failed_at": dbtest.Wall(now)}
			})},
			// Still failed after async_retry_grace (2m): sent.
			{at: 5 * time.Minute, want: []string{"operation.failed"}},
			{at: 10 * time.Minute, do: updateOp(0, func(now time.Time) map[string]any {
				return map[string]any{"state": "completed", "completed_at": dbtest.Wall(now)}
			}), want: []string{"operation.recovered"}},
			{at: 15 * time.Minute},
		},
	},
}

func init() {
	stories = append(stories, story{
		// A deploy fails: the operation it ran before is rolled back. The
		// daemon tells once, keeps it open for rolled_back_window, and
		// closes it without an event after.
		name: "rolled_back_once", files: []string{dbtest.ShapeOpA, dbtest.ShapeOpB},
		contents: map[string]string{dbtest.ShapeOpA: dbtest.RollbackablePHP},
		steps: []storyStep{
			{at: 0, do: insertOps(func(now time.Time) []dbtest.Op {
				return []dbtest.Op{{Name: dbtest.ShapeOpA, ExecutedAt: dbtest.Wall(now.Add(-time.Minute)), CompletedAt: dbtest.Wall(now.Add(-time.Minute))}}
			})},
			{at: time.Minute, do: func(t *testing.T, a *shapeApp, now time.Time) {
				insertOps(func(now time.Time) []dbtest.Op {
					return []dbtest.Op{{Name: dbtest.ShapeOpB, ExecutedAt: dbtest.Wall(now.Add(-30 * time.Second)), FailedAt: dbtest.Wall(now.Add(-20 * time.Second)),
						Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "boom", Trace: "#0 {main}"}}}}
				})(t, a, now)
				updateOp(0, func(now time.Time) map[string]any {
					return map[string]any{"state": "rolled_back", "rolled_back_at": dbtest.Wall(now.Add(-10 * time.Second))}
				})(t, a, now)
			}, want: []string{"operation.failed", "operation.rolled_back"}},
			{at: 5 * time.Minute},
			{at: 26 * time.Hour},
		},
	})
}

func init() {
	stories = append(stories, story{
		// The deferred processor stops: deferred.overdue once; it runs
		// again and the problem closes without an event; it stops again,
		// and that is news again.
		name: "deferred_processor_stops_twice", files: []string{dbtest.ShapeOpA}, deferred: true,
		steps: []storyStep{
			{at: 0, do: func(t *testing.T, a *shapeApp, now time.Time) {
				a.db.InsertDeferred(t, a.schema, dbtest.Deferred{Operation: "App\\Deferred\\X", DueAt: dbtest.Wall(now.Add(-2 * time.Hour))})
			}, want: []string{"deferred.overdue"}},
			{at: time.Minute},
			{at: 2 * time.Minute, do: func(t *testing.T, a *shapeApp, now time.Time) {
				a.db.Exec(t, "update "+a.db.Quote("deferred_operations")+" set "+a.db.Quote("status")+" = 'completed'")
			}},
			{at: 3 * time.Hour, do: func(t *testing.T, a *shapeApp, now time.Time) {
				a.db.InsertDeferred(t, a.schema, dbtest.Deferred{Operation: "App\\Deferred\\Y", DueAt: dbtest.Wall(now.Add(-90 * time.Minute))})
			}, want: []string{"deferred.overdue"}},
		},
	})
}

// TestDaemonStories runs each story on every database and key type: the
// daemon's events follow what Sequencer did to its rows.
func TestDaemonStories(t *testing.T) {
	t.Parallel()
	servers := shapeServers(t)
	for _, d := range dbtest.All {
		for _, idType := range []string{"id", "ulid", "uuid"} {
			for _, st := range stories {
				t.Run(fmt.Sprintf("%s/%s/%s", d, idType, st.name), func(t *testing.T) {
					t.Parallel()
					sh := dbtest.RowShape{Name: st.name, Files: st.files, Contents: st.contents}
					if st.deferred {
						sh.Deferred = func(time.Time) []dbtest.Deferred { return nil }
					}
					a := newShapeApp(t, servers, d, idType, sh)
					tick := a.daemon(t, st.thresholds)
					if ks := tick(shapeNow.Add(-2 * time.Hour)); len(ks) != 0 {
						t.Fatalf("the first tick on empty tables sent %v", ks)
					}
					for i, step := range st.steps {
						now := shapeNow.Add(step.at)
						if step.do != nil {
							step.do(t, a, now)
						}
						if got := tick(now); !slices.Equal(got, step.want) {
							t.Errorf("step %d (+%s) sent %v, want %v", i+1, step.at, got, step.want)
						}
					}
				})
			}
		}
	}
}

// TestAQueuedFailureSentAfterItsGraceCarriesItsWholeTrace: a queued run's
// failure waits out async_retry_grace, so the read that sends it is an
// incremental one whose mark keeps only the first 1 KB of each trace; the
// alert still carries the trace as recorded (up to the event's 16 KiB) and
// counts its bytes from the whole trace.
func TestAQueuedFailureSentAfterItsGraceCarriesItsWholeTrace(t *testing.T) {
	t.Parallel()
	servers := shapeServers(t)
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "#%d /var/www/app/vendor/laravel/framework/src/Illuminate/Queue/Worker.php(%d): Illuminate\\Queue\\Jobs\\Job->fire()\n", i, 400+i)
	}
	trace := b.String() + "#300 {main}"
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newShapeApp(t, servers, d, "id", dbtest.RowShape{Name: "queued_failure_trace", Files: []string{dbtest.ShapeOpA},
				Contents: map[string]string{dbtest.ShapeOpA: dbtest.AsyncRetryablePHP}})
			tick := a.daemonEvents(t, "")
			if evs := tick(shapeNow.Add(-2 * time.Hour)); len(evs) != 0 {
				t.Fatalf("the first tick on empty tables sent %v", kinds(evs))
			}
			a.db.InsertOps(t, a.schema, dbtest.Op{Name: dbtest.ShapeOpA, Type: "async", ExecutedAt: dbtest.Wall(shapeNow.Add(-time.Minute)), FailedAt: dbtest.Wall(shapeNow),
				Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "the queue's try failed", Trace: trace}}})
			if evs := tick(shapeNow); len(evs) != 0 {
				t.Fatalf("a queued failure within its grace sent %v", kinds(evs))
			}
			evs := tick(shapeNow.Add(5 * time.Minute))
			if len(evs) != 1 || len(evs[0].Errors) != 1 {
				t.Fatalf("after the grace: sent %+v, want one operation.failed with its error", evs)
			}
			e := evs[0].Errors[0]
			if e.TraceBytes != len(trace) || len(e.Trace) < 8<<10 || !strings.HasPrefix(trace, e.Trace) {
				t.Errorf("the alert carries %d bytes of trace and counts %d, want the first frames of the whole %d bytes (more than the mark's 1 KB) and %d", len(e.Trace), e.TraceBytes, len(trace), len(trace))
			}
		})
	}
}
