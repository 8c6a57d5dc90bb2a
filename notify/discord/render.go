package discord

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// Discord's documented limits for a webhook message (Execute Webhook;
// Embed Limits), in characters. A message over one is refused with 400.
const (
	maxContent     = 2000
	maxEmbeds      = 10
	maxTitle       = 256
	maxDescription = 4096
	maxFields      = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxFooter      = 2048
	// maxEmbedsTotal is the most characters all embeds of a message may
	// hold together (title, description, field names and values, footer,
	// author): the issue asks for fewer than 6,000, and a margin keeps the
	// count safe whichever way Discord counts a character.
	maxEmbedsTotal = 5800
	// maxThreadName is the longest name of a forum post (a channel name).
	maxThreadName = 100
)

// How much of an event a message shows.
const (
	maxDigestLines   = 20
	maxDigestSummary = 250
	maxPendingNames  = 10
)

const truncMarker = "… (truncated)"

// payload is the body of Execute Webhook.
type payload struct {
	Content         string          `json:"content,omitempty"`
	Username        string          `json:"username,omitempty"`
	Embeds          []embed         `json:"embeds"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
	ThreadName      string          `json:"thread_name,omitempty"`
	// title is the rendered title as plain text, for a forum post's name.
	title string
}

// allowedMentions with an empty (not null) parse list pings nobody,
// whatever the text says: @everyone, @here, <@id>, <@&role>.
type allowedMentions struct {
	Parse []string `json:"parse"`
}

type embed struct {
	Title       string  `json:"title,omitempty"`
	Description string  `json:"description,omitempty"`
	Color       int     `json:"color,omitempty"`
	Fields      []field `json:"fields,omitempty"`
	Footer      *footer `json:"footer,omitempty"`
	Timestamp   string  `json:"timestamp,omitempty"`
}

type field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

type footer struct {
	Text string `json:"text"`
}

// chars is the embed's characters as Discord counts them against the
// 6,000 of a message.
func (e embed) chars() int {
	n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, f := range e.Fields {
		n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if e.Footer != nil {
		n += utf8.RuneCountInString(e.Footer.Text)
	}
	return n
}

// budget is how much of an event one rendering shows; buildPayload tries
// them in order until the embed fits.
type budget struct {
	description int // characters of the description
	message     int // characters of the error message's block
	frames      int // trace frames (0: no trace)
	frameRunes  int // characters of one frame
}

func budgets() []budget {
	return []budget{
		{description: maxDescription, message: maxFieldValue, frames: 10, frameRunes: 200},
		{description: 2000, message: 600, frames: 6, frameRunes: 150},
		{description: 1000, message: 300, frames: 0},
		{description: 500, message: 0, frames: 0},
	}
}

// digestLines are a digest's lines, escaped, as many as fit limit
// characters with the line that says how many were left out.
func digestLines(items []notify.Event, limit int) string {
	var b strings.Builder
	shown := 0
	for _, ev := range items[:min(len(items), maxDigestLines)] {
		line := esc(digestLine(ev))
		// Room for this line and for the count of those after it.
		if utf8.RuneCountInString(b.String())+1+utf8.RuneCountInString(line)+30 > limit {
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
		line += " · " + text.Truncate(s, maxDigestSummary, "…")
	}
	if !ev.OccurredAt.IsZero() {
		line += " · " + ev.OccurredAt.Format("2006-01-02 15:04:05 MST")
	}
	return line
}

// buildPayload renders events as one message of one embed within
// Discord's limits: the first budget whose embed fits. The templates, if
// any, word the title and the description; what they write is escaped
// like database text.
func buildPayload(events []notify.Event, tpl *notify.Templates) payload {
	title, body := notify.DefaultWords(events)
	r := tpl.Render(events, title, body)
	title, body = r.Title, r.Body
	var e embed
	for _, b := range budgets() {
		e = buildEmbed(events, title, body, b)
		if e.chars() <= maxEmbedsTotal {
			break
		}
	}
	return payload{
		Embeds:          []embed{e},
		AllowedMentions: allowedMentions{Parse: []string{}},
		title:           title,
	}
}

func buildEmbed(events []notify.Event, title, body string, b budget) embed {
	e := embed{
		Title:       text.Truncate(inert(notify.KindEmoji(notify.BatchKindOf(events))+" "+text.CleanLine(title)), maxTitle, truncMarker),
		Description: truncate(escLines(body), b.description),
		Color:       colorOf(events),
	}
	if !notify.Single(events) {
		room := b.description - utf8.RuneCountInString(e.Description) - 2
		if e.Description != "" {
			e.Description += "\n\n"
		}
		e.Description += digestLines(notify.Listed(events), room)
		return e
	}
	ev := events[0]
	e.Fields = eventFields(ev, b)
	foot := "seqwatch"
	if ev.ID != "" {
		foot += " · event " + ev.ID
	}
	if more := len(ev.Errors) - 1; more > 0 {
		foot += fmt.Sprintf(" · %d more %s", more, notify.Plural(more, "error", "errors"))
	}
	e.Footer = &footer{Text: text.Truncate(text.CleanLine(foot), maxFooter, truncMarker)}
	if !ev.OccurredAt.IsZero() {
		e.Timestamp = ev.OccurredAt.UTC().Format(time.RFC3339)
	}
	return e
}

// eventFields are the facts of one event, then its headline error (or the
// error that made the database unreachable, or a deferred operation's last
// error) and its first trace frames.
func eventFields(ev notify.Event, b budget) []field {
	var fields []field
	add := func(name, value string, inline bool) {
		if value == "" || len(fields) == maxFields {
			return
		}
		// Every value is built within maxFieldValue (a cut here could
		// split a code span and leave database text unescaped).
		fields = append(fields, field{Name: name, Value: value, Inline: inline})
	}
	if op := ev.Operation; op != nil {
		add("Operation", code(op.Name, 500), false)
		add("Type", esc(text.CleanLine(op.Type)), true)
		add("Started", stamp(op.ExecutedAt), true)
		if op.FailedAt != nil {
			add("Failed", stamp(*op.FailedAt), true)
		}
		if op.CompletedAt != nil {
			add("Completed", stamp(*op.CompletedAt), true)
		}
		if op.RunningFor > 0 {
			add("Running for", op.RunningFor.Round(time.Second).String(), true)
		}
	}
	if p := ev.Pending; p != nil {
		add("Pending", esc(fmt.Sprintf("%d (threshold %d)", p.Count, p.Threshold)), true)
	}
	if d := ev.Deferred; d != nil {
		add("Deferred operation", code(d.Operation, 500), false)
		add("Attempts", fmt.Sprintf("%d of %d", d.Attempts, d.MaxAttempts), true)
	}
	if op := ev.Operation; op == nil || !sameTime(ev.OccurredAt, op.FailedAt) && !sameTime(ev.OccurredAt, op.CompletedAt) {
		add("Occurred", stamp(ev.OccurredAt), true)
	}
	if e, ok := ev.HeadlineError(); ok {
		exc := code(e.Exception, 400)
		if at := notify.ThrownAt(e.Context); at != "" {
			exc += " at " + code(at, 500)
		}
		add("Exception", exc, false)
		if b.message > 0 {
			add("Message", block(e.Message, b.message), false)
		}
		if b.frames > 0 {
			add("Trace", traceValue(e, b), false)
		}
	}
	if d := ev.Deferred; d != nil && b.message > 0 {
		add("Last error", block(d.LastError, b.message), false)
	}
	if s := strings.TrimSpace(ev.Source); s != "" {
		add("Error", block(s, max(b.message, 300)), false)
	}
	if p := ev.Pending; p != nil && len(p.Names) > 0 {
		add("Pending operations", pendingValue(p.Names), false)
	}
	return fields
}

// traceValue is the first frames of the error's trace in a code block, and
// how many frames of the whole recorded trace it leaves out.
func traceValue(e notify.Error, b budget) string {
	frames, more := e.Frames(b.frames)
	if len(frames) == 0 {
		return ""
	}
	suffix := ""
	if more > 0 {
		suffix = fmt.Sprintf("\n… and %d more frames", more)
	}
	for i, f := range frames {
		frames[i] = text.Truncate(text.Clean(f), b.frameRunes, "…")
	}
	return fence(strings.Join(frames, "\n"), maxFieldValue-utf8.RuneCountInString(suffix)) + suffix
}

// pendingValue lists pending operations as inline code, one a line; each
// name is whole code (a cut inside one would leave its text unescaped).
func pendingValue(names []string) string {
	shown := min(len(names), maxPendingNames)
	lines := make([]string, 0, shown+1)
	for _, n := range names[:shown] {
		lines = append(lines, code(n, 90))
	}
	if more := len(names) - shown; more > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more", more))
	}
	return strings.Join(lines, "\n")
}

// threadName is a forum post's name: the message's title, plain (Discord
// renders no markdown and no mention in a channel's name).
func threadName(p payload) string {
	return text.Truncate(text.CleanLine(p.title), maxThreadName, "…")
}

func sameTime(t time.Time, p *time.Time) bool { return p != nil && p.Equal(t) }

// stamp is Discord's timestamp markup, which each reader sees in their own
// time zone.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("<t:%d:f>", t.Unix())
}

// colorOf is the embed's colour: red for a failure, amber for a warning,
// green for a recovery, Discord's blurple otherwise (digests, tests).
func colorOf(events []notify.Event) int {
	if len(events) != 1 {
		return 0x5865F2
	}
	switch events[0].Kind {
	case notify.OperationFailed, notify.DeferredFailed, notify.SourceUnreachable:
		return 0xD62828
	case notify.OperationStuck, notify.PendingThreshold:
		return 0xF4A100
	case notify.OperationRecovered, notify.OperationUnstuck, notify.PendingCleared, notify.SourceRecovered:
		return 0x2A9D48
	default:
		return 0x5865F2
	}
}

// appEnv is "app (environment)", plain.
func appEnv(ev notify.Event) string {
	return text.Truncate(notify.AppEnv(ev), 200, "…")
}

// markdown are the characters Discord's markdown gives a meaning to:
// emphasis, strike-through, spoilers, code, quotes, headings, lists,
// masked links ([…] before (…)), mentions, channels, timestamps and
// custom emoji (<…>), @everyone and @here, and the colon of a URL's scheme
// (so that no URL becomes a link) and of an :emoji: code.
const markdown = "\\*_~`|<>[]@:#-+"

// esc makes plain text inert for Discord: cleaned, and each markdown
// character escaped with a backslash, which Discord shows as the character
// itself. A period after a digit is escaped too ("1. " starts a list).
func esc(s string) string {
	s = text.Clean(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	var prev rune
	for _, r := range s {
		if strings.ContainsRune(markdown, r) || r == '.' && prev >= '0' && prev <= '9' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// lookAlikes replace the markdown characters of a title: whether or not a
// Discord client renders markdown in an embed's title, a look-alike shows
// the same, where a backslash escape would show as a backslash in a client
// that does not.
var lookAlikes = strings.NewReplacer(
	"*", "∗", "_", "ˍ", "~", "∼", "`", "ˋ", "|", "ǀ", "<", "‹", ">", "›",
	"[", "［", "]", "］", "@", "＠", "#", "＃", "\\", "⧵",
)

// inert makes one line of plain text inert for a title.
func inert(s string) string { return lookAlikes.Replace(s) }

// escLines escapes multi-line plain text, keeping its lines (Discord shows
// a line break as one).
func escLines(s string) string {
	return esc(strings.TrimSpace(s))
}

// code shows raw text as `inline code` on one line: Discord renders no
// markdown, link or mention inside it. A backtick, which would end it,
// becomes U+02CB (a visible grave accent).
func code(raw string, limit int) string {
	s := strings.ReplaceAll(text.CleanLine(raw), "`", "ˋ")
	if s == "" {
		return ""
	}
	return "`" + text.Truncate(s, limit-2, "…") + "`"
}

// block shows raw text in a code block of at most limit characters.
func block(raw string, limit int) string { return fence(text.Clean(raw), limit) }

// fence puts cleaned text in a ``` block of at most limit characters. The
// opening fence ends its own line, so that the first word is never taken
// for the block's language; backticks inside become U+02CB.
func fence(s string, limit int) string {
	s = strings.Trim(strings.ReplaceAll(s, "`", "ˋ"), "\n")
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return "```\n" + text.Truncate(s, limit-8, truncMarker) + "\n```"
}

// truncate cuts escaped text to limit characters, marker included, never
// between a backslash and the character it escapes.
func truncate(s string, limit int) string {
	return text.TruncateFunc(s, limit, truncMarker, dropLoneBackslash)
}

func dropLoneBackslash(cut string) string {
	n := len(cut) - len(strings.TrimRight(cut, "\\"))
	if n%2 == 1 {
		return cut[:len(cut)-1]
	}
	return cut
}
