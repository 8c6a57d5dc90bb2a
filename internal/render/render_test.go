package render_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/render"
)

// baseNow is the instant snapshots are taken at.
var baseNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

const opB = "2024_01_16_090000_BackfillOrders"

// failure builds a failing row of name with one error, failed at minute m.
func failure(id, name string, m int, class, msg string) check.Failure {
	at := baseNow.Add(time.Duration(m) * time.Minute)
	f := check.Failure{Attempt: check.Attempt{ID: id, Name: name, Type: "sync", State: "failed", ExecutedAt: at, FailedAt: &at}, Errors: []check.ErrorRecord{}}
	if class != "" {
		f.Errors = append(f.Errors, check.ErrorRecord{ID: id + "e", Exception: class, Message: msg, Trace: "#0 {main}", CreatedAt: &at})
	}
	return f
}

// snapshot builds a snapshot with counts that agree with its lists.
func snapshot(pending int, failing []check.Failure, running []check.Attempt, exhausted []check.DeferredFailure) *check.Snapshot {
	s := &check.Snapshot{App: "shop", TakenAt: baseNow, Failing: failing, InProgress: running,
		PendingOperations: []check.PendingFile{}, PendingMigrations: []check.PendingFile{}}
	names := map[string]bool{}
	for _, f := range failing {
		names[f.Name] = true
	}
	s.Counts = check.Counts{PendingOperations: pending, Failing: len(names), FailedRows: len(failing), InProgress: len(running), Rows: len(failing) + len(running)}
	if exhausted != nil {
		s.Deferred = &check.Deferred{Exhausted: exhausted}
		s.Counts.DeferredExhausted = len(exhausted)
	}
	return s
}

func running(name string, d time.Duration) check.Attempt {
	return check.Attempt{ID: name, Name: name, Type: "async", State: "pending", ExecutedAt: baseNow.Add(-d), RunningFor: check.Duration(d)}
}

// wantNoControl asserts terminal output has no control characters other
// than newline and tab.
func wantNoControl(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("status output is not valid UTF-8")
	}
	for i, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			t.Errorf("control character %U at byte %d of status output: %q", r, i, s[max(0, i-40):min(len(s), i+40)])
			return
		}
	}
}

// TestRenderStatusIsTerminalSafe renders hostile database text, plain and
// verbose, and finds no escape or other control byte in the output.
func TestRenderStatusIsTerminalSafe(t *testing.T) {
	evil := "\x1b]0;owned\x07\x1b[2J\r\nreal\x00 \u009b6n \xff end | <!channel>"
	f := failure("1", "2024_01_01_000000_Evil\x1b[31m", 0, `App\Evil`+"\x1b[5m", evil)
	f.Errors[0].Trace = "#0 " + evil + "\n#1 {main}"
	f.Errors[0].Context = `{"x": "` + "\x1b" + `"}`
	recovered := failure("0", opB, -10, "E", "old")
	at := baseNow
	recovered.Recovered, recovered.RecoveredAt = true, &at
	snap := snapshot(1, []check.Failure{f}, []check.Attempt{running("2024_01_01_000000_Run\x1b[1m", time.Minute)}, nil)
	snap.Failed = []check.Failure{f, recovered}
	snap.Completed = []check.Attempt{{ID: "3", Name: "2024_01_01_000000_Done\x07", Type: "sync\x1b", ExecutedAt: baseNow}}
	snap.PendingOperations = []check.PendingFile{{Timestamp: "2024_01_01_000000", Name: "2024_01_01_000000_P\x1b", File: "2024_01_01_000000_P\x1b.php"}}
	for _, o := range []render.StatusOptions{{}, {Verbose: true}, {Failed: true, Verbose: true}} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			var out bytes.Buffer
			if err := render.Status(&out, snap, o); err != nil {
				t.Fatal(err)
			}
			wantNoControl(t, out.String())
			if !strings.Contains(out.String(), "[recovered: ") {
				t.Errorf("recovered marker missing:\n%s", out.String())
			}
		})
	}
}
