package daemon

import (
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/notify"
)

// The current events are what a daemon past its first run, with nothing
// reported yet, would send: each open problem as a new one, even under
// on_first_run: silent.
func TestEventsOfAreTheOpenProblemsAsNewEvents(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		snap *check.Snapshot
		want []notify.Kind
	}{
		{"nothing wrong", &check.Snapshot{App: "shop"}, nil},
		{"a failure", failing("shop", now.Add(-time.Minute)), []notify.Kind{notify.OperationFailed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := EventsOf(tc.snap, check.Thresholds{}, alerting.Policy{FirstRun: alerting.FirstRunSilent}, now)
			if len(evs) != len(tc.want) {
				t.Fatalf("events %+v, want kinds %v", evs, tc.want)
			}
			for i, k := range tc.want {
				if evs[i].Kind != k || evs[i].App != "shop" {
					t.Errorf("event %d: %+v, want %s of shop", i, evs[i], k)
				}
			}
		})
	}
}
