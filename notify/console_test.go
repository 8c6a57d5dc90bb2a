package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/seqwatch/seqwatch/internal/text"
	"strings"
	"testing"
	"time"
	"unicode"
)

func failedEvent() Event {
	failed := t0.Add(3 * time.Second)
	return Event{
		ID: "e1", Kind: OperationFailed, App: "shop", Environment: "production",
		OccurredAt: failed,
		Summary:    "2024_01_13_120000_FailedOperation failed",
		Operation: &Operation{ID: "42", Name: "2024_01_13_120000_FailedOperation", Type: "sync",
			ExecutedAt: t0, FailedAt: &failed},
		Errors: []Error{{
			Exception: `Illuminate\Database\QueryException`,
			Message:   "SQLSTATE[23000]: duplicate key\nDETAIL: id=7",
			Trace: "#0 /app/a.php(1): a()\n#1 /app/b.php(2): b()\n#2 /app/c.php(3): c()\n" +
				"#3 /app/d.php(4): d()\n#4 /app/e.php(5): e()\n#5 /app/f.php(6): f()\n#6 {main}",
			CreatedAt: failed,
		}},
	}
}

func TestConsoleRendersAFailure(t *testing.T) {
	var out bytes.Buffer
	retry, err := NewConsole(&out).Notify(context.Background(), []Event{failedEvent()})
	if retry || err != nil {
		t.Fatalf("Notify() = %v, %v", retry, err)
	}
	want := `== operation.failed  shop (production)  2024-01-13 12:00:03 UTC
   2024_01_13_120000_FailedOperation failed
   operation: 2024_01_13_120000_FailedOperation (sync, id 42)
   executed: 2024-01-13 12:00:00 UTC
   failed: 2024-01-13 12:00:03 UTC
   error: Illuminate\Database\QueryException at 2024-01-13 12:00:03 UTC
   message: SQLSTATE[23000]: duplicate key
     DETAIL: id=7
     #0 /app/a.php(1): a()
     #1 /app/b.php(2): b()
     #2 /app/c.php(3): c()
     #3 /app/d.php(4): d()
     #4 /app/e.php(5): e()
     ... 2 more frames
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestConsoleDigestShowsTwentyItems(t *testing.T) {
	digest := Event{Kind: Digest, App: "shop", Summary: "25 past failures"}
	for i := range 25 {
		digest.Items = append(digest.Items, Event{Kind: OperationFailed, Summary: fmt.Sprintf("op %02d failed", i)})
	}
	var out bytes.Buffer
	if _, err := NewConsole(&out).Notify(context.Background(), []Event{digest}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"items: 25", "- operation.failed: op 00 failed", "op 19 failed", "and 5 more"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "op 20 failed") {
		t.Errorf("output shows more than 20 items:\n%s", s)
	}
}

func TestConsoleStripsTerminalControls(t *testing.T) {
	hostile := []string{
		"\x1b[2J\x1b[Hscreen cleared",                 // CSI
		"\x1b]0;pwned title\x07after OSC",             // OSC ending in BEL
		"\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", // OSC 8 hyperlink with ST
		"\x1bPdcs string\x1b\\after DCS",              // DCS
		"\x1bcreset",                                  // two-byte ESC
		"\u009b31mC1 CSI",                             // C1 CSI as UTF-8
		"bell\x07 backspace\x08 cr\r del\x7f",         // other C0 and DEL
		"invalid \x9b31m utf8",                        // raw 8-bit CSI byte
		"unterminated \x1b[",                          // truncated sequence
		"unterminated osc \x1b]0;title",
	}
	for _, h := range hostile {
		t.Run(fmt.Sprintf("%q", h), func(t *testing.T) {
			e := failedEvent()
			e.App, e.Summary = h, h
			e.Errors[0].Exception, e.Errors[0].Message, e.Errors[0].Trace = h, h, h
			e.Operation.Name = h
			e.Items = []Event{{Kind: OperationFailed, Summary: h}}
			var out bytes.Buffer
			if _, err := NewConsole(&out).Notify(context.Background(), []Event{e}); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			for i := 0; i < len(s); i++ {
				c := s[i]
				if c == 0x1b || c == 0x9b || c == 0x07 || c == 0x08 || c == '\r' || c == 0x7f {
					t.Fatalf("output contains control byte %#x:\n%q", c, s)
				}
			}
			if strings.Contains(s, "\u009b") {
				t.Fatalf("output contains C1 CSI:\n%q", s)
			}
		})
	}
	t.Run("plain text survives", func(t *testing.T) {
		if got := text.Block("tab\there\nnext line ünïcode"); got != "tab\there\nnext line ünïcode" {
			t.Errorf("clean changed plain text: %q", got)
		}
		if got := text.Block("\x1b[31mred\x1b[0m text\r\n"); got != "red text\n" {
			t.Errorf("text.Block() = %q, want %q", got, "red text\n")
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestConsoleWriteErrorIsNotRetryable(t *testing.T) {
	retry, err := NewConsole(failingWriter{}).Notify(context.Background(), []Event{failedEvent()})
	if retry || err == nil {
		t.Fatalf("Notify() = %v, %v; want false and an error", retry, err)
	}
}

func TestConsoleThroughDispatcherIsPermanentOnWriteError(t *testing.T) {
	d := NewDispatcher(map[string]Notifier{"console": NewConsole(failingWriter{})}, DispatcherOptions{})
	o := d.Send(context.Background(), "console", []Event{failedEvent()})
	if !o.Permanent || o.Attempts != 1 {
		t.Fatalf("outcome = %+v, want permanent after 1 attempt", o)
	}
}

func TestConsoleRendersEveryKindOfDetail(t *testing.T) {
	failed := t0
	events := []Event{
		{Kind: OperationStuck, App: "shop", Summary: "stuck",
			Operation: &Operation{ID: "1", Name: "op", Type: "async", ExecutedAt: t0, RunningFor: 90*time.Minute + 400*time.Millisecond}},
		{Kind: OperationRecovered, App: "shop", Operation: &Operation{ID: "2", Name: "op2", Type: "sync", CompletedAt: &failed}},
		{Kind: PendingThreshold, App: "shop", Pending: &PendingCount{Count: 12, Threshold: 10, Names: []string{"a", "b"}}},
		{Kind: DeferredFailed, App: "shop", Deferred: &DeferredError{ID: "9", Operation: "Mail", Attempts: 3, MaxAttempts: 3, LastError: "timeout"}},
		{Kind: SourceUnreachable, App: "shop", Source: "dial tcp: connection refused"},
		{Kind: OperationFailed, App: "shop", Errors: []Error{{Exception: "E", Message: strings.Repeat("é", 2000)}}},
	}
	var out bytes.Buffer
	if _, err := NewConsole(&out).Notify(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"running for: 1h30m0s", "completed: 2024-01-13 12:00:00 UTC",
		"pending: 12 (threshold 10)", "   - a\n",
		"deferred: Mail (id 9, 3 of 3 attempts)", "last error: timeout",
		"source error: dial tcp: connection refused", "[truncated]",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "\n== ") != len(events)-1 {
		t.Errorf("want one block per event, separated by blank lines:\n%s", s)
	}
	if strings.Contains(s, "\uFFFD") {
		t.Error("truncation split a rune")
	}
}

func TestConsoleHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if retry, err := NewConsole(&out).Notify(ctx, []Event{failedEvent()}); retry || err == nil || out.Len() != 0 {
		t.Fatalf("Notify() = %v, %v, wrote %d bytes; want nothing written", retry, err, out.Len())
	}
}

// The console counts the frames left out of the whole recorded trace (the
// event may carry only its first frames) and shows no format character:
// zero-width spaces and joiners, the byte order mark, bidi controls.
func TestConsoleCountsWholeTraceAndDropsFormatCharacters(t *testing.T) {
	ev := failedEvent()
	ev.App = "sh\u200bop"
	ev.Summary = "pay\u200dment\ufeff failed \u202eevil\u202c"
	ev.Errors[0].Message = "dup\u2060licate\u00ad key"
	ev.Errors[0].TraceFrames, ev.Errors[0].TraceBytes = 9187, 812345
	var out bytes.Buffer
	if _, err := NewConsole(&out).Notify(context.Background(), []Event{ev}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"== operation.failed  shop (production)", "   payment failed evil\n", "message: duplicate key\n", "     ... 9182 more frames\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if i := strings.IndexFunc(got, func(r rune) bool { return unicode.Is(unicode.Cf, r) }); i >= 0 {
		t.Errorf("format character %U in the output:\n%q", []rune(got[i:])[0], got)
	}
}
