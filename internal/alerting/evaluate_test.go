package alerting

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/event"
	"github.com/seqwatch/seqwatch/state"
)

// rules are the settings of one evaluation: the thresholds the snapshot is
// judged by, and the alerting policy.
type rules struct {
	th check.Thresholds
	p  Policy
}

// evaluate is the daemon's logic for one read: the snapshot judged once,
// its problems diffed against st.
func evaluate(st *state.State, snap *check.Snapshot, now time.Time, r rules) []event.Event {
	evs, _ := evaluateNotes(st, snap, now, r)
	return evs
}

func evaluateNotes(st *state.State, snap *check.Snapshot, now time.Time, r rules) ([]event.Event, []string) {
	return Evaluate(st, check.Assess(snap, r.th), now, r.p)
}

var t0 = time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)

const opName = "2024_01_13_120000_FailedOperation"

func failure(name, id string, at time.Time) check.Failure {
	failedAt := at.Add(time.Second)
	return check.Failure{
		Attempt: check.Attempt{ID: id, Name: name, Type: "sync", State: "failed", ExecutedAt: at, FailedAt: &failedAt},
		Errors: []check.ErrorRecord{{
			ID: "e" + id, Exception: "RuntimeException", Message: "Database connection lost\nmore detail",
			Trace: "#0 /app/x.php(12): X->handle()", Context: `{"line":12}`, CreatedAt: &failedAt,
		}},
	}
}

func snapshot(failing ...check.Failure) *check.Snapshot {
	return &check.Snapshot{App: "shop", Environment: "production", TakenAt: t0, Failing: failing}
}

func kinds(evs []event.Event) []string {
	var ks []string
	for _, e := range evs {
		ks = append(ks, string(e.Kind)+" "+e.Key)
	}
	return ks
}

// closedQuietly fails t unless evs is exactly one problem.closed event for
// the problem key of kind: a close without a recovery to tell people, for
// the channels that keep an incident open per problem.
func closedQuietly(t *testing.T, evs []event.Event, key string, kind event.Kind) {
	t.Helper()
	if len(evs) != 1 || evs[0].Kind != event.ProblemClosed || evs[0].Key != key || event.ProblemKind(evs[0].Key) != kind || evs[0].ID == "" {
		t.Fatalf("events = %v, want one problem.closed of %s %s", kinds(evs), kind, key)
	}
}

// initialized returns a state past its first run.
func initialized() *state.State {
	st := state.New()
	st.Initialized = true
	return st
}

func TestEvaluateFailures(t *testing.T) {
	r := rules{}
	st := initialized()
	f42 := failure(opName, "42", t0)

	t.Run("new failure is one event", func(t *testing.T) {
		evs := evaluate(st, snapshot(f42), t0, r)
		if len(evs) != 1 {
			t.Fatalf("events = %v", kinds(evs))
		}
		ev := evs[0]
		want := "operation.failed/" + opName + "/42"
		if ev.Kind != event.OperationFailed || ev.Key != want {
			t.Errorf("event = %s %s", ev.Kind, ev.Key)
		}
		if ev.Summary != opName+" failed: RuntimeException: Database connection lost" {
			t.Errorf("summary = %q", ev.Summary)
		}
		if ev.App != "shop" || ev.Environment != "production" || !strings.HasPrefix(ev.ID, "evt_") || len(ev.ID) != 36 {
			t.Errorf("app/env/id = %q %q %q", ev.App, ev.Environment, ev.ID)
		}
		if ev.Operation == nil || ev.Operation.ID != "42" || len(ev.Errors) != 1 ||
			ev.Errors[0].Trace == "" || ev.Errors[0].Context != `{"line":12}` || !ev.OccurredAt.Equal(t0.Add(time.Second)) {
			t.Errorf("event details = %+v", ev)
		}
		if _, ok := st.Open[want]; !ok {
			t.Error("failure not recorded as open")
		}
		if st.Open[want].Event.Errors[0].Trace != "" {
			t.Error("open problem keeps the trace")
		}
	})
	t.Run("same snapshot again is nothing", func(t *testing.T) {
		if evs := evaluate(st, snapshot(f42), t0.Add(time.Minute), r); len(evs) != 0 {
			t.Fatalf("events = %v", kinds(evs))
		}
	})
	f43 := failure(opName, "43", t0.Add(time.Hour))
	t.Run("retry that fails again is a new event", func(t *testing.T) {
		evs := evaluate(st, snapshot(f43, f42), t0.Add(time.Hour), r)
		if len(evs) != 1 || evs[0].Key != "operation.failed/"+opName+"/43" {
			t.Fatalf("events = %v", kinds(evs))
		}
	})
	t.Run("recovery closes every failure of the operation", func(t *testing.T) {
		snap := snapshot()
		snap.LastCompleted = map[string]time.Time{opName: t0.Add(2 * time.Hour)}
		evs := evaluate(st, snap, t0.Add(2*time.Hour), r)
		want := []string{
			"operation.recovered operation.failed/" + opName + "/42",
			"operation.recovered operation.failed/" + opName + "/43",
		}
		if fmt.Sprint(kinds(evs)) != fmt.Sprint(want) {
			t.Fatalf("events = %v, want %v", kinds(evs), want)
		}
		if len(st.Open) != 0 {
			t.Errorf("still open: %v", st.Open)
		}
		if evs = evaluate(st, snap, t0.Add(3*time.Hour), r); len(evs) != 0 {
			t.Fatalf("then: %v", kinds(evs))
		}
	})
	t.Run("recovered rows are never reported again", func(t *testing.T) {
		// Should an old failed row show up again (e.g. a snapshot that
		// lists history), it stays seen.
		if evs := evaluate(st, snapshot(f42), t0.Add(4*time.Hour), r); len(evs) != 0 {
			t.Fatalf("events = %v", kinds(evs))
		}
	})
}

