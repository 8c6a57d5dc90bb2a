package ntfy

import (
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// ntfy's documented limits: a message body over 4,096 bytes (or not
// UTF-8) becomes an attachment, or is refused where attachments are off.
const (
	maxBody  = 4096
	maxTitle = 250 // characters; no documented limit, but a header stays short
)

// How much of an event a notification shows: a phone's screen.
const (
	maxMessageLines = 10
	maxLineRunes    = 300
	maxFrames       = 10
	maxFrameRunes   = 200
	maxDigestLines  = 20
	maxFactRunes    = 200
)

const truncMarker = "… (truncated)"

// message is one notification: its headers' values and its body.
type message struct {
	title    string
	body     string
	priority int
	tags     []string
}

// buildMessage renders events as one notification within ntfy's limits.
// The templates, if any, word the title and the body; what they write is
// made plain like database text.
func buildMessage(events []notify.Event, tpl *notify.Templates) message {
	title, body := notify.DefaultWords(events)
	r := tpl.Render(events, title, body)
	title, body = r.Title, r.Body
	// Tags: the emoji ntfy shows before the title, then the event's kind
	// (seqwatch for several events).
	m := message{
		title:    text.Truncate(plain(text.CleanLine(title)), maxTitle, "…"),
		priority: priorityOf(events),
		tags:     []string{tagOf(notify.BatchKindOf(events)), "seqwatch"},
	}
	var parts []string
	if s := plainLines(body, maxMessageLines, maxLineRunes); s != "" {
		parts = append(parts, s)
	}
	var foot string
	if notify.Single(events) {
		ev := events[0]
		parts = append(parts, eventParts(ev)...)
		foot = "seqwatch · event " + ev.ID
		if more := len(ev.Errors) - 1; more > 0 {
			foot += fmt.Sprintf(" · %d more %s", more, notify.Plural(more, "error", "errors"))
		}
	} else {
		room := maxBody - len(strings.Join(parts, "\n\n")) - 2
		parts = append(parts, digestLines(notify.Listed(events), room))
	}
	m.body = fit(strings.Join(parts, "\n\n"), foot)
	if len(events) == 1 {
		m.tags[1] = string(events[0].Kind)
	}
	return m
}

// fit cuts body at a line to leave room for the marker and foot, within
// maxBody bytes.
func fit(body, foot string) string {
	tail := ""
	if foot != "" {
		tail = "\n\n" + plain(foot)
	}
	if len(body)+len(tail) <= maxBody {
		return body + tail
	}
	cut := text.CutLines(body, maxBody-len(tail)-len("\n"+truncMarker))
	return cut + "\n" + truncMarker + tail
}

// eventParts are the facts of one event, then its headline error (or the
// error that made the database unreachable, or a deferred operation's last
// error) with its first trace frames, and the pending operations.
func eventParts(ev notify.Event) []string {
	var parts []string
	var facts []string
	add := func(label, value string) {
		if v := text.CleanLine(value); v != "" {
			facts = append(facts, label+": "+plain(text.Truncate(v, maxFactRunes, "…")))
		}
	}
	if op := ev.Operation; op != nil {
		add("Operation", op.Name)
		add("Type", op.Type)
		add("Started", date(op.ExecutedAt))
		if op.FailedAt != nil {
			add("Failed", date(*op.FailedAt))
		}
		if op.CompletedAt != nil {
			add("Completed", date(*op.CompletedAt))
		}
		if op.RunningFor > 0 {
			add("Running for", op.RunningFor.Round(time.Second).String())
		}
	}
	if p := ev.Pending; p != nil {
		add("Pending", fmt.Sprintf("%d (threshold %d)", p.Count, p.Threshold))
	}
	if d := ev.Deferred; d != nil {
		add("Deferred operation", d.Operation)
		add("Attempts", fmt.Sprintf("%d of %d", d.Attempts, d.MaxAttempts))
	}
	if op := ev.Operation; op == nil || !sameTime(ev.OccurredAt, op.FailedAt) && !sameTime(ev.OccurredAt, op.CompletedAt) {
		add("Occurred", date(ev.OccurredAt))
	}
	if e, ok := ev.HeadlineError(); ok {
		exc := e.Exception
		if at := notify.ThrownAt(e.Context); at != "" {
			exc += " at " + at
		}
		add("Exception", exc)
		if len(facts) > 0 {
			parts = append(parts, strings.Join(facts, "\n"))
			facts = nil
		}
		if s := plainLines(e.Message, maxMessageLines, maxLineRunes); s != "" {
			parts = append(parts, s)
		}
		if t := traceText(e); t != "" {
			parts = append(parts, t)
		}
	}
	if len(facts) > 0 {
		parts = append(parts, strings.Join(facts, "\n"))
	}
	if d := ev.Deferred; d != nil {
		if s := plainLines(d.LastError, maxMessageLines, maxLineRunes); s != "" {
			parts = append(parts, "Last error:\n"+s)
		}
	}
	if s := plainLines(ev.Source, maxMessageLines, maxLineRunes); s != "" {
		parts = append(parts, "Error:\n"+s)
	}
	if p := ev.Pending; p != nil && len(p.Names) > 0 {
		shown := min(len(p.Names), maxDigestLines)
		lines := []string{"Pending operations:"}
		for _, name := range p.Names[:shown] {
			lines = append(lines, "- "+plain(text.Truncate(text.CleanLine(name), maxFactRunes, "…")))
		}
		if more := len(p.Names) - shown; more > 0 {
			lines = append(lines, fmt.Sprintf("… and %d more", more))
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	return parts
}

// traceText is the first frames of the error's trace, one a line, and how
// many frames of the whole recorded trace they leave out.
func traceText(e notify.Error) string {
	frames, more := e.Frames(maxFrames)
	if len(frames) == 0 {
		return ""
	}
	lines := make([]string, 0, len(frames)+1)
	for _, f := range frames {
		lines = append(lines, plain(text.Truncate(text.CleanLine(f), maxFrameRunes, "…")))
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more frames", more))
	}
	return strings.Join(lines, "\n")
}

// digestLines are a digest's lines, as many as fit limit bytes with the
// line that says how many were left out.
func digestLines(items []notify.Event, limit int) string {
	var b strings.Builder
	shown := 0
	for _, ev := range items[:min(len(items), maxDigestLines)] {
		line := plain(digestLine(ev))
		if b.Len()+1+len(line)+30 > limit {
			break
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
		shown++
	}
	if more := len(items) - shown; more > 0 {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "… and %d more", more)
	}
	return b.String()
}

// plainLines is raw multi-line text, cleaned and plain, at most maxLines
// lines of limit characters each.
func plainLines(raw string, maxLines, limit int) string {
	var lines []string
	for line := range strings.Lines(text.Clean(raw)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	shown := min(len(lines), maxLines)
	out := make([]string, 0, shown+1)
	for _, line := range lines[:shown] {
		out = append(out, plain(text.Truncate(line, limit, "…")))
	}
	if more := len(lines) - shown; more > 0 {
		out = append(out, fmt.Sprintf("… and %d more %s", more, notify.Plural(more, "line", "lines")))
	}
	return strings.Join(out, "\n")
}

// plain keeps cleaned text as it is, but for a URL's "://", which becomes
// a look-alike so that a client's link detection finds no link in
// database text.
func plain(s string) string { return strings.ReplaceAll(s, "://", ":⁄⁄") }

// priorityOf is ntfy's priority: 5 (max) for a failure, 4 for a warning,
// 3 (default) for a recovery or a test; a digest takes its most urgent
// event's.
func priorityOf(events []notify.Event) int {
	if notify.Single(events) {
		switch events[0].Kind {
		case notify.OperationFailed, notify.DeferredFailed, notify.SourceUnreachable:
			return 5
		case notify.OperationStuck, notify.PendingThreshold:
			return 4
		}
		return 3
	}
	p := 3
	for _, ev := range notify.Listed(events) {
		p = max(p, priorityOf([]notify.Event{ev}))
	}
	return p
}

// tagOf is the emoji short code ntfy shows before the title.
func tagOf(k notify.Kind) string {
	switch k {
	case notify.OperationFailed:
		return "rotating_light"
	case notify.OperationRecovered, notify.OperationUnstuck, notify.PendingCleared, notify.SourceRecovered:
		return "white_check_mark"
	case notify.OperationStuck:
		return "hourglass"
	case notify.PendingThreshold:
		return "warning"
	case notify.DeferredFailed:
		return "x"
	case notify.SourceUnreachable:
		return "electric_plug"
	case notify.Digest:
		return "bookmark_tabs"
	case notify.Reminder:
		return "repeat"
	case notify.Test:
		return "test_tube"
	default:
		return "bell"
	}
}

func digestLine(ev notify.Event) string {
	line := notify.DefaultTitle(ev.Kind)
	if where := appEnv(ev); where != "" {
		line += " · " + where
	}
	summary := ev.Summary
	if strings.TrimSpace(summary) == "" {
		summary = notify.OpName(ev)
	}
	if s := text.CleanLine(summary); s != "" {
		line += " · " + text.Truncate(s, 200, "…")
	}
	if d := date(ev.OccurredAt); d != "" {
		line += " · " + d
	}
	return "- " + line
}

func sameTime(t time.Time, p *time.Time) bool { return p != nil && p.Equal(t) }

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

// appEnv is "app (environment)", plain.
func appEnv(ev notify.Event) string {
	return text.Truncate(notify.AppEnv(ev), 200, "…")
}
