package alerting

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/event"
	"github.com/seqwatch/seqwatch/state"
)

// muteStep is one tick of the simulated daemon: what the read saw (or
// that it failed), minutes after t0.
type muteStep struct {
	at        int // minutes after t0
	failing   []check.Failure
	completed map[string]time.Time
	readFails bool
	// want is what is sent at this tick, as "kind key" lines.
	want []string
}

// tickWithMutes is the daemon's tick without I/O: evaluate, gate through
// the mutes in force, and count what is sent as delivered at once.
func tickWithMutes(st *state.State, s muteStep, active func(time.Time) []state.Mute, r rules) (state.Gated, time.Time) {
	now := t0.Add(time.Duration(s.at) * time.Minute)
	var events []event.Event
	if s.readFails {
		events = SourceFailed(st, errors.New("connection refused"), now, check.Thresholds{UnreachableAfter: 1}, "shop")
	} else {
		snap := snapshot(s.failing...)
		snap.TakenAt = now
		snap.LastCompleted = s.completed
		evs := evaluate(st, snap, now, r)
		events = append(SourceOK(st, now, "shop"), evs...)
	}
	st.ExpireMutes(now)
	g := st.Gate(events, append(st.ActiveMutes(now), active(now)...))
	for _, ev := range g.Send {
		st.Enqueue(ev, []string{"hook"}, now)
		st.Delivered(ev.ID, "hook", now)
	}
	return g, now
}