// A failed row deleted without a later run completing is no recovery to
// tell: the close is only a problem.closed, for the pagers.
func TestEvaluateDeletedFailureClosesWithoutARecovery(t *testing.T) {
	st := initialized()
	evaluate(st, snapshot(failure(opName, "1", t0)), t0, rules{})
	snap := snapshot()
	// A completed run older than the failure does not recover it.
	snap.LastCompleted = map[string]time.Time{opName: t0.Add(-time.Hour)}
	evs, notes := evaluateNotes(st, snap, t0.Add(time.Minute), rules{})
	closedQuietly(t, evs, "operation.failed/"+opName+"/1", event.OperationFailed)
	if len(st.Open) != 0 {
		t.Fatalf("open = %v", st.Open)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "operation.failed/"+opName+"/1") {
		t.Fatalf("notes = %q", notes)
	}
}

func TestEvaluatePendingHysteresis(t *testing.T) {
	r := rules{th: check.Thresholds{MaxPending: 10}}
	t.Run("oscillating around the threshold alerts once", func(t *testing.T) {
		st := initialized()
		var got []string
		for i, n := range []int{9, 11, 10, 11, 9, 11} {
			snap := snapshot()
			snap.Counts.PendingOperations = n
			got = append(got, kinds(evaluate(st, snap, t0.Add(time.Duration(i)*time.Minute), r))...)
		}
		if fmt.Sprint(got) != "[pending.threshold pending.threshold]" {
			t.Fatalf("events = %v", got)
		}
	})
	t.Run("clears once at the lower bound, then can alert again", func(t *testing.T) {
		st := initialized()
		var got []string
		for i, n := range []int{11, 9, 8, 5, 8, 10, 12} {
			snap := snapshot()
			snap.Counts.PendingOperations = n
			snap.PendingOperations = []check.PendingFile{{Name: "2024_01_15_130000_NotifyUsers"}}
			evs := evaluate(st, snap, t0.Add(time.Duration(i)*time.Minute), r)
			for _, e := range evs {
				got = append(got, fmt.Sprintf("%s@%d", e.Kind, n))
				if e.Pending == nil || e.Pending.Count != n || e.Pending.Threshold != 10 || len(e.Pending.Names) != 1 {
					t.Errorf("pending = %+v", e.Pending)
				}
			}
		}
		want := "[pending.threshold@11 pending.cleared@8 pending.threshold@12]"
		if fmt.Sprint(got) != want {
			t.Fatalf("events = %v, want %s", got, want)
		}
	})
}

