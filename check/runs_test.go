package check_test

import (
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
