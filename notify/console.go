package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Console limits: enough to see what went wrong without flooding a terminal.
const (
	consoleTraceFrames = 5
	consoleDigestItems = 20
	consoleMessageMax  = 2000 // bytes of an error message shown
)

// Console is a Notifier that prints alerts as readable text, for
// `seqwatch demo` and for people trying seqwatch out. Text that comes from
// the database is stripped of terminal control sequences, so a hostile
// error message cannot rewrite the terminal.
type Console struct {
	mu sync.Mutex // one Notify's output is never interleaved with another's
	w  io.Writer
}

var _ Notifier = (*Console)(nil)

// NewConsole returns a Console writing to w.
func NewConsole(w io.Writer) *Console {
	return &Console{w: w}
}

// Notify prints one block per event. A write error is never worth a retry:
// it is reported with retry=false.
func (c *Console) Notify(ctx context.Context, events []Event) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("console: %w", err)
	}
	var b bytes.Buffer
	for i, e := range events {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeEvent(&b, e)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(b.Bytes()); err != nil {
		return false, fmt.Errorf("console: write: %w", err)
	}
	return false, nil
}

// writeEvent renders one event block.
func writeEvent(b *bytes.Buffer, e Event) {
	app := clean(e.App)
	if e.Environment != "" {
		app += " (" + clean(e.Environment) + ")"
	}
	fmt.Fprintf(b, "== %s  %s", clean(string(e.Kind)), app)
	if !e.OccurredAt.IsZero() {
		fmt.Fprintf(b, "  %s", formatTime(e.OccurredAt))
	}
	b.WriteByte('\n')
	if e.Summary != "" {
		field(b, "", e.Summary)
	}
	if op := e.Operation; op != nil {
		field(b, "operation", fmt.Sprintf("%s (%s, id %s)", op.Name, op.Type, op.ID))
		if !op.ExecutedAt.IsZero() {
			field(b, "executed", formatTime(op.ExecutedAt))
		}
		if op.FailedAt != nil {
			field(b, "failed", formatTime(*op.FailedAt))
		}
		if op.CompletedAt != nil {
			field(b, "completed", formatTime(*op.CompletedAt))
		}
		if op.RunningFor > 0 {
			field(b, "running for", op.RunningFor.Round(time.Second).String())
		}
	}
	for _, er := range e.Errors {
		writeError(b, er)
	}
	if p := e.Pending; p != nil {
		field(b, "pending", fmt.Sprintf("%d (threshold %d)", p.Count, p.Threshold))
		for _, name := range p.Names {
			field(b, "", "- "+name)
		}
	}
	if df := e.Deferred; df != nil {
		field(b, "deferred", fmt.Sprintf("%s (id %s, %d of %d attempts)",
			df.Operation, df.ID, df.Attempts, df.MaxAttempts))
		if df.LastError != "" {
			field(b, "last error", df.LastError)
		}
	}
	if e.Source != "" {
		field(b, "source error", e.Source)
	}
	if len(e.Items) > 0 {
		field(b, "items", fmt.Sprintf("%d", len(e.Items)))
		for i, it := range e.Items {
			if i == consoleDigestItems {
				fmt.Fprintf(b, "     and %d more\n", len(e.Items)-consoleDigestItems)
				break
			}
			line := "- " + string(it.Kind)
			if it.Summary != "" {
				line += ": " + it.Summary
			}
			if !it.OccurredAt.IsZero() {
				line += " (" + formatTime(it.OccurredAt) + ")"
			}
			field(b, "", line)
		}
	}
}

// writeError renders one recorded exception: class, message and the first
// trace frames.
func writeError(b *bytes.Buffer, er Error) {
	head := er.Exception
	if !er.CreatedAt.IsZero() {
		head += " at " + formatTime(er.CreatedAt)
	}
	field(b, "error", head)
	msg := er.Message
	if len(msg) > consoleMessageMax {
		msg = truncateUTF8(msg, consoleMessageMax) + " [truncated]"
	}
	if msg != "" {
		field(b, "message", msg)
	}
	if er.Trace == "" {
		return
	}
	frames := strings.Split(strings.TrimSpace(er.Trace), "\n")
	for i, f := range frames {
		if i == consoleTraceFrames {
			fmt.Fprintf(b, "     ... %d more frames\n", len(frames)-consoleTraceFrames)
			break
		}
		field(b, "", "  "+strings.TrimSpace(f))
	}
}

// field writes "   label: value", with continuation lines indented so
// database text can never start a line of its own at the left margin.
func field(b *bytes.Buffer, label, value string) {
	const indent = "   "
	value = strings.ReplaceAll(clean(value), "\n", "\n"+indent+"  ")
	b.WriteString(indent)
	if label != "" {
		b.WriteString(label)
		b.WriteString(": ")
	}
	b.WriteString(value)
	b.WriteByte('\n')
}

func formatTime(t time.Time) string {
	return t.Format("2006-01-02 15:04:05 MST")
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clean strips terminal control sequences from untrusted text: ESC
// sequences (CSI, OSC, DCS and two-byte ones), C1 controls (0x80-0x9F,
// which some terminals treat like ESC sequences), DEL and every C0 control
// except newline and tab. Invalid UTF-8 becomes U+FFFD. CR is dropped (a
// CRLF becomes LF) because a bare CR lets text overwrite its own line.
func clean(s string) string {
	if !needsCleaning(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b: // ESC
			i += size
			i = skipEscape(s, i)
			continue
		case r == 0x9b: // C1 CSI
			i += size
			i = skipCSI(s, i)
			continue
		case r == 0x9d || r == 0x90 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, PM, APC
			i += size
			i = skipString(s, i)
			continue
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			// dropped
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// needsCleaning reports whether s has anything clean would change.
func needsCleaning(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

// skipEscape skips the rest of an escape sequence whose ESC ended at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', '^', '_', 'X':
		return skipString(s, i+1)
	}
	// Two-byte sequence (ESC c, ESC 7, ...) possibly with intermediates
	// (ESC ( B): skip intermediates 0x20-0x2F, then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI skips parameters and intermediates up to and including the
// final byte (0x40-0x7E).
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		i++
		if c >= 0x40 && c <= 0x7e {
			return i
		}
		if c < 0x20 || c > 0x3f {
			// Not a parameter or intermediate byte: the sequence is
			// malformed; stop here and let the caller clean the rest.
			return i - 1
		}
	}
	return i
}

// skipString skips an OSC/DCS/PM/APC string up to BEL or ST (ESC \ or
// C1 0x9C). An unterminated string runs to the end of s: printing its tail
// could still be swallowed by the terminal.
func skipString(s string, i int) int {
	for i < len(s) {
		if s[i] == 0x07 {
			return i + 1
		}
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
			return i + 2
		}
		if strings.HasPrefix(s[i:], "\u009c") {
			return i + len("\u009c")
		}
		i++
	}
	return i
}