func TestEvaluateStuck(t *testing.T) {
	r := rules{th: check.Thresholds{StuckAfter: time.Hour}}
	st := initialized()
	row := check.Attempt{ID: "7", Name: "2024_01_14_000000_Import", Type: "async", State: "pending", ExecutedAt: t0.Add(-2 * time.Hour)}
	var got []string
	for i, running := range []bool{true, true, false, false} {
		snap := snapshot()
		snap.TakenAt = t0.Add(time.Duration(i) * time.Minute)
		if running {
			a := row
			a.RunningFor = check.Duration(snap.TakenAt.Sub(a.ExecutedAt))
			snap.InProgress = []check.Attempt{a}
		} else {
			snap.LastCompleted = map[string]time.Time{row.Name: row.ExecutedAt}
		}
		for _, e := range evaluate(st, snap, snap.TakenAt, r) {
			got = append(got, string(e.Kind)+": "+e.Summary)
		}
	}
	want := []string{
		"operation.stuck: 2024_01_14_000000_Import has been running for 2h0m0s (started 2024-01-13 10:00:00)",
		"operation.unstuck: 2024_01_14_000000_Import is no longer running: it completed",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events = %q\nwant %q", got, want)
	}

	t.Run("a row under the limit is not stuck", func(t *testing.T) {
		st := initialized()
		snap := snapshot()
		snap.InProgress = []check.Attempt{{ID: "8", Name: "x", ExecutedAt: t0.Add(-time.Hour), RunningFor: check.Duration(time.Hour)}}
		if evs := evaluate(st, snap, t0, r); len(evs) != 0 {
			t.Fatalf("events = %v", kinds(evs))
		}
	})
}

func TestEvaluateDeferred(t *testing.T) {
	st := initialized()
	x := check.DeferredFailure{ID: "d1", Operation: "SendInvoices", Attempts: 5, MaxAttempts: 5, LastError: "SMTP timeout"}
	snap := snapshot()
	snap.Deferred = &check.Deferred{Exhausted: []check.DeferredFailure{x}}
	evs := evaluate(st, snap, t0, rules{})
	if len(evs) != 1 || evs[0].Kind != event.DeferredFailed || evs[0].Deferred == nil ||
		evs[0].Summary != "deferred SendInvoices failed after 5 of 5 attempts: SMTP timeout" {
		t.Fatalf("events = %+v", evs)
	}
	if evs := evaluate(st, snap, t0.Add(time.Minute), rules{}); len(evs) != 0 {
		t.Fatalf("again: %v", kinds(evs))
	}
	t.Run("reset and exhausted again is reported again", func(t *testing.T) {
		reset := snapshot()
		reset.Deferred = &check.Deferred{Pending: 1}
		closedQuietly(t, evaluate(st, reset, t0.Add(2*time.Minute), rules{}), "deferred.failed/d1", event.DeferredFailed)
		if evs := evaluate(st, snap, t0.Add(3*time.Minute), rules{}); len(evs) != 1 {
			t.Fatalf("on second exhaustion: %v", kinds(evs))
		}
	})
	t.Run("absent table closes nothing", func(t *testing.T) {
		if evs := evaluate(st, snapshot(), t0.Add(4*time.Minute), rules{}); len(evs) != 0 || len(st.Open) != 1 {
			t.Fatalf("events %v open %v", kinds(evs), st.Open)
		}
	})
}

func manyFailures(n int) []check.Failure {
	fs := make([]check.Failure, n)
	for i := range fs {
		fs[i] = failure(fmt.Sprintf("2023_01_01_%06d_Op", i), strconv.Itoa(n-i), t0.Add(-time.Duration(i)*time.Minute))
	}
	return fs
}

