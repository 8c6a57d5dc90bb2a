package alerting

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/event"
)

// verdictKinds are the kinds of problem check's verdict reports.
func verdictKinds(v check.Verdict) []string {
	perf := map[string]int{}
	for _, p := range v.Perf {
		perf[p.Label] = p.Value
	}
	var out []string
	if perf["failed"] > 0 {
		out = append(out, string(event.OperationFailed))
	}
	if perf["deferred_failed"] > 0 {
		out = append(out, string(event.DeferredFailed))
	}
	if slices.ContainsFunc(v.Problems, func(p string) bool { return strings.Contains(p, "pending") && strings.Contains(p, "(more than") }) {
		out = append(out, string(event.PendingThreshold))
	}
	if perf["stuck"] > 0 {
		out = append(out, string(event.OperationStuck))
	}
	slices.Sort(out)
	return out
}

// eventKinds are the distinct kinds of the events.
func eventKinds(evs []event.Event) []string {
	var out []string
	for _, e := range evs {
		if !slices.Contains(out, string(e.Kind)) {
			out = append(out, string(e.Kind))
		}
	}
	slices.Sort(out)
	return out
}

// check's verdict and the daemon's alerts come from the same problems
// (check.Assess), so they agree on what is wrong. The cases are where the
// two engines disagreed while each had its own rules.
func TestCheckAndDaemonAgree(t *testing.T) {
	inProgress := func(d time.Duration, withRunningFor bool) *check.Snapshot {
		s := snapshot()
		a := check.Attempt{ID: "7", Name: "2024_01_14_000000_Import", State: "pending", ExecutedAt: t0.Add(-d)}
		if withRunningFor {
			a.RunningFor = check.Duration(d)
		}
		s.InProgress = []check.Attempt{a}
		s.Counts.InProgress = 1
		return s
	}
	backlog := func(n int) *check.Snapshot {
		s := snapshot()
		s.Counts.PendingOperations = n
		return s
	}
	// Listed as exhausted, but not counted: check said OK, the daemon
	// alerted.
	uncounted := snapshot()
	uncounted.Deferred = &check.Deferred{Exhausted: []check.DeferredFailure{{ID: "d1", Operation: "SendInvoices", Attempts: 5, MaxAttempts: 5}}}
	hour := check.Thresholds{StuckAfter: time.Hour}

	tests := []struct {
		name string
		snap *check.Snapshot
		th   check.Thresholds
		want []string
	}{
		{"a run at exactly stuck_after is stuck for neither", inProgress(time.Hour, true), hour, nil},
		{"a run past stuck_after is stuck for both", inProgress(time.Hour+time.Second, true), hour, []string{"operation.stuck"}},
		// check looked at RunningFor only, the daemon fell back to the
		// time since the run started.
		{"a run without RunningFor is measured from TakenAt by both", inProgress(2*time.Hour, false), hour, []string{"operation.stuck"}},
		{"stuck_after 0 is off for both", inProgress(100*time.Hour, true), check.Thresholds{}, nil},
		{"pending at max_pending is a problem for neither", backlog(10), check.Thresholds{MaxPending: 10}, nil},
		{"pending over max_pending is a problem for both", backlog(11), check.Thresholds{MaxPending: 10}, []string{"pending.threshold"}},
		{"max_pending 0 is off for both", backlog(1000), check.Thresholds{}, nil},
		{"an exhausted deferred operation is critical for both, counted or not", uncounted, check.Thresholds{}, []string{"deferred.failed"}},
		{"two failing runs of one operation are a failure for both", snapshot(failure(opName, "2", t0), failure(opName, "1", t0.Add(-time.Hour))), check.Thresholds{}, []string{"operation.failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := check.Judge(tc.snap, tc.th)
			evs := evaluate(initialized(), tc.snap, t0, rules{th: tc.th})
			if got := verdictKinds(v); !slices.Equal(got, tc.want) {
				t.Errorf("check reports %v, want %v (%s)", got, tc.want, v.Line())
			}
			if got := eventKinds(evs); !slices.Equal(got, tc.want) {
				t.Errorf("daemon reports %v, want %v", got, tc.want)
			}
		})
	}
}

