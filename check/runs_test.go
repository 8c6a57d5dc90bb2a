package check_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
)

func TestRecovered(t *testing.T) {
	at := func(m int) *time.Time { v := baseNow.Add(time.Duration(m) * time.Minute); return &v }
	failed := check.Attempt{ID: "1", Name: opA, Type: "sync", ExecutedAt: *at(0), FailedAt: at(1)}
	inPlace := failed
	inPlace.Type, inPlace.CompletedAt = "async", at(3)
	tests := []struct {
		name   string
		run    check.Attempt
		newest *time.Time
		want   bool
		since  *time.Time
	}{
		{"no completed run: still failing", failed, nil, false, nil},
		{"a completed run before it does not help", failed, at(-5), false, nil},
		{"a later completed run recovers it", failed, at(10), true, at(10)},
		{"a run started at the same second recovers it", failed, at(0), true, at(0)},
		{"the queue's retry completed the row itself", inPlace, at(0), true, at(0)},
		{"in place, even when the newest run was not read", inPlace, nil, true, at(0)},
		{"in place, and a later run completed too", inPlace, at(20), true, at(20)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			since, ok := check.Recovered(tc.run, tc.newest)
			if ok != tc.want || tc.want && !since.Equal(*tc.since) {
				t.Errorf("Recovered = %v, %v; want %v, %v", since, ok, tc.since, tc.want)
			}
		})
	}
	if !check.RecoveredInPlace(inPlace) || check.RecoveredInPlace(failed) {
		t.Error("RecoveredInPlace: want true for a failed row that completed, false for a failed row")
	}
}