func TestEvaluateFirstRun(t *testing.T) {
	past := manyFailures(1000)
	stuckRule := rules{th: check.Thresholds{StuckAfter: time.Hour}}
	withStuck := func() *check.Snapshot {
		s := snapshot(past...)
		s.InProgress = []check.Attempt{{ID: "s", Name: "Slow", ExecutedAt: t0.Add(-3 * time.Hour), RunningFor: check.Duration(3 * time.Hour)}}
		return s
	}

	t.Run("digest", func(t *testing.T) {
		st := state.New()
		evs := evaluate(st, withStuck(), t0, stuckRule)
		if fmt.Sprint(kinds(evs)) != "[digest digest/first-run operation.stuck operation.stuck/Slow/s]" {
			t.Fatalf("events = %v", kinds(evs))
		}
		d := evs[0]
		if len(d.Items) != 1000 || d.Summary != "1000 past failures found on the first check of shop" {
			t.Fatalf("digest has %d items, summary %q", len(d.Items), d.Summary)
		}
		ids := map[string]bool{d.ID: true}
		for _, it := range d.Items {
			if it.Kind != event.OperationFailed || ids[it.ID] {
				t.Fatalf("item %s %s", it.Kind, it.ID)
			}
			ids[it.ID] = true
		}
		if !st.Initialized || len(st.Open) != 1001 {
			t.Fatalf("initialized %v, %d open", st.Initialized, len(st.Open))
		}
		if evs := evaluate(st, withStuck(), t0.Add(time.Minute), stuckRule); len(evs) != 0 {
			t.Fatalf("second run: %v", kinds(evs))
		}

		t.Run("delivering the digest marks its items sent", func(t *testing.T) {
			st.Enqueue(d, []string{"slack"}, t0)
			st.Delivered(d.ID, "slack", t0.Add(time.Second))
			if p := st.Open[d.Items[0].Key]; !p.LastSentAt.Equal(t0.Add(time.Second)) {
				t.Fatalf("LastSentAt = %v", p.LastSentAt)
			}
		})
	})
	t.Run("digest items carry bounded traces", func(t *testing.T) {
		f := failure(opName, "1", t0)
		f.Errors[0].Trace = strings.Repeat("#0 /app/x.php(1): é\n", 10000)
		evs := evaluate(state.New(), snapshot(f), t0, rules{})
		er := evs[0].Items[0].Errors[0]
		tr := er.Trace
		if len(tr) > digestTrace || !strings.HasPrefix(f.Errors[0].Trace, tr+"\n") || er.TraceFrames != 10000 || er.TraceBytes != len(f.Errors[0].Trace) {
			t.Fatalf("trace of %d bytes (%d frames, %d bytes recorded): ...%q", len(tr), er.TraceFrames, er.TraceBytes, tr[len(tr)-40:])
		}
	})
	t.Run("default is digest", func(t *testing.T) {
		evs := evaluate(state.New(), snapshot(past[:3]...), t0, rules{})
		if len(evs) != 1 || evs[0].Kind != event.Digest || len(evs[0].Items) != 3 {
			t.Fatalf("events = %v", kinds(evs))
		}
	})
	t.Run("silent", func(t *testing.T) {
		st := state.New()
		r := rules{th: check.Thresholds{StuckAfter: time.Hour}, p: Policy{FirstRun: FirstRunSilent}}
		evs := evaluate(st, withStuck(), t0, r)
		if fmt.Sprint(kinds(evs)) != "[operation.stuck operation.stuck/Slow/s]" {
			t.Fatalf("events = %v", kinds(evs))
		}
		if evs := evaluate(st, withStuck(), t0.Add(time.Minute), r); len(evs) != 0 {
			t.Fatalf("reported later: %v", kinds(evs))
		}
		// Silenced failures were never reported, so their recovery is
		// not either.
		snap := snapshot()
		snap.LastCompleted = map[string]time.Time{past[0].Name: t0.Add(time.Hour)}
		if evs := evaluate(st, snap, t0.Add(time.Hour), r); len(evs) != 1 || evs[0].Kind != event.OperationUnstuck {
			t.Fatalf("after recovery: %v", kinds(evs))
		}
	})
	t.Run("a clean first run sends nothing", func(t *testing.T) {
		st := state.New()
		if evs := evaluate(st, snapshot(), t0, rules{}); len(evs) != 0 || !st.Initialized {
			t.Fatalf("events %v", kinds(evs))
		}
	})
}

