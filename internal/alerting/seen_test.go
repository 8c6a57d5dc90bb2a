package alerting

import (
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/state"
)

// Seen has a retention, like Alertmanager's notification log: a row that
// left the snapshot is forgotten after the retention; a row still failing,
// and the key of an open problem, never are.
func TestSeenRetention(t *testing.T) {
	const day = 24 * time.Hour
	gone := check.FailedKey(opName, "1")  // failed, recorded silently, then deleted
	still := check.FailedKey(opName, "2") // failing all along, recorded silently
	open := check.FailedKey(opName, "3")  // reported, still open
	for _, tc := range []struct {
		name      string
		retention time.Duration
		after     time.Duration
		want      map[string]bool
	}{
		{"within the default retention", 0, 6 * day, map[string]bool{gone: true, still: true, open: true}},
		{"past the default retention", 0, 8 * day, map[string]bool{gone: false, still: true, open: true}},
		{"past a configured retention", 2 * day, 3 * day, map[string]bool{gone: false, still: true, open: true}},
		{"kept for good", -1, 400 * day, map[string]bool{gone: true, still: true, open: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rules{p: Policy{FirstRun: FirstRunSilent, SeenRetention: tc.retention}}
			st := state.New()
			f1, f2 := failure(opName, "1", t0), failure(opName, "2", t0)
			evaluate(st, snapshot(f1, f2), t0, r)
			f3 := failure(opName, "3", t0.Add(time.Hour))
			if evs := evaluate(st, snapshot(f2, f3), t0.Add(time.Hour), r); len(evs) != 1 {
				t.Fatalf("the new failure gave %v", kinds(evs))
			}
			// Ticks go on for the period, with rows 2 and 3 failing.
			var snap *check.Snapshot
			for at := t0.Add(time.Hour); at.Before(t0.Add(tc.after)); at = at.Add(6 * time.Hour) {
				snap = snapshot(f2, f3)
				if evs := evaluate(st, snap, at, r); len(evs) != 0 {
					t.Fatalf("at %s: %v", at, kinds(evs))
				}
			}
			evaluate(st, snapshot(f2, f3), t0.Add(tc.after), r)
			for key, want := range tc.want {
				if _, ok := st.Seen[key]; ok != want {
					t.Errorf("Seen[%s] kept = %v, want %v", key, ok, want)
				}
			}
			// Whatever was forgotten, nothing is reported again.
			if evs := evaluate(st, snapshot(f2, f3), t0.Add(tc.after+time.Minute), r); len(evs) != 0 {
				t.Errorf("after the retention: %v, want nothing", kinds(evs))
			}
		})
	}
}

// An unchanged tick must not change the state (the file is rewritten only
// when it changes): refreshing Seen happens at most once a day.
func TestSeenRefreshLeavesAnUnchangedTickAlone(t *testing.T) {
	r := rules{p: Policy{FirstRun: FirstRunSilent}}
	st := state.New()
	f := failure(opName, "1", t0)
	evaluate(st, snapshot(f), t0, r)
	before := st.Seen[check.FailedKey(opName, "1")]
	evaluate(st, snapshot(f), t0.Add(time.Minute), r)
	if got := st.Seen[check.FailedKey(opName, "1")]; !got.Equal(before) {
		t.Errorf("a tick a minute later moved Seen from %s to %s", before, got)
	}
	evaluate(st, snapshot(f), t0.Add(25*time.Hour), r)
	if got := st.Seen[check.FailedKey(opName, "1")]; !got.Equal(t0.Add(25 * time.Hour)) {
		t.Errorf("a day later Seen is %s, want refreshed", got)
	}
}
