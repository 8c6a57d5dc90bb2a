package check

import (
	"slices"
	"testing"
	"time"
)

func TestKeepSinceLeavesTheRunsStartedFromThenWithTheirCounts(t *testing.T) {
	since := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	before, at, after := since.Add(-time.Second), since, since.Add(time.Minute)
	run := func(name string, started time.Time) Attempt { return Attempt{Name: name, ExecutedAt: started} }
	snap := &Snapshot{
		InProgress: []Attempt{run("a", before), run("b", at)},
		Scheduled:  []Attempt{run("c", after), run("d", before)},
		RolledBack: []RolledBackRun{{Attempt: run("e", before)}},
		// The same operation failed twice since: one failing operation.
		Failing: []Failure{{Attempt: run("f", after)}, {Attempt: run("f", at)}, {Attempt: run("g", before)}},
		Counts:  Counts{InProgress: 2, Scheduled: 2, RolledBack: 1, Failing: 2, PendingOperations: 3},
	}
	snap.KeepSince(since)

	names := func(as []Attempt) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	var failing []Attempt
	for _, f := range snap.Failing {
		failing = append(failing, f.Attempt)
	}
	tests := []struct {
		what      string
		got, want []string
	}{
		{"in progress", names(snap.InProgress), []string{"b"}},
		{"scheduled", names(snap.Scheduled), []string{"c"}},
		{"failing", names(failing), []string{"f", "f"}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.what, tt.got, tt.want)
		}
	}
	if len(snap.RolledBack) != 0 {
		t.Errorf("rolled back: got %v, want none", snap.RolledBack)
	}
	want := Counts{InProgress: 1, Scheduled: 1, RolledBack: 0, Failing: 1, PendingOperations: 3}
	if snap.Counts != want {
		t.Errorf("counts: got %+v, want %+v", snap.Counts, want)
	}
}