func TestEvaluateReminders(t *testing.T) {
	r := rules{th: check.Thresholds{MaxPending: 10}, p: Policy{RepeatAfter: time.Hour}}
	st := initialized()
	snap := snapshot(failure(opName, "1", t0))
	snap.Counts.PendingOperations = 11
	evs := evaluate(st, snap, t0, r)
	if len(evs) != 2 {
		t.Fatalf("events = %v", kinds(evs))
	}
	remind := func(at time.Time) []event.Event {
		t.Helper()
		snap.Counts.PendingOperations = 12
		return evaluate(st, snap, at, r)
	}

	t.Run("nothing while undelivered", func(t *testing.T) {
		if evs := remind(t0.Add(5 * time.Hour)); len(evs) != 0 {
			t.Fatalf("events = %v", kinds(evs))
		}
	})
	for _, ev := range evs {
		st.Enqueue(ev, []string{"slack"}, t0)
		st.Delivered(ev.ID, "slack", t0.Add(5*time.Hour))
	}
	t.Run("nothing before repeat_after", func(t *testing.T) {
		if evs := remind(t0.Add(5*time.Hour + 59*time.Minute)); len(evs) != 0 {
			t.Fatalf("events = %v", kinds(evs))
		}
	})
	t.Run("one reminder listing both after repeat_after", func(t *testing.T) {
		evs := remind(t0.Add(6 * time.Hour))
		if len(evs) != 1 || evs[0].Kind != event.Reminder || len(evs[0].Items) != 2 {
			t.Fatalf("events = %v", kinds(evs))
		}
		var pending *event.Event
		for i, it := range evs[0].Items {
			if it.Kind == event.PendingThreshold {
				pending = &evs[0].Items[i]
			}
		}
		if pending == nil || pending.Pending.Count != 12 {
			t.Fatalf("reminder items = %+v", evs[0].Items)
		}
		if !strings.HasPrefix(evs[0].Summary, "2 problems still open: ") {
			t.Errorf("summary = %q", evs[0].Summary)
		}
	})
	t.Run("not again until another repeat_after", func(t *testing.T) {
		if evs := remind(t0.Add(6*time.Hour + 30*time.Minute)); len(evs) != 0 {
			t.Fatalf("events = %v", kinds(evs))
		}
		if evs := remind(t0.Add(7 * time.Hour)); len(evs) != 1 {
			t.Fatalf("events = %v", kinds(evs))
		}
	})
}

func TestSourceFailures(t *testing.T) {
	st := initialized()
	boom := errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")
	var got []event.Event
	for i := range 5 {
		got = append(got, SourceFailed(st, boom, t0.Add(time.Duration(i)*time.Minute), check.Thresholds{}, "shop")...)
	}
	if len(got) != 1 || got[0].Kind != event.SourceUnreachable || got[0].Source != boom.Error() {
		t.Fatalf("events = %v", kinds(got))
	}
	if want := "cannot read shop: 3 failed checks in a row since 2024-01-13 12:00:00: " + boom.Error(); got[0].Summary != want {
		t.Errorf("summary = %q", got[0].Summary)
	}
	ok := SourceOK(st, t0.Add(time.Hour), "shop")
	if len(ok) != 1 || ok[0].Kind != event.SourceRecovered || ok[0].Key != "source.unreachable" || ok[0].ID == got[0].ID {
		t.Fatalf("recovered = %v", kinds(ok))
	}
	if again := SourceOK(st, t0.Add(2*time.Hour), "shop"); len(again) != 0 {
		t.Fatalf("second OK = %v", kinds(again))
	}
	if st.Source != (state.Source{}) || len(st.Open) != 0 {
		t.Fatalf("source = %+v open %v", st.Source, st.Open)
	}

	t.Run("a blip below the limit is forgotten", func(t *testing.T) {
		st := initialized()
		SourceFailed(st, boom, t0, check.Thresholds{UnreachableAfter: 3}, "shop")
		SourceFailed(st, boom, t0, check.Thresholds{UnreachableAfter: 3}, "shop")
		if evs := SourceOK(st, t0, "shop"); len(evs) != 0 {
			t.Fatalf("events = %v", kinds(evs))
		}
		if evs := SourceFailed(st, boom, t0, check.Thresholds{UnreachableAfter: 3}, "shop"); len(evs) != 0 || st.Source.Failures != 1 {
			t.Fatalf("count did not reset: %+v", st.Source)
		}
	})
}

