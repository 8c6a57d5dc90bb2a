package check_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/check"
)

// A run carries rolled_back_at in status --json always, and in the read
// mark only when it is set, so that a state file written before the field
// existed loads and saves unchanged.
func TestMarkLeavesOutANullRolledBackAt(t *testing.T) {
	at := baseNow
	a := check.Attempt{ID: "1", Name: opA, ExecutedAt: at}
	rb := a
	rb.ID, rb.CompletedAt, rb.RolledBackAt = "2", &at, &at
	snap, err := json.Marshal(check.Snapshot{InProgress: []check.Attempt{a}})
	if err != nil || !strings.Contains(string(snap), `"rolled_back_at":null`) {
		t.Errorf("snapshot %s: want rolled_back_at on every run", snap)
	}
	m, err := json.Marshal(check.Mark{InProgress: []check.Attempt{a}, Failing: []check.Failure{{Attempt: a}, {Attempt: rb}}})
	if err != nil || strings.Contains(string(m), `"rolled_back_at":null`) || !strings.Contains(string(m), `"rolled_back_at":"2024-06-01T12:00:00Z"`) {
		t.Errorf("mark %s: want rolled_back_at only where set", m)
	}
	var back check.Mark
	if err := json.Unmarshal(m, &back); err != nil || back.Failing[1].RolledBackAt == nil || back.InProgress[0].RolledBackAt != nil {
		t.Errorf("mark read back: %v %+v", err, back)
	}
}
