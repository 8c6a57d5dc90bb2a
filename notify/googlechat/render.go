package googlechat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// maxMessageBytes is the most a request may weigh: Google Chat's message
// size limit, text and cards included, is 32,000 bytes, and a margin keeps
// the message clear of it.
const maxMessageBytes = 30_000

// maxWidgets is the most widgets a card shows (Chat ignores the rest).
const maxWidgets = 100

const truncMarker = "… (truncated)"

// message is the body of an incoming webhook's request: a Chat Message.
type message struct {
	FallbackText string       `json:"fallbackText,omitempty"`
	CardsV2      []cardWithID `json:"cardsV2"`
	Thread       *thread      `json:"thread,omitempty"`
}

type thread struct {
	ThreadKey string `json:"threadKey"`
}

type cardWithID struct {
	CardID string `json:"cardId"`
	Card   card   `json:"card"`
}

type card struct {
	Header   *header   `json:"header,omitempty"`
	Sections []section `json:"sections"`
}

type header struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
}

type section struct {
	Header                    string   `json:"header,omitempty"`
	Collapsible               bool     `json:"collapsible,omitempty"`
	UncollapsibleWidgetsCount int      `json:"uncollapsibleWidgetsCount,omitempty"`
	Widgets                   []widget `json:"widgets"`
}

type widget struct {
	TextParagraph *textParagraph `json:"textParagraph,omitempty"`
	DecoratedText *decoratedText `json:"decoratedText,omitempty"`
}

type textParagraph struct {
	Text string `json:"text"`
}

type decoratedText struct {
	TopLabel string `json:"topLabel,omitempty"`
	Text     string `json:"text"`
	WrapText bool   `json:"wrapText,omitempty"`
}

// budget is how much of an event one rendering shows; buildMessage tries
// them in order until the request fits maxMessageBytes.
type budget struct {
	lines      int // lines of an error message (or of the body)
	lineRunes  int // characters of one line
	frames     int // trace frames (0: no trace)
	frameRunes int // characters of one frame
	digest     int // events a digest lists
	factRunes  int // characters of a fact
}

func budgets() []budget {
	return []budget{
		{lines: 20, lineRunes: 500, frames: 10, frameRunes: 300, digest: 20, factRunes: 500},
		{lines: 8, lineRunes: 300, frames: 5, frameRunes: 200, digest: 10, factRunes: 300},
		{lines: 3, lineRunes: 200, frames: 0, digest: 5, factRunes: 200},
		{lines: 1, lineRunes: 100, frames: 0, digest: 3, factRunes: 100},
	}
}

// buildMessage renders events as one message in thread key (none when
// empty), encoded: the first budget whose request fits maxMessageBytes,
// or a card that says only what happened. The templates, if any, word the
// title and the body; what they write is escaped like database text.
func buildMessage(events []notify.Event, key string, tpl *notify.Templates) ([]byte, error) {
	title, body := notify.DefaultWords(events)
	r := tpl.Render(events, title, body)
	title, body = r.Title, r.Body
	var th *thread
	if key != "" {
		th = &thread{ThreadKey: key}
	}
	summary := notify.KindEmoji(notify.BatchKindOf(events)) + " " + title
	if strings.TrimSpace(body) != "" {
		summary += ": " + body
	}
	fallback := text.Truncate(inert(text.CleanLine(summary)), 300, "…")
	for _, b := range budgets() {
		m := message{FallbackText: fallback, CardsV2: []cardWithID{{CardID: "seqwatch", Card: buildCard(events, title, body, b)}}, Thread: th}
		data, err := encode(m)
		if err != nil || len(data) <= maxMessageBytes {
			return data, err
		}
	}
	c := card{Header: cardHeader(events, title), Sections: []section{{Widgets: []widget{paragraph("The alert was too large for a Google Chat card; seqwatch status shows it in full.")}}}}
	return encode(message{FallbackText: fallback, CardsV2: []cardWithID{{CardID: "seqwatch", Card: c}}, Thread: th})
}

func encode(m message) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the card's own HTML; \u003c would cost bytes
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func cardHeader(events []notify.Event, title string) *header {
	return &header{Title: text.Truncate(inert(text.CleanLine(notify.KindEmoji(notify.BatchKindOf(events))+" "+title)), 200, truncMarker), Subtitle: "seqwatch"}
}