func TestEventIDsAreUnique(t *testing.T) {
	st := initialized()
	seen := map[string]bool{}
	add := func(evs []event.Event) {
		for _, e := range append(evs, itemsOf(evs)...) {
			if seen[e.ID] {
				t.Fatalf("duplicate id %s (%s %s)", e.ID, e.Kind, e.Key)
			}
			seen[e.ID] = true
		}
	}
	// The same key opened, closed and opened again gets new IDs.
	for i := range 50 {
		add(SourceFailed(st, errors.New("x"), t0, check.Thresholds{UnreachableAfter: 1}, "shop"))
		add(SourceOK(st, t0, "shop"))
		snap := snapshot()
		snap.Counts.PendingOperations = 20 * (i % 2)
		add(evaluate(st, snap, t0, rules{th: check.Thresholds{MaxPending: 10}}))
	}
	if len(seen) != 149 {
		t.Fatalf("%d ids", len(seen))
	}
}

func itemsOf(evs []event.Event) []event.Event {
	var items []event.Event
	for _, e := range evs {
		items = append(items, e.Items...)
	}
	return items
}

// A megabyte trace or message is cut before the event is stored in the
// outbox, so the state file stays small: the message with a marker, the
// trace after its last whole frame, with the whole trace's frame count and
// size kept on the event for the channels to report.
func TestEvaluateBoundsHugeTracesAndMessages(t *testing.T) {
	f := failure(opName, "7", t0)
	f.Errors[0].Trace = strings.Repeat("#0 /app/vendor/x.php(1): Y->z()\n", 32<<10) // 1 MB
	f.Errors[0].Message = strings.Repeat("é", 1<<19)                                // 1 MB of two-byte runes
	evs := evaluate(initialized(), snapshot(f), t0, rules{})
	if len(evs) != 1 || len(evs[0].Errors) != 1 {
		t.Fatalf("events = %v", kinds(evs))
	}
	e := evs[0].Errors[0]
	if len(e.Trace) > eventTrace || !strings.HasPrefix(f.Errors[0].Trace, e.Trace+"\n") {
		t.Errorf("trace is %d bytes, ends %q; want whole frames within %d bytes", len(e.Trace), e.Trace[len(e.Trace)-40:], eventTrace)
	}
	if e.TraceFrames != 32<<10 || e.TraceBytes != 32*32<<10 {
		t.Errorf("trace_frames %d, trace_bytes %d; want %d and %d (the whole trace)", e.TraceFrames, e.TraceBytes, 32<<10, 32*32<<10)
	}
	t.Run("a first frame longer than the bound is cut on a rune boundary", func(t *testing.T) {
		f := failure(opName, "8", t0)
		f.Errors[0].Trace = "#0 " + strings.Repeat("é", eventTrace) + "\n#1 {main}"
		e := evaluate(initialized(), snapshot(f), t0, rules{})[0].Errors[0]
		if len(e.Trace) > eventTrace || !utf8.ValidString(e.Trace) || e.TraceFrames != 2 {
			t.Errorf("trace of %d bytes, valid UTF-8 %v, %d frames", len(e.Trace), utf8.ValidString(e.Trace), e.TraceFrames)
		}
	})
	if len(e.Message) > eventMessage+64 || !utf8.ValidString(e.Message) {
		t.Errorf("message is %d bytes, valid UTF-8 %v", len(e.Message), utf8.ValidString(e.Message))
	}
	if len(f.Errors[0].Trace) != 32*32<<10 {
		t.Error("the snapshot's own error was changed")
	}
}

