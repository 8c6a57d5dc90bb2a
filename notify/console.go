package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
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
	mu        sync.Mutex // one Notify's output is never interleaved with another's
	w         io.Writer
	templates *Templates
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
		c.writeEvent(&b, e)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(b.Bytes()); err != nil {
		return false, fmt.Errorf("console: write: %w", err)
	}
	return false, nil
}

// writeEvent renders one event block: its title line and its body (the
// summary), which the templates may word (each block is a message of its
// own), then the event's facts.
func (c *Console) writeEvent(b *bytes.Buffer, e Event) {
	r := c.templates.Render([]Event{e}, consoleTitle(e), e.Summary)
	title := r.Title // made of cleaned parts, two spaces apart
	if r.TitleTemplated {
		title = text.CleanLine(title)
	}
	fmt.Fprintf(b, "== %s\n", title)
	if r.Body != "" {
		field(b, "", r.Body)
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

// consoleTitle is the default title line: the kind, the application and
// when it happened.
func consoleTitle(e Event) string {
	app := text.CleanLine(e.App)
	if e.Environment != "" {
		app += " (" + text.CleanLine(e.Environment) + ")"
	}
	s := text.CleanLine(string(e.Kind)) + "  " + app
	if !e.OccurredAt.IsZero() {
		s += "  " + formatTime(e.OccurredAt)
	}
	return s
}

// Preview is what Notify would write.
func (c *Console) Preview(events []Event) ([]Request, error) {
	var b bytes.Buffer
	for i, e := range events {
		if i > 0 {
			b.WriteByte('\n')
		}
		c.writeEvent(&b, e)
	}
	return []Request{{Method: "WRITE", Target: "standard output", Body: b.Bytes()}}, nil
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
		msg = text.CutBytes(msg, consoleMessageMax) + " [truncated]"
	}
	if msg != "" {
		field(b, "message", msg)
	}
	frames, more := er.Frames(consoleTraceFrames)
	if len(frames) == 0 {
		return
	}
	for _, f := range frames {
		field(b, "", "  "+f)
	}
	if more > 0 {
		fmt.Fprintf(b, "     ... %d more frames\n", more)
	}
}

// field writes "   label: value", with continuation lines indented so
// database text can never start a line of its own at the left margin.
func field(b *bytes.Buffer, label, value string) {
	const indent = "   "
	value = strings.ReplaceAll(text.Clean(value), "\n", "\n"+indent+"  ")
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
