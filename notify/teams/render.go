package teams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// maxMessageBytes is the most a request may weigh: Teams refuses a message
// over about 28 KB ("Request Entity too large"), and a margin keeps the
// card clear of it whatever the workflow adds around it.
const maxMessageBytes = 27_000

const truncMarker = "… (truncated)"

// The envelope a Workflows "Post card" step takes, with the card inside.
type message struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"` // always null
	Content     card    `json:"content"`
}

type card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []element `json:"body"`
	MSTeams msteams   `json:"msteams"`
}

type msteams struct {
	Width string `json:"width"`
}

// element is a TextBlock or a FactSet.
type element struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	FontType string `json:"fontType,omitempty"`
	Spacing  string `json:"spacing,omitempty"`
	Facts    []fact `json:"facts,omitempty"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// budget is how much of an event one rendering shows; buildMessage tries
// them in order until the request fits maxMessageBytes.
type budget struct {
	lines      int // lines of an error message (or of the body)
	lineRunes  int // characters of one line
	frames     int // trace frames (0: no trace)
	frameRunes int // characters of one frame
	digest     int // events a digest lists
	factRunes  int // characters of a fact's value
}

func budgets() []budget {
	return []budget{
		{lines: 20, lineRunes: 500, frames: 10, frameRunes: 300, digest: 20, factRunes: 500},
		{lines: 8, lineRunes: 300, frames: 5, frameRunes: 200, digest: 10, factRunes: 300},
		{lines: 3, lineRunes: 200, frames: 0, digest: 5, factRunes: 200},
		{lines: 1, lineRunes: 100, frames: 0, digest: 3, factRunes: 100},
	}
}

// buildMessage renders events as one card, encoded: the first budget whose
// request fits maxMessageBytes, or a card that says only what happened.
// The templates, if any, word the title and the body; what they write is
// made inert like database text.
func buildMessage(events []notify.Event, tpl *notify.Templates) ([]byte, error) {
	title, body := notify.DefaultWords(events)
	r := tpl.Render(events, title, body)
	title, body = r.Title, r.Body
	for _, b := range budgets() {
		data, err := encode(buildCard(events, title, body, b))
		if err != nil || len(data) <= maxMessageBytes {
			return data, err
		}
	}
	c := card{Body: []element{titleBlock(events, title), subtle("The alert was too large for a Teams card; seqwatch status shows it in full.")}}
	return encode(c)
}

func encode(c card) ([]byte, error) {
	c.Schema = "http://adaptivecards.io/schemas/adaptive-card.json"
	c.Type = "AdaptiveCard"
	c.Version = "1.4"
	c.MSTeams = msteams{Width: "full"}
	m := message{Type: "message", Attachments: []attachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: c}}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // < > & are look-alikes already; \u003c would cost bytes
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func buildCard(events []notify.Event, title, body string, b budget) card {
	c := card{Body: []element{titleBlock(events, title)}}
	c.Body = append(c.Body, textBlocks(body, b.lines, b.lineRunes, "")...)
	if !notify.Single(events) {
		items := notify.Listed(events)
		shown := min(len(items), b.digest)
		for i, ev := range items[:shown] {
			el := textBlock(digestLine(ev), b.lineRunes)
			if i > 0 {
				el.Spacing = "None"
			}
			c.Body = append(c.Body, el)
		}
		if more := len(items) - shown; more > 0 {
			c.Body = append(c.Body, subtle(fmt.Sprintf("… and %d more", more)))
		}
		return c
	}
	ev := events[0]
	if facts := eventFacts(ev, b.factRunes); len(facts) > 0 {
		c.Body = append(c.Body, element{Type: "FactSet", Facts: facts})
	}
	if e, ok := ev.HeadlineError(); ok {
		exc := e.Exception
		if at := notify.ThrownAt(e.Context); at != "" {
			exc += " at " + at
		}
		if strings.TrimSpace(exc) != "" {
			c.Body = append(c.Body, label("Exception"), textBlock(exc, b.factRunes))
		}
		if strings.TrimSpace(e.Message) != "" {
			c.Body = append(c.Body, label("Message"))
			c.Body = append(c.Body, textBlocks(e.Message, b.lines, b.lineRunes, "Monospace")...)
		}
		if b.frames > 0 {
			c.Body = append(c.Body, traceBlocks(e, b)...)
		}
	}
	if d := ev.Deferred; d != nil && strings.TrimSpace(d.LastError) != "" {
		c.Body = append(c.Body, label("Last error"))
		c.Body = append(c.Body, textBlocks(d.LastError, b.lines, b.lineRunes, "Monospace")...)
	}
	if strings.TrimSpace(ev.Source) != "" {
		c.Body = append(c.Body, label("Error"))
		c.Body = append(c.Body, textBlocks(ev.Source, b.lines, b.lineRunes, "Monospace")...)
	}
	if p := ev.Pending; p != nil && len(p.Names) > 0 {
		c.Body = append(c.Body, label("Pending operations"))
		shown := min(len(p.Names), b.digest)
		for _, name := range p.Names[:shown] {
			el := textBlock(name, b.factRunes)
			el.Spacing = "None"
			c.Body = append(c.Body, el)
		}
		if more := len(p.Names) - shown; more > 0 {
			c.Body = append(c.Body, subtle(fmt.Sprintf("… and %d more", more)))
		}
	}
	foot := "seqwatch"
	if ev.ID != "" {
		foot += " · event " + ev.ID
	}
	if more := len(ev.Errors) - 1; more > 0 {
		foot += fmt.Sprintf(" · %d more %s", more, notify.Plural(more, "error", "errors"))
	}
	c.Body = append(c.Body, subtle(foot))
	return c
}

func titleBlock(events []notify.Event, title string) element {
	return element{Type: "TextBlock", Text: inert(text.Truncate(notify.KindEmoji(notify.BatchKindOf(events))+" "+text.CleanLine(title), 300, truncMarker)),
		Wrap: true, Weight: "Bolder", Size: "Medium", Color: colorOf(events)}
}

// eventFacts are the facts of one event, each value at most limit
// characters.
func eventFacts(ev notify.Event, limit int) []fact {
	var facts []fact
	add := func(title, value string) {
		if v := text.CleanLine(value); v != "" {
			facts = append(facts, fact{Title: title, Value: inert(text.Truncate(v, limit, truncMarker))})
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
	return facts
}

// traceBlocks are the first frames of the error's trace, one small
// monospace line each, and how many frames of the whole recorded trace
// they leave out.
func traceBlocks(e notify.Error, b budget) []element {
	frames, more := e.Frames(b.frames)
	if len(frames) == 0 {
		return nil
	}
	out := []element{label("Trace")}
	for _, f := range frames {
		el := textBlock(f, b.frameRunes)
		el.FontType, el.Size, el.Spacing = "Monospace", "Small", "None"
		out = append(out, el)
	}
	if more > 0 {
		out = append(out, subtle(fmt.Sprintf("… and %d more frames", more)))
	}
	return out
}

// textBlocks shows raw multi-line text as one TextBlock a line (a
// TextBlock joins single line breaks), at most maxLines lines of limit
// characters each.
func textBlocks(raw string, maxLines, limit int, font string) []element {
	var lines []string
	for line := range strings.Lines(text.Clean(raw)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	shown := min(len(lines), maxLines)
	var out []element
	for i, line := range lines[:shown] {
		el := textBlock(line, limit)
		el.FontType = font
		if i > 0 {
			el.Spacing = "None"
		}
		out = append(out, el)
	}
	if more := len(lines) - shown; more > 0 {
		out = append(out, subtle(fmt.Sprintf("… and %d more %s", more, notify.Plural(more, "line", "lines"))))
	}
	return out
}

// textBlock shows one line of raw text, inert, at most limit characters.
func textBlock(raw string, limit int) element {
	return element{Type: "TextBlock", Text: inert(text.Truncate(text.CleanLine(raw), limit, truncMarker)), Wrap: true}
}

func label(s string) element {
	return element{Type: "TextBlock", Text: inert(s), Weight: "Bolder", Wrap: true, Spacing: "Medium"}
}

func subtle(s string) element {
	return element{Type: "TextBlock", Text: inert(s), IsSubtle: true, Size: "Small", Wrap: true}
}

// lookAlikes replace the characters that Adaptive Card markdown (and the
// CommonMark renderers of Teams' clients) give a meaning to: emphasis,
// strike-through, code, links and images ([…](…), <…>), HTML and its
// entities (&#x202E; would decode to a bidi override). A '>' means
// something only at the start of a line (a quote; inertLineStart) or
// after a '<', so "Foo->bar()" stays as written. A look-alike shows
// the same to the reader and means nothing to the renderer; backslash
// escapes are not honoured alike by Teams' clients.
var lookAlikes = strings.NewReplacer(
	"*", "∗", "~", "∼", "`", "ˋ", "[", "［", "]", "］", "<", "‹", "&", "＆",
	"{{", "{｛", // {{DATE(…)}} and {{TIME(…)}} are Adaptive Card functions
	"://", ":⁄⁄", // no URL becomes a link
)

