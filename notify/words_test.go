package notify

import (
	"testing"
	"time"
)

func TestDefaultTitleNamesAnUnknownKindByItselfOnOneLine(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{OperationFailed, "Operation failed"},
		{Digest, "Digest"},
		{"custom.kind\nsecond", "custom.kind second"},
	}
	for _, tt := range tests {
		if got := DefaultTitle(tt.kind); got != tt.want {
			t.Errorf("DefaultTitle(%q) = %q, want %q", tt.kind, got, tt.want)
		}
	}
}

func TestThrownAtReadsFileAndLineOrNothing(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`{"file":"app/Op.php","line":12}`, "app/Op.php:12"},
		{`{"file":"app/Op.php"}`, "app/Op.php"},
		{`{"line":12}`, ""},
		{`not json`, ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ThrownAt(tt.raw); got != tt.want {
			t.Errorf("ThrownAt(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestBatchKindOfIsTheEventsOwnForOneAndAlertsForSeveral(t *testing.T) {
	one := []Event{{Kind: OperationStuck}}
	if got := BatchKindOf(one); got != OperationStuck {
		t.Errorf("one event: %q, want %q", got, OperationStuck)
	}
	if got := BatchKindOf(append(one, Event{Kind: Test})); got != BatchKind {
		t.Errorf("two events: %q, want %q", got, BatchKind)
	}
}

func TestNotesAreEmptyForNothingAndPrefixedOtherwise(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"thrown at", ThrownAtNote(`{"file":"a.php","line":3}`), " at a.php:3"},
		{"thrown at nowhere", ThrownAtNote(`{}`), ""},
		{"type", TypeNote(" sync\n"), " (sync)"},
		{"no type", TypeNote("  "), ""},
		{"stamp in UTC", UTCStamp(time.Date(2024, 1, 13, 13, 0, 3, 0, time.FixedZone("CET", 3600))), "2024-01-13 12:00:03 UTC"},
		{"zero stamp", UTCStamp(time.Time{}), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