func TestRolledBack(t *testing.T) {
	at := func(m int) *time.Time { v := baseNow.Add(time.Duration(m) * time.Minute); return &v }
	done := check.Attempt{ID: "1", Name: opA, ExecutedAt: *at(-60), CompletedAt: at(-59)}
	rb := done
	rb.State, rb.RolledBackAt = "rolled_back", at(-58)
	// A Rollbackable async operation rolled back before the queue ran
	// it, then run: its effect stands.
	ranAfter := done
	ranAfter.RolledBackAt, ranAfter.CompletedAt = at(-59), at(-50)
	notRun := check.Attempt{ID: "2", Name: opA, ExecutedAt: *at(-60), RolledBackAt: at(-58)}
	for _, tc := range []struct {
		name string
		run  check.Attempt
		want bool
	}{
		{"completed, then rolled back", rb, true},
		{"completed, never rolled back", done, false},
		{"rolled back before it ran, then completed", ranAfter, false},
		{"rolled back before it ever ran", notRun, false},
	} {
		if got := check.RolledBack(tc.run); got != tc.want {
			t.Errorf("%s: RolledBack = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !check.RolledBackWithin(rb, baseNow, time.Hour) || check.RolledBackWithin(rb, baseNow, 30*time.Minute) || check.RolledBackWithin(rb, baseNow, 0) {
		t.Error("RolledBackWithin: want within 1h, not within 30m, never with 0")
	}

	b1 := check.Attempt{ID: "3", Name: opB, ExecutedAt: *at(-59), FailedAt: at(-58)}
	before := check.Attempt{ID: "4", Name: opB, ExecutedAt: *at(-90), FailedAt: at(-89)}
	after := check.Attempt{ID: "5", Name: opB, ExecutedAt: *at(-57), FailedAt: at(-56)}
	if c, ok := check.RollbackCause(rb, []check.Attempt{before, b1, after}); !ok || c.ID != "3" {
		t.Errorf("RollbackCause = %+v, %v; want the failure of the same run (3)", c, ok)
	}
	if _, ok := check.RollbackCause(rb, []check.Attempt{before, after}); ok {
		t.Error("RollbackCause found a cause in another run")
	}
}

func TestAssessRolledBack(t *testing.T) {
	at := func(m int) *time.Time { v := baseNow.Add(time.Duration(m) * time.Minute); return &v }
	recent := check.RolledBackRun{Attempt: check.Attempt{ID: "1", Name: opA, ExecutedAt: *at(-61), CompletedAt: at(-60), RolledBackAt: at(-59)}}
	old := check.RolledBackRun{Attempt: check.Attempt{ID: "2", Name: opB, ExecutedAt: *at(-3000), CompletedAt: at(-3000), RolledBackAt: at(-2999)}}
	s := &check.Snapshot{TakenAt: baseNow, RolledBack: []check.RolledBackRun{recent, old}, Counts: check.Counts{RolledBack: 2}}
	ps := check.Assess(s, check.Thresholds{RolledBackWindow: 24 * time.Hour})
	if got := problemKeys(ps); len(got) != 1 || got[0] != "operation.rolled_back/"+opA+"/1" {
		t.Fatalf("problems %v: want only the recent rollback", got)
	}
	v := ps.Verdict()
	if v.Status != check.Warning || !strings.Contains(v.Summary, "1 rolled-back operation that Sequencer will not run again ("+opA+" rolled back 59m00s ago)") || !strings.Contains(v.Line(), " rolled_back=2") {
		t.Errorf("verdict: %s", v.Line())
	}
	if n := check.Assess(s, check.Thresholds{}).Len(); n != 0 {
		t.Errorf("rolled_back_window 0: %d problems, want none", n)
	}
}

func TestMissingDirectoryIsUnknown(t *testing.T) {
	s := &check.Snapshot{TakenAt: baseNow, Failing: []check.Failure{failure("1", opA, 1, "E", "boom")},
		MissingDirs: []check.MissingDir{{Of: "operation", Path: "/srv/shop/database/operations"}}}
	ps := check.Assess(s, check.Thresholds{})
	p, ok := ps.Get(check.MissingDirKey("/srv/shop/database/operations"))
	if !ok || p.Kind != "source.unreachable" || p.Status != check.Unknown || p.Missing == nil {
		t.Fatalf("problem %+v, %v: want a source problem, UNKNOWN", p, ok)
	}
	v := ps.Verdict()
	if v.Status != check.Unknown || !strings.HasPrefix(v.Summary, "operation directory /srv/shop/database/operations does not exist -- 1 failed operation") {
		t.Errorf("verdict: %s", v.Line())
	}
}

func TestInRetryGrace(t *testing.T) {
	at := func(s int) *time.Time { v := baseNow.Add(time.Duration(s) * time.Second); return &v }
	async := check.Attempt{ID: "1", Name: opA, Type: "async", ExecutedAt: *at(-300), FailedAt: at(-30)}
	batch := async
	batch.Type = "batch"
	sync := async
	sync.Type = "sync"
	old := async
	old.FailedAt = at(-600)
	done := async
	done.CompletedAt = at(-10)
	for _, tc := range []struct {
		name  string
		run   check.Attempt
		grace time.Duration
		want  bool
	}{
		{"an async try failed 30s ago may be retried", async, 2 * time.Minute, true},
		{"so may a batch's", batch, 2 * time.Minute, true},
		{"a sync run is never retried by the queue", sync, 2 * time.Minute, false},
		{"past the grace it is a failure", old, 2 * time.Minute, false},
		{"a grace of 0 reports at once", async, 0, false},
		{"a completed row is no failure", done, 2 * time.Minute, false},
	} {
		if got := check.InRetryGrace(tc.run, baseNow, tc.grace); got != tc.want {
			t.Errorf("%s: InRetryGrace = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRunsAgain(t *testing.T) {
	at := func(m int) *time.Time { v := baseNow.Add(time.Duration(m) * time.Minute); return &v }
	dead := check.Attempt{ID: "1", Name: opA, Type: "async", ExecutedAt: *at(-60), FailedAt: at(-50)}
	between := dead
	between.FailedAt = at(-1)
	sync := dead
	sync.Type = "sync"
	grace := 2 * time.Minute
	if !check.RunsAgain(dead, true, baseNow, grace) {
		t.Error("a queued run past its retries, its file pending: want RunsAgain")
	}
	if check.RunsAgain(dead, false, baseNow, grace) || check.RunsAgain(between, true, baseNow, grace) || check.RunsAgain(sync, true, baseNow, grace) {
		t.Error("RunsAgain for an operation not pending, a run between tries, or a sync run")
	}
}