// inert makes one line of cleaned text inert in a TextBlock or a fact:
// look-alikes for markdown characters, an underscore kept only inside a
// word (where CommonMark never reads it as emphasis, so that names such as
// 2024_01_13_FailedOperation stay as written), a backslash before
// punctuation (an escape) made a look-alike, and a line that would start
// a heading, a list or a quote starting with a look-alike instead.
func inert(s string) string {
	s = strings.TrimLeft(s, " \t")
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i, r := range rs {
		switch {
		case r == '_' && !(i > 0 && i < len(rs)-1 && isWord(rs[i-1]) && isWord(rs[i+1])):
			b.WriteRune('ˍ')
		case r == '\\' && i+1 < len(rs) && rs[i+1] < unicode.MaxASCII && (unicode.IsPunct(rs[i+1]) || unicode.IsSymbol(rs[i+1])):
			b.WriteRune('⧵')
		default:
			b.WriteRune(r)
		}
	}
	s = lookAlikes.Replace(b.String())
	s = breakWWW(s)
	return inertLineStart(s)
}

// inertLineStart replaces what would make the line a heading ("# "), a
// list item ("- ", "+ ", "1. ", "1) "), a quote (">"), or a thematic
// break or setext underline ("---", "==="): a PHP frame ("#0 /app/…")
// or a negative number stays as written.
func inertLineStart(s string) string {
	if s == "" {
		return s
	}
	marker := func(n int) bool { return n == len(s) || s[n] == ' ' || s[n] == s[0] }
	switch {
	case s[0] == '>':
		return "›" + s[1:]
	case s[0] == '#' && marker(1):
		return "＃" + s[1:]
	case s[0] == '-' && marker(1):
		return "‐" + s[1:]
	case s[0] == '+' && marker(1):
		return "＋" + s[1:]
	case s[0] == '=' && marker(1):
		return "＝" + s[1:]
	}
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if digits > 0 && digits < len(s) && (digits+1 == len(s) || s[digits+1] == ' ') {
		switch s[digits] {
		case '.':
			return s[:digits] + "．" + s[digits+1:]
		case ')':
			return s[:digits] + "）" + s[digits+1:]
		}
	}
	return s
}

