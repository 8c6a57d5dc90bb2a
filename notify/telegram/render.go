package telegram

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// maxText is the Bot API's limit on a message: 4096 characters after the
// HTML is parsed (tags dropped, entities decoded). Telegram counts UTF-16
// code units, so that is what seqwatch counts too.
const maxText = 4096

// How much of an event a message shows, so that the default message fits
// in maxText with room to spare.
const (
	maxTitleRunes   = 256
	maxFrames       = 15
	maxFrameRunes   = 160
	maxMessageRunes = 800
	maxFieldRunes   = 300
	maxDigestLines  = 20
	maxDigestRunes  = 160
	maxNames        = 10
)

const truncMarker = "… (truncated)"

// Text is what an event says before it is packed into a Telegram message:
// a title (one line, in bold) and a body (plain text, lines kept, shown
// preformatted). content makes the default; a message template may later
// replace it. Packing escapes both for Telegram's HTML and cuts them to
// its limit, whoever wrote them.
type Text struct {
	Title string
	Body  string
}

// content is the Text of the events one message carries: the event
// itself, or a digest of several (or of a Digest's or Reminder's items),
// as the templates word it, if any.
func content(events []notify.Event, tpl *notify.Templates) Text {
	t := defaultContent(events)
	r := tpl.Render(events, t.Title, t.Body)
	return Text{Title: r.Title, Body: r.Body}
}

// defaultContent is the channel's own Text of events.
func defaultContent(events []notify.Event) Text {
	if len(events) == 1 && len(events[0].Items) == 0 {
		return single(events[0])
	}
	return digest(events)
}

func single(ev notify.Event) Text {
	emoji, title := titleOf(ev.Kind)
	t := emoji + " " + title
	if where := notify.AppEnv(ev); where != "" {
		t += " · " + where
	}
	var b strings.Builder
	line := func(label, value string) {
		if value = text.CleanLine(value); value != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, text.Truncate(value, maxFieldRunes, "…"))
		}
	}
	if s := strings.TrimSpace(ev.Summary); s != "" {
		b.WriteString(text.Truncate(s, maxFieldRunes*2, "…") + "\n\n")
	}
	if op := ev.Operation; op != nil {
		line("Operation", op.Name+notify.TypeNote(op.Type))
		line("Started", notify.UTCStamp(op.ExecutedAt))
		if op.FailedAt != nil {
			line("Failed", notify.UTCStamp(*op.FailedAt))
		}
		if op.CompletedAt != nil {
			line("Completed", notify.UTCStamp(*op.CompletedAt))
		}
		if op.RunningFor > 0 {
			line("Running for", op.RunningFor.Round(time.Second).String())
		}
	}
	if p := ev.Pending; p != nil {
		line("Pending", fmt.Sprintf("%d (threshold %d)", p.Count, p.Threshold))
		for i, name := range p.Names {
			if i == maxNames {
				fmt.Fprintf(&b, "… and %d more\n", len(p.Names)-maxNames)
				break
			}
			b.WriteString("- " + text.Truncate(text.CleanLine(name), maxFieldRunes, "…") + "\n")
		}
	}
	if d := ev.Deferred; d != nil {
		line("Deferred operation", d.Operation)
		line("Attempts", fmt.Sprintf("%d of %d", d.Attempts, d.MaxAttempts))
		line("Last error", text.CleanLine(d.LastError))
	}
	line("Error", text.CleanLine(ev.Source))
	if e, ok := ev.HeadlineError(); ok {
		b.WriteString("\n")
		line("Exception", e.Exception+notify.ThrownAtNote(e.Context))
		if n := len(ev.Errors); n > 1 {
			line("Errors", fmt.Sprintf("%d recorded, the newest shown", n))
		}
		if m := strings.TrimSpace(text.Clean(e.Message)); m != "" {
			b.WriteString(text.Truncate(m, maxMessageRunes, truncMarker) + "\n")
		}
		frames, more := e.Frames(maxFrames)
		if len(frames) > 0 {
			b.WriteString("\n")
			for _, f := range frames {
				b.WriteString(text.Truncate(f, maxFrameRunes, "…") + "\n")
			}
			if more > 0 {
				fmt.Fprintf(&b, "… and %d more frames\n", more)
			}
		}
	}
	return Text{Title: t, Body: b.String()}
}

func digest(events []notify.Event) Text {
	var title, intro string
	var items []notify.Event
	if len(events) == 1 {
		ev := events[0]
		emoji, t := titleOf(ev.Kind)
		title = fmt.Sprintf("%s %s: %d %s", emoji, t, len(ev.Items), notify.Plural(len(ev.Items), "item", "items"))
		items, intro = ev.Items, ev.Summary
	} else {
		title = fmt.Sprintf("🔔 %d seqwatch alerts", len(events))
		if app := commonApp(events); app != "" {
			title += " for " + app
		}
		items = events
	}
	var b strings.Builder
	if s := strings.TrimSpace(intro); s != "" {
		b.WriteString(text.Truncate(text.CleanLine(s), maxFieldRunes, "…") + "\n\n")
	}
	shown := min(len(items), maxDigestLines)
	for _, ev := range items[:shown] {
		b.WriteString(digestLine(ev) + "\n")
	}
	if more := len(items) - shown; more > 0 {
		fmt.Fprintf(&b, "… and %d more\n", more)
	}
	return Text{Title: title, Body: b.String()}
}

