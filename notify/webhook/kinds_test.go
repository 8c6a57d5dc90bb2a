package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// operation.rolled_back carries when the run was rolled back and the failed
// run that caused it; the other documents do not grow those fields.
func TestRolledBackDocumentCarriesItsCause(t *testing.T) {
	at := time.Date(2026, 5, 4, 11, 41, 0, 0, time.UTC)
	ev := notify.Event{ID: "evt_1", Kind: notify.OperationRolledBack, Key: "operation.rolled_back/A/9", App: "shop", OccurredAt: at,
		Summary:   "A was rolled back at 2026-05-04 11:41:00 after B failed",
		Operation: &notify.Operation{ID: "9", Name: "A", Type: "sync", ExecutedAt: at.Add(-time.Minute), CompletedAt: &at, RolledBackAt: &at},
		Cause:     &notify.Operation{ID: "10", Name: "B", Type: "sync", ExecutedAt: at.Add(-50 * time.Second), FailedAt: &at}}
	p, err := BuildPayload([]notify.Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	if p.Operation == nil || p.Operation.RolledBackAt == nil || !p.Operation.RolledBackAt.Equal(at) || p.Cause == nil || p.Cause.Name != "B" || p.Cause.FailedAt == nil {
		t.Fatalf("operation %+v, cause %+v: want rolled_back_at and the cause", p.Operation, p.Cause)
	}
	b, err := encode(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["event"] != "operation.rolled_back" || doc["cause"] == nil {
		t.Errorf("document %s", b)
	}
	failed := ev
	failed.Kind, failed.Cause = notify.OperationFailed, nil
	failed.Operation = &notify.Operation{ID: "10", Name: "B", ExecutedAt: at, FailedAt: &at}
	p, _ = BuildPayload([]notify.Event{failed})
	b, _ = encode(p)
	if strings.Contains(string(b), `"cause"`) || strings.Contains(string(b), `"rolled_back_at"`) {
		t.Errorf("an operation.failed document has rolled-back fields: %s", b)
	}
}