// breakWWW turns the dot of "www." (in any case) into a one-dot leader,
// so that a client's link detection finds no host name to link.
func breakWWW(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+4 <= len(s) && strings.EqualFold(s[i:i+4], "www.") {
			b.WriteString(s[i:i+3] + "․")
			i += 4
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func digestLine(ev notify.Event) string {
	line := notify.KindEmoji(ev.Kind) + " " + notify.DefaultTitle(ev.Kind)
	if where := appEnv(ev); where != "" {
		line += " · " + where
	}
	summary := ev.Summary
	if strings.TrimSpace(summary) == "" {
		summary = notify.OpName(ev)
	}
	if s := text.CleanLine(summary); s != "" {
		line += " · " + text.Truncate(s, 250, "…")
	}
	if d := date(ev.OccurredAt); d != "" {
		line += " · " + d
	}
	return line
}

func sameTime(t time.Time, p *time.Time) bool { return p != nil && p.Equal(t) }

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

// colorOf is the title's colour: Attention for a failure, Warning for a
// warning, Good for a recovery, Accent otherwise.
func colorOf(events []notify.Event) string {
	if len(events) != 1 {
		return "Accent"
	}
	switch events[0].Kind {
	case notify.OperationFailed, notify.DeferredFailed, notify.SourceUnreachable:
		return "Attention"
	case notify.OperationStuck, notify.PendingThreshold:
		return "Warning"
	case notify.OperationRecovered, notify.OperationUnstuck, notify.PendingCleared, notify.SourceRecovered:
		return "Good"
	default:
		return "Accent"
	}
}

// appEnv is "app (environment)", plain.
func appEnv(ev notify.Event) string {
	return text.Truncate(notify.AppEnv(ev), 200, "…")
}