func TestMuteSemantics(t *testing.T) {
	a := failure("2024_01_13_120000_A", "1", t0.Add(5*time.Minute))
	b := failure("2024_01_13_120000_B", "2", t0.Add(6*time.Minute))
	keyA, keyB := check.FailedKey(a.Name, "1"), check.FailedKey(b.Name, "2")
	// A mute from minute 0 to minute 15, as seqwatch mute --for 15m makes.
	deploy := state.Mute{ID: "mut_1", Reason: "deploy 4812", Start: t0, End: t0.Add(15 * time.Minute)}
	doneB := map[string]time.Time{b.Name: t0.Add(8 * time.Minute)}
	for _, tc := range []struct {
		name  string
		mute  state.Mute
		pre   []muteStep // before the mute is made
		steps []muteStep
	}{
		{
			name: "a problem still open when the mute ends is sent once, then not again",
			mute: deploy,
			steps: []muteStep{
				{at: 5, failing: []check.Failure{a}},
				{at: 10, failing: []check.Failure{a}},
				{at: 15, failing: []check.Failure{a}, want: []string{"operation.failed " + keyA}},
				{at: 16, failing: []check.Failure{a}},
			},
		},
		{
			name: "a problem opened and resolved inside the window is never sent",
			mute: deploy,
			steps: []muteStep{
				{at: 7, failing: []check.Failure{b}},
				{at: 9, completed: doneB},
				{at: 15, completed: doneB},
				{at: 20, completed: doneB},
			},
		},
		{
			name: "both at once: only the one still open goes when the mute ends",
			mute: deploy,
			steps: []muteStep{
				{at: 7, failing: []check.Failure{a, b}},
				{at: 9, failing: []check.Failure{a}, completed: doneB},
				{at: 15, failing: []check.Failure{a}, completed: doneB, want: []string{"operation.failed " + keyA}},
			},
		},
		{
			name: "a recovery of a problem told before the mute is sent when it ends",
			mute: state.Mute{ID: "mut_2", Start: t0.Add(8 * time.Minute), End: t0.Add(15 * time.Minute)},
			pre: []muteStep{
				{at: 7, failing: []check.Failure{b}, want: []string{"operation.failed " + keyB}},
			},
			steps: []muteStep{
				{at: 9, completed: doneB},
				{at: 15, completed: doneB, want: []string{"operation.recovered " + keyB}},
			},
		},
		{
			name: "source.unreachable goes through a mute that keeps it",
			mute: state.Mute{ID: "mut_3", Start: t0, End: t0.Add(15 * time.Minute), KeepUnreachable: true},
			steps: []muteStep{
				{at: 5, readFails: true, want: []string{"source.unreachable source.unreachable"}},
				{at: 6, failing: []check.Failure{a}, want: []string{"source.recovered source.unreachable"}},
				{at: 15, failing: []check.Failure{a}, want: []string{"operation.failed " + keyA}},
			},
		},
		{
			name: "source.unreachable is held by a mute that does not keep it",
			mute: deploy,
			steps: []muteStep{
				{at: 5, readFails: true},
				{at: 6, readFails: true},
				{at: 15, readFails: true, want: []string{"source.unreachable source.unreachable"}},
			},
		},
		{
			name: "a reminder due while muted is dropped",
			mute: state.Mute{ID: "mut_4", Start: t0.Add(10 * time.Minute), End: t0.Add(40 * time.Minute)},
			pre: []muteStep{
				{at: 5, failing: []check.Failure{a}, want: []string{"operation.failed " + keyA}},
			},
			steps: []muteStep{
				{at: 30, failing: []check.Failure{a}},
				{at: 40, failing: []check.Failure{a}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := initialized()
			r := rules{p: Policy{RepeatAfter: 20 * time.Minute}}
			none := func(time.Time) []state.Mute { return nil }
			run := func(steps []muteStep) {
				for _, s := range steps {
					g, now := tickWithMutes(st, s, none, r)
					if got := kinds(g.Send); !slices.Equal(got, s.want) {
						t.Errorf("minute %d: sent %q, want %q (held %q, dropped %q)", s.at, got, s.want, kinds(g.Held), kinds(g.Dropped))
					}
					if !tc.mute.ActiveAt(now) && len(st.Held) > 0 {
						t.Errorf("minute %d: %d events still held after the mute ended", s.at, len(st.Held))
					}
				}
			}
			run(tc.pre)
			st.Mutes = append(st.Mutes, tc.mute)
			run(tc.steps)
			if len(st.Mutes) != 0 {
				t.Errorf("mutes left after they ended: %+v", st.Mutes)
			}
		})
	}
}

// A configured window (not stored) holds events the same way, and a
// digest held by it is sent with only the problems still open.
func TestMaintenanceWindowHoldsTheFirstRunDigest(t *testing.T) {
	a := failure("2024_01_13_120000_A", "1", t0.Add(-time.Hour))
	b := failure("2024_01_13_120000_B", "2", t0.Add(-time.Hour))
	window := state.Mute{ID: "maintenance[0]", Start: t0, End: t0.Add(2 * time.Hour), By: "maintenance"}
	active := func(now time.Time) []state.Mute {
		if window.ActiveAt(now) {
			return []state.Mute{window}
		}
		return nil
	}
	st := state.New()
	g, _ := tickWithMutes(st, muteStep{at: 1, failing: []check.Failure{a, b}}, active, rules{})
	if len(g.Held) != 1 || g.Held[0].Kind != event.Digest || len(g.Send) != 0 {
		t.Fatalf("first run under a window: held %q, sent %q", kinds(g.Held), kinds(g.Send))
	}
	g, _ = tickWithMutes(st, muteStep{at: 30, failing: []check.Failure{a}, completed: map[string]time.Time{b.Name: t0}}, active, rules{})
	if len(g.Send) != 0 || len(g.Dropped) != 2 || g.Dropped[0].Key != check.FailedKey(b.Name, "2") || g.Dropped[1].Kind != event.OperationRecovered {
		t.Fatalf("b recovered inside the window: sent %q, dropped %q", kinds(g.Send), kinds(g.Dropped))
	}
	g, _ = tickWithMutes(st, muteStep{at: 120, failing: []check.Failure{a}, completed: map[string]time.Time{b.Name: t0}}, active, rules{})
	if len(g.Send) != 1 || g.Send[0].Kind != event.Digest || len(g.Send[0].Items) != 1 || g.Send[0].Items[0].Key != check.FailedKey(a.Name, "1") {
		t.Fatalf("window over: sent %q, want the digest with a only", kinds(g.Send))
	}
	if st.Open[check.FailedKey(a.Name, "1")].LastSentAt.IsZero() {
		t.Error("a's problem is not marked as sent after the digest went")
	}
}