// The daemon's summary names the error check's line names: the newest,
// whatever the order of the records.
func TestFailedSummaryNamesTheHeadlineError(t *testing.T) {
	f := failure(opName, "9", t0)
	older := f.Errors[0]
	older.ID, older.Exception, older.Message = "e8", "LogicException", "first attempt"
	newer := f.Errors[0]
	later := older.CreatedAt.Add(time.Minute)
	newer.CreatedAt = &later
	newer.Exception, newer.Message = `App\Exceptions\PaymentFailed`, "card declined"
	tests := []struct {
		name string
		errs []check.ErrorRecord
	}{
		{"read in created_at order", []check.ErrorRecord{older, newer}},
		{"listed newest first", []check.ErrorRecord{newer, older}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Errors = tt.errs
			ev := evaluate(initialized(), snapshot(f), t0, rules{})[0]
			if want := opName + ` failed: App\Exceptions\PaymentFailed: card declined`; ev.Summary != want {
				t.Errorf("summary = %q, want %q", ev.Summary, want)
			}
			if h := f.Headline(); h != "PaymentFailed: card declined" {
				t.Errorf("check's headline = %q, want the same error", h)
			}
		})
	}
}

// operation.recovered says when the operation completed: the start of the
// run that completed, the only time the snapshot has for it.
func TestRecoveredCarriesCompletedAt(t *testing.T) {
	st := initialized()
	f := failure(opName, "10", t0)
	evaluate(st, snapshot(f), t0, rules{})
	done := t0.Add(time.Hour)
	snap := snapshot()
	snap.LastCompleted = map[string]time.Time{opName: done}
	evs := evaluate(st, snap, done, rules{})
	if len(evs) != 1 || evs[0].Kind != event.OperationRecovered {
		t.Fatalf("events = %v", kinds(evs))
	}
	op := evs[0].Operation
	if op == nil || op.CompletedAt == nil || !op.CompletedAt.Equal(done) || op.ID != "10" {
		t.Errorf("operation = %+v, want the failed row 10 with completed_at %v", op, done)
	}
}

// TestAFailureWithNoReadableTimeOccursWhenFound: a failed row whose
// failed_at and executed_at cannot be read (the reader leaves them nil
// and zero) is alerted as occurring when the daemon found it, not in the
// year 1.
func TestAFailureWithNoReadableTimeOccursWhenFound(t *testing.T) {
	f := failure(opName, "9", t0)
	f.FailedAt, f.ExecutedAt = nil, time.Time{}
	snap := &check.Snapshot{App: "shop", TakenAt: t0, Failing: []check.Failure{f}}
	st := state.New()
	st.Initialized = true
	evs, _ := Evaluate(st, check.Assess(snap, check.Thresholds{}), t0, Policy{})
	if len(evs) != 1 || evs[0].Kind != event.OperationFailed || !evs[0].OccurredAt.Equal(t0) {
		t.Fatalf("events %+v, want one operation.failed occurring at %s", evs, t0)
	}
}