func buildCard(events []notify.Event, title, body string, b budget) card {
	c := card{Header: cardHeader(events, title)}
	if p := paragraphLines(body, b.lines, b.lineRunes); p != nil {
		c.Sections = append(c.Sections, section{Widgets: []widget{*p}})
	}
	if !notify.Single(events) {
		items := notify.Listed(events)
		shown := min(len(items), b.digest)
		lines := make([]string, 0, shown+1)
		for _, ev := range items[:shown] {
			lines = append(lines, esc(text.Truncate(digestLine(ev), b.lineRunes, truncMarker)))
		}
		if more := len(items) - shown; more > 0 {
			lines = append(lines, fmt.Sprintf("… and %d more", more))
		}
		c.Sections = append(c.Sections, section{Widgets: []widget{{TextParagraph: &textParagraph{Text: strings.Join(lines, "<br>")}}}})
		return c
	}
	ev := events[0]
	if facts := eventFacts(ev, b.factRunes); len(facts) > 0 {
		c.Sections = append(c.Sections, section{Widgets: facts})
	}
	if e, ok := ev.HeadlineError(); ok {
		var ws []widget
		exc := e.Exception
		if at := notify.ThrownAt(e.Context); at != "" {
			exc += " at " + at
		}
		if s := text.CleanLine(exc); s != "" {
			ws = append(ws, widget{DecoratedText: &decoratedText{TopLabel: "Exception", Text: esc(text.Truncate(s, b.factRunes, truncMarker)), WrapText: true}})
		}
		if p := paragraphLines(e.Message, b.lines, b.lineRunes); p != nil {
			ws = append(ws, *p)
		}
		if len(ws) > 0 {
			c.Sections = append(c.Sections, section{Header: "Error", Widgets: ws})
		}
		if b.frames > 0 {
			if t := traceWidget(e, b); t != nil {
				c.Sections = append(c.Sections, section{Header: "Trace", Collapsible: true, UncollapsibleWidgetsCount: 1, Widgets: []widget{*t}})
			}
		}
	}
	if d := ev.Deferred; d != nil {
		if p := paragraphLines(d.LastError, b.lines, b.lineRunes); p != nil {
			c.Sections = append(c.Sections, section{Header: "Last error", Widgets: []widget{*p}})
		}
	}
	if p := paragraphLines(ev.Source, b.lines, b.lineRunes); p != nil {
		c.Sections = append(c.Sections, section{Header: "Error", Widgets: []widget{*p}})
	}
	if p := ev.Pending; p != nil && len(p.Names) > 0 {
		shown := min(len(p.Names), b.digest)
		lines := make([]string, 0, shown+1)
		for _, name := range p.Names[:shown] {
			lines = append(lines, esc(text.Truncate(text.CleanLine(name), b.factRunes, truncMarker)))
		}
		if more := len(p.Names) - shown; more > 0 {
			lines = append(lines, fmt.Sprintf("… and %d more", more))
		}
		c.Sections = append(c.Sections, section{Header: "Pending operations", Widgets: []widget{{TextParagraph: &textParagraph{Text: strings.Join(lines, "<br>")}}}})
	}
	foot := "seqwatch"
	if ev.ID != "" {
		foot += " · event " + ev.ID
	}
	if more := len(ev.Errors) - 1; more > 0 {
		foot += fmt.Sprintf(" · %d more %s", more, notify.Plural(more, "error", "errors"))
	}
	c.Sections = append(c.Sections, section{Widgets: []widget{{TextParagraph: &textParagraph{Text: `<font color="#80868b">` + esc(foot) + `</font>`}}}})
	return capWidgets(c)
}

// eventFacts are the facts of one event as labelled texts, each at most
// limit characters.
func eventFacts(ev notify.Event, limit int) []widget {
	var ws []widget
	add := func(label, value string) {
		if v := text.CleanLine(value); v != "" {
			ws = append(ws, widget{DecoratedText: &decoratedText{TopLabel: label, Text: esc(text.Truncate(v, limit, truncMarker)), WrapText: true}})
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
	return ws
}

// traceWidget shows the first frames of the error's trace, one a line,
// and how many frames of the whole recorded trace they leave out.
func traceWidget(e notify.Error, b budget) *widget {
	frames, more := e.Frames(b.frames)
	if len(frames) == 0 {
		return nil
	}
	lines := make([]string, 0, len(frames)+1)
	for _, f := range frames {
		lines = append(lines, esc(text.Truncate(text.CleanLine(f), b.frameRunes, truncMarker)))
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("<i>… and %d more frames</i>", more))
	}
	return &widget{TextParagraph: &textParagraph{Text: strings.Join(lines, "<br>")}}
}

// paragraphLines shows raw multi-line text as one paragraph, at most
// maxLines lines of limit characters each; nil when there is none.
func paragraphLines(raw string, maxLines, limit int) *widget {
	var lines []string
	for line := range strings.Lines(text.Clean(raw)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	shown := min(len(lines), maxLines)
	out := make([]string, 0, shown+1)
	for _, line := range lines[:shown] {
		out = append(out, esc(text.Truncate(line, limit, truncMarker)))
	}
	if more := len(lines) - shown; more > 0 {
		out = append(out, fmt.Sprintf("<i>… and %d more %s</i>", more, notify.Plural(more, "line", "lines")))
	}
	return &widget{TextParagraph: &textParagraph{Text: strings.Join(out, "<br>")}}
}

func paragraph(s string) widget { return widget{TextParagraph: &textParagraph{Text: esc(s)}} }

// capWidgets keeps a card within Chat's 100 widgets, which it would
// otherwise drop silently.
func capWidgets(c card) card {
	n := 0
	for i, s := range c.Sections {
		if n+len(s.Widgets) > maxWidgets-1 {
			c.Sections[i].Widgets = s.Widgets[:maxWidgets-1-n]
			c.Sections = append(c.Sections[:i+1], section{Widgets: []widget{paragraph("… (truncated)")}})
			return c
		}
		n += len(s.Widgets)
	}
	return c
}

// htmlEscaper escapes the characters of Chat's card HTML; a URL's "://"
// becomes a look-alike so that no URL in database text becomes a link.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "://", ":⁄⁄")

// esc makes plain text inert in a card's text: cleaned, and HTML-escaped
// (Chat shows an entity as its character).
func esc(s string) string { return htmlEscaper.Replace(text.Clean(s)) }

// lookAlikes replace the characters a header or a notification might read
// as markup; they show the same whether or not it does.
var lookAlikes = strings.NewReplacer("<", "‹", ">", "›", "&", "＆", "*", "∗", "~", "∼", "`", "ˋ", "://", ":⁄⁄")

// inert makes one line of plain text inert where Chat's formatting is not
// documented (the card header, the fallback text).
func inert(s string) string { return lookAlikes.Replace(s) }

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

// appEnv is "app (environment)", plain.
func appEnv(ev notify.Event) string {
	return text.Truncate(notify.AppEnv(ev), 200, "…")
}