func digestLine(ev notify.Event) string {
	emoji, title := titleOf(ev.Kind)
	line := "• " + emoji + " " + title
	if where := notify.AppEnv(ev); where != "" {
		line += " · " + where
	}
	summary := ev.Summary
	if strings.TrimSpace(summary) == "" {
		summary = notify.OpName(ev)
	}
	if s := text.CleanLine(summary); s != "" {
		line += " · " + s
	}
	if d := notify.UTCStamp(ev.OccurredAt); d != "" {
		line += " · " + d
	}
	return text.Truncate(line, maxDigestRunes, "…")
}

// pack turns a Text into the HTML of one message within maxText: the title
// in bold, the body in a <pre> block, and footer (seqwatch's own words) in
// italics. Text is cleaned and escaped (&, <, > become entities, so that
// nothing in it is a tag); the body in <pre> is shown as written, where
// Telegram finds no mentions, links, hashtags or commands, and the title,
// which Telegram does scan, is defused. When the whole does not fit, the
// body is cut after its last whole line within the limit, with a marker.
func pack(t Text, footer string) string {
	title := defuse(text.Truncate(text.CleanLine(t.Title), maxTitleRunes, "…"))
	body := strings.Trim(text.Clean(t.Body), "\n")
	footer = text.CleanLine(footer)
	// What Telegram counts is the text the HTML stands for: the parts
	// and the line breaks between them.
	room := maxText - utf16Len(title)
	if footer != "" {
		room -= 1 + utf16Len(footer)
	}
	if body != "" {
		room-- // the line break before the body
		body = cutUTF16(body, room)
	}
	var b strings.Builder
	b.WriteString("<b>" + esc(title) + "</b>")
	if body != "" {
		b.WriteString("\n<pre>" + esc(body) + "</pre>")
	}
	if footer != "" {
		b.WriteString("\n<i>" + esc(footer) + "</i>")
	}
	return b.String()
}

// defuse writes the characters by which Telegram finds mentions, emails,
// hashtags, cashtags, bot commands and links in text (@ # $ /, and a dot
// inside a word, as in evil.example) as look-alikes that it does not read
// (＠ ＃ ＄ ∕ ․), so that a title cannot notify, link or send a command
// whatever it says. The default titles (the kind, the application and its
// environment) rarely hold any of them.
func defuse(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '@':
			r = '＠'
		case r == '#':
			r = '＃'
		case r == '$':
			r = '＄'
		case r == '/':
			r = '∕'
		case r == '.' && i > 0 && i+1 < len(rs) && isWordRune(rs[i-1]) && isWordRune(rs[i+1]):
			r = '․'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'
}

// cutUTF16 returns s when it has at most n UTF-16 code units; otherwise its
// first whole lines within n, marker included (or its first characters,
// when the first line alone is longer).
func cutUTF16(s string, n int) string {
	if utf16Len(s) <= n {
		return s
	}
	marker := "\n" + truncMarker
	room := n - utf16Len(marker)
	if room <= 0 {
		return ""
	}
	end, used := 0, 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1 // U+FFFD stands in for it, one unit
		}
		if used+w > room {
			break
		}
		used += w
		end = i + utf8.RuneLen(r)
	}
	cut := s[:end]
	if nl := strings.LastIndexByte(cut, '\n'); nl > 0 {
		cut = cut[:nl]
	}
	return cut + marker
}

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++
		}
	}
	return n
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes text for Telegram's HTML: &, < and > are the characters its
// parser reads as markup.
func esc(s string) string { return escaper.Replace(s) }

// titleOf names what happened, with an emoji shown before it. The emoji
// of a kind seqwatch does not name is ✅ for a closing one, unlike
// notify.KindEmoji, so Telegram keeps its own.
func titleOf(k notify.Kind) (emoji, title string) {
	title = notify.DefaultTitle(k)
	switch k {
	case notify.OperationFailed:
		return "🚨", title
	case notify.OperationRecovered, notify.OperationUnstuck, notify.PendingCleared, notify.SourceRecovered:
		return "✅", title
	case notify.OperationStuck:
		return "⏳", title
	case notify.PendingThreshold:
		return "⚠️", title
	case notify.DeferredFailed:
		return "❌", title
	case notify.SourceUnreachable:
		return "🔌", title
	case notify.Digest:
		return "📑", title
	case notify.Reminder:
		return "🔁", title
	case notify.Test:
		return "🧪", title
	}
	if notify.Closes(k) {
		return "✅", title
	}
	return "ℹ️", title
}

func commonApp(events []notify.Event) string {
	app := events[0].App
	for _, ev := range events[1:] {
		if ev.App != app {
			return ""
		}
	}
	return text.CleanLine(app)
}