// Every way an open problem closes makes one event under its key: its
// kind's recovery when there is one to tell, problem.closed otherwise, so
// that a pager that opened an incident for it resolves it. Before
// problem.closed, deferred.stuck, deferred.overdue, a rolled-back run, a
// deleted failed row, a reset deferred operation and a threshold turned
// off closed with nothing sent, and their incidents stayed open for good.
func TestEveryCloseOfAnOpenProblemMakesAnEvent(t *testing.T) {
	ago := func(d time.Duration) *time.Time { at := t0.Add(-d); return &at }
	withDeferred := func(d check.Deferred) *check.Snapshot { s := snapshot(); s.Deferred = &d; return s }
	pending := func(n int) *check.Snapshot { s := snapshot(); s.Counts.PendingOperations = n; return s }
	late := check.Thresholds{DeferredStuckAfter: time.Hour, DeferredOverdueAfter: time.Hour, MaxPending: 10, StuckAfter: time.Hour, RolledBackWindow: time.Hour}
	f := failure(opName, "1", t0.Add(-time.Hour))
	running := snapshot()
	running.InProgress = []check.Attempt{{ID: "7", Name: opName, ExecutedAt: t0.Add(-2 * time.Hour)}}
	rolled := snapshot()
	rolled.RolledBack = []check.RolledBackRun{{Attempt: check.Attempt{ID: "3", Name: opName, State: "rolled_back",
		ExecutedAt: t0.Add(-20 * time.Minute), CompletedAt: ago(19 * time.Minute), RolledBackAt: ago(10 * time.Minute)}}}
	for _, tc := range []struct {
		name        string
		open, close *check.Snapshot
		closeTh     check.Thresholds
		later       time.Duration // from t0 to the closing read
		want        string        // kind and key of the closing event
		closed      event.Kind    // for problem.closed: the problem's kind
	}{
		{"a failed run recovers", snapshot(f), withCompleted(snapshot(), opName, t0), late, time.Minute, "operation.recovered operation.failed/" + opName + "/1", ""},
		{"a failed row is deleted", snapshot(f), snapshot(), late, time.Minute, "problem.closed operation.failed/" + opName + "/1", event.OperationFailed},
		{"a stuck run ends", running, snapshot(), late, time.Minute, "operation.unstuck operation.stuck/" + opName + "/7", ""},
		{"stuck_after is raised", running, running, check.Thresholds{StuckAfter: 3 * time.Hour}, time.Minute, "problem.closed operation.stuck/" + opName + "/7", event.OperationStuck},
		{"the backlog clears", pending(11), pending(5), late, time.Minute, "pending.cleared pending.threshold", ""},
		{"max_pending is turned off", pending(11), pending(11), check.Thresholds{}, time.Minute, "problem.closed pending.threshold", event.PendingThreshold},
		{"stuck deferred operations are reclaimed", withDeferred(check.Deferred{Processing: 2, OldestReservedAt: ago(2 * time.Hour)}), withDeferred(check.Deferred{}), late, time.Minute, "problem.closed deferred.stuck", event.DeferredStuck},
		{"overdue deferred operations are processed", withDeferred(check.Deferred{Pending: 2, OldestDueAt: ago(2 * time.Hour)}), withDeferred(check.Deferred{}), late, time.Minute, "problem.closed deferred.overdue", event.DeferredOverdue},
		{"an exhausted deferred operation is reset", withDeferred(check.Deferred{Exhausted: []check.DeferredFailure{{ID: "d1", Operation: "X", Attempts: 3, MaxAttempts: 3}}}), withDeferred(check.Deferred{Pending: 1}), late, time.Minute, "problem.closed deferred.failed/d1", event.DeferredFailed},
		{"a rolled-back run leaves rolled_back_window", rolled, rolled, late, time.Hour, "problem.closed operation.rolled_back/" + opName + "/3", event.OperationRolledBack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := initialized()
			first := evaluate(st, tc.open, t0, rules{th: late})
			if len(first) != 1 || len(st.Open) != 1 {
				t.Fatalf("opening: events %v, open %v", kinds(first), st.Open)
			}
			// Slack posted the problem, and another one, as threads.
			st.Threads = map[string]state.Thread{"slack\x00" + first[0].Key: {Channel: "C1", TS: "1.1"}, "slack\x00other": {Channel: "C1", TS: "2.2"}}
			opened := evaluate(st, tc.open, t0, rules{th: late})
			if len(opened) != 0 {
				t.Fatalf("the same read again made %v", kinds(opened))
			}
			snap := *tc.close
			snap.TakenAt = t0.Add(tc.later)
			evs := evaluate(st, &snap, snap.TakenAt, rules{th: tc.closeTh})
			if got := kinds(evs); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("closing: events %v, want [%s]", got, tc.want)
			}
			if len(st.Open) != 0 {
				t.Errorf("still open: %v", st.Open)
			}
			if tc.closed != "" && event.ProblemKind(evs[0].Key) != tc.closed {
				t.Errorf("the problem.closed names the kind %q, want %q", event.ProblemKind(evs[0].Key), tc.closed)
			}
			// A recovery's thread goes when the recovery is posted in it; a
			// quiet close has nothing to post, so its thread goes now.
			_, kept := st.Threads["slack\x00"+first[0].Key]
			if quiet := tc.closed != ""; kept == quiet {
				t.Errorf("the problem's thread kept: %v, want %v", kept, !quiet)
			}
			if _, ok := st.Threads["slack\x00other"]; !ok {
				t.Error("another problem's thread went too")
			}
			if again := evaluate(st, &snap, snap.TakenAt.Add(time.Minute), rules{th: tc.closeTh}); len(again) != 0 {
				t.Errorf("the close was made again: %v", kinds(again))
			}
		})
	}
}

func withCompleted(s *check.Snapshot, name string, at time.Time) *check.Snapshot {
	s.LastCompleted = map[string]time.Time{name: at}
	return s
}