// Each failed run is a problem of its own, since the daemon reports each
// run once (a retry that fails again is news); check counts them by
// operation and names the newest.
func TestFailedRunsAreProblemsCheckCountsOperations(t *testing.T) {
	snap := snapshot(failure(opName, "2", t0), failure(opName, "1", t0.Add(-time.Hour)))
	v := check.Judge(snap, check.Thresholds{})
	if len(v.Failing) != 1 || v.Failing[0].ID != "2" || !strings.HasPrefix(v.Summary, "1 failed operation (") {
		t.Errorf("verdict: %s", v.Line())
	}
	evs := evaluate(initialized(), snap, t0, rules{})
	want := []string{"operation.failed operation.failed/" + opName + "/1", "operation.failed operation.failed/" + opName + "/2"}
	if !slices.Equal(kinds(evs), want) {
		t.Errorf("events = %v, want %v", kinds(evs), want)
	}
}

// A run reported stuck that is still in progress but no longer judged
// stuck, because stuck_after was turned off or raised, is closed without a
// recovery (it did not end: operation.unstuck would say it did), only a
// problem.closed for the pagers, as
// max_pending turned off closes the pending alert. It used to stay open,
// reminded and posted to Alertmanager, while check said nothing was stuck.
// It is not reported again if the limit comes back: each run is reported
// stuck once.
func TestEvaluateStuckRunNoLongerJudgedStuck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		later check.Thresholds
		note  string
	}{
		{"stuck_after turned off", check.Thresholds{}, "no longer over stuck_after (now off)"},
		{"stuck_after raised above the run", check.Thresholds{StuckAfter: 3 * time.Hour}, "no longer over stuck_after (now 3h0m0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := initialized()
			snap := snapshot()
			snap.InProgress = []check.Attempt{{ID: "7", Name: "2024_01_14_000000_Import", ExecutedAt: t0.Add(-2 * time.Hour), RunningFor: check.Duration(2 * time.Hour)}}
			first := rules{th: check.Thresholds{StuckAfter: time.Hour}}
			if evs := evaluate(st, snap, t0, first); len(evs) != 1 || evs[0].Kind != event.OperationStuck {
				t.Fatalf("events = %v", kinds(evs))
			}
			evs, notes := evaluateNotes(st, snap, t0.Add(time.Minute), rules{th: tc.later})
			closedQuietly(t, evs, "operation.stuck/2024_01_14_000000_Import/7", event.OperationStuck)
			if len(st.Open) != 0 {
				t.Fatalf("open = %v", st.Open)
			}
			if len(notes) != 1 || !strings.Contains(notes[0], tc.note) {
				t.Fatalf("notes = %q, want one saying %q", notes, tc.note)
			}
			if v := check.Judge(snap, tc.later); len(v.Stuck) != 0 {
				t.Errorf("check still counts it stuck: %s", v.Line())
			}
			if evs := evaluate(st, snap, t0.Add(2*time.Minute), first); len(evs) != 0 {
				t.Errorf("reported again when the limit came back: %v", kinds(evs))
			}
		})
	}
}

// An open failure that is no longer a problem has recovered when a run of
// its operation that started at or after the failed run completed: the
// reader's rule for leaving it out of Snapshot.Failing (and stuck's
// "it completed"). The daemon used to want a strictly later start, and took
// a run started in the same second for a deleted row.
func TestRecoveryFollowsTheReadersRule(t *testing.T) {
	for _, tc := range []struct {
		name      string
		completed time.Duration // start of the completed run, from the failed run's
		want      []string
	}{
		{"a completed run that started before the failure is no recovery", -time.Second, []string{"problem.closed operation.failed/" + opName + "/1"}},
		{"a completed run that started with the failure recovers it", 0, []string{"operation.recovered operation.failed/" + opName + "/1"}},
		{"a completed run that started after the failure recovers it", time.Hour, []string{"operation.recovered operation.failed/" + opName + "/1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := initialized()
			f := failure(opName, "1", t0)
			evaluate(st, snapshot(f), t0, rules{})
			snap := snapshot()
			snap.LastCompleted = map[string]time.Time{opName: f.ExecutedAt.Add(tc.completed)}
			evs := evaluate(st, snap, t0.Add(2*time.Hour), rules{})
			if !slices.Equal(kinds(evs), tc.want) || len(st.Open) != 0 {
				t.Errorf("events = %v, want %v; open %v", kinds(evs), tc.want, st.Open)
			}
		})
	}
}
