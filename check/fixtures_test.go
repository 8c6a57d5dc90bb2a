package check_test

import (
	"testing"
	"time"
	"unicode/utf8"
)

// Operation names used by the tests.
const (
	opA = "2024_01_15_130000_NotifyUsers"
	opB = "2024_01_16_090000_BackfillOrders"
)

// baseNow is the instant snapshots are taken at, unless a test says
// otherwise.
var baseNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// wantOneSafeLine asserts s is valid UTF-8 with no control characters and
// no '|'.
func wantOneSafeLine(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("invalid UTF-8 in %q", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '|' || r == '\u2028' || r == '\u202e' {
			t.Errorf("character %U in one-line output %q", r, s)
			return
		}
	}
}
