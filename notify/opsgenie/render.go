package opsgenie

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// The Alert API's documented limits (create alert, close alert).
const (
	maxMessage     = 130
	maxAlias       = 512
	maxDescription = 15000
	maxNote        = 25000
	maxEntity      = 512
	maxSource      = 100
	maxTags        = 20
	maxTag         = 50
	maxDetails     = 8000 // characters of all keys and values together
)

// How much of an event the description carries.
const (
	maxFrames       = 20
	maxFrameRunes   = 300
	maxMessageRunes = 2000
	maxDetailRunes  = 500
)

const truncMarker = "… (truncated)"

// aliasRunes bounds the readable part of an alias: with its hash it stays
// far below maxAlias, and short in the close request's path.
const aliasRunes = 200

// Text is what an event says before it is packed into an Alert API
// request: a title (the alert's message, one line) and a body (plain
// text, the alert's description). content makes the default; a message
// template may later replace it. Packing cleans, escapes and cuts both to
// Opsgenie's limits, whoever wrote them.
type Text struct {
	Title string
	Body  string
}

// content is the default Text of an event.
func content(ev notify.Event) Text {
	where := notify.AppEnv(ev)
	title := strings.TrimSpace(ev.Summary)
	if title == "" {
		title = notify.DefaultTitle(ev.Kind)
		if name := notify.OpName(ev); name != "" {
			title += ": " + name
		}
	}
	if where != "" {
		title = where + ": " + title
	}

	var b strings.Builder
	line := func(label, value string) {
		if value = strings.TrimSpace(value); value != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, value)
		}
	}
	b.WriteString(notify.DefaultTitle(ev.Kind) + "\n")
	if s := strings.TrimSpace(ev.Summary); s != "" {
		b.WriteString(s + "\n")
	}
	b.WriteString("\n")
	line("Application", where)
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
			if i == maxFrames {
				fmt.Fprintf(&b, "… and %d more\n", len(p.Names)-maxFrames)
				break
			}
			b.WriteString("- " + text.CleanLine(name) + "\n")
		}
	}
	if d := ev.Deferred; d != nil {
		line("Deferred operation", d.Operation)
		line("Attempts", fmt.Sprintf("%d of %d", d.Attempts, d.MaxAttempts))
		line("Last error", text.Truncate(d.LastError, maxMessageRunes, truncMarker))
	}
	line("Error", ev.Source)
	if e, ok := ev.HeadlineError(); ok {
		b.WriteString("\n")
		line("Exception", e.Exception+notify.ThrownAtNote(e.Context))
		if n := len(ev.Errors); n > 1 {
			line("Errors", fmt.Sprintf("%d recorded, the newest shown", n))
		}
		if m := strings.TrimSpace(e.Message); m != "" {
			b.WriteString("Message:\n" + text.Truncate(m, maxMessageRunes, truncMarker) + "\n")
		}
		frames, more := e.Frames(maxFrames)
		if len(frames) > 0 {
			b.WriteString("\nTrace:\n")
			for _, f := range frames {
				b.WriteString(text.Truncate(f, maxFrameRunes, truncMarker) + "\n")
			}
			if more > 0 {
				fmt.Fprintf(&b, "… and %d more frames\n", more)
			}
		}
	}
	return Text{Title: title, Body: strings.TrimRight(b.String(), "\n")}
}

// createAlert is the create alert request's body.
type createAlert struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
}

// closeAlert is the close alert request's body.
type closeAlert struct {
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
}

// create packs a problem's event and its Text into a create request.
func create(alias string, ev notify.Event, t Text) createAlert {
	c := createAlert{
		Message:     escLine(t.Title, maxMessage),
		Alias:       alias,
		Description: escBlock(t.Body, maxDescription),
		Tags:        tags(ev),
		Details:     details(ev),
		Entity:      escLine(ev.App, maxEntity),
		Source:      "seqwatch",
		Priority:    priority(ev.Kind),
	}
	if c.Message == "" {
		c.Message = escLine(notify.DefaultTitle(ev.Kind), maxMessage)
	}
	return c
}

// closing is the close request for a recovery: a note that says what
// happened.
func closing(ev notify.Event, t Text) closeAlert {
	note := t.Body
	if strings.TrimSpace(note) == "" {
		note = t.Title
	}
	return closeAlert{Source: "seqwatch", Note: escBlock(note, maxNote)}
}

// details are the alert's extra properties, for Opsgenie's filters and
// routing rules: short facts, escaped like the rest, all of them together
// within maxDetails characters.
func details(ev notify.Event) map[string]string {
	d := map[string]string{}
	total := 0
	put := func(k, v string) {
		v = escLine(v, maxDetailRunes)
		n := utf8.RuneCountInString(k) + utf8.RuneCountInString(v)
		if v == "" || total+n > maxDetails {
			return
		}
		d[k] = v
		total += n
	}
	put("kind", string(ev.Kind))
	put("application", ev.App)
	put("environment", ev.Environment)
	put("event_id", ev.ID)
	if op := ev.Operation; op != nil {
		put("operation", op.Name)
		put("operation_type", op.Type)
	}
	if e, ok := ev.HeadlineError(); ok {
		put("exception", e.Exception)
		put("thrown_at", strings.TrimPrefix(notify.ThrownAtNote(e.Context), " at "))
	}
	if df := ev.Deferred; df != nil {
		put("deferred_operation", df.Operation)
	}
	return d
}

// tags mark every alert as seqwatch's, with the event kind and the
// environment: letters, digits and . _ - : only, each within 50
// characters.
func tags(ev notify.Event) []string {
	var out []string
	for _, t := range []string{"seqwatch", string(ev.Kind), ev.Environment} {
		if t = safeID(t, maxTag); t != "" && len(out) < maxTags {
			out = append(out, t)
		}
	}
	return out
}

// alias is the alert's alias, its identity in Opsgenie: the application's
// name and the problem's key, so that a create for an open alert only adds
// to it and the close finds it. It is made of letters, digits and . _ - :
// only (it goes into the close request's path, and some servers refuse an
// encoded slash), and ends in a hash of the name and key as given, so that
// two problems never share an alias, the same problem always gets the same
// one, and a test alert gets one of its own.
func alias(ev notify.Event) string {
	key := ev.Key
	if notify.Informational(ev.Kind) || key == "" {
		key = string(ev.Kind) + "/" + ev.ID
	}
	raw := key
	if app := text.CleanLine(ev.App); app != "" {
		raw = app + "/" + key
	}
	sum := sha256.Sum256([]byte(raw))
	return safeID(raw, aliasRunes) + "~" + hex.EncodeToString(sum[:8])
}

// safeID keeps letters, digits and . _ - : of s (others become _), at most
// n of them.
func safeID(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == ':':
			return r
		}
		return '_'
	}, text.CleanLine(s))
	return s[:min(len(s), n)]
}

// priority is P2 for a problem that needs someone, P3 for one that may
// resolve by itself (a run still in progress, a backlog), P5 for a test
// alert or a deploy's report (notify.Informational).
func priority(k notify.Kind) string {
	s := string(k)
	switch {
	case notify.Informational(k):
		return "P5"
	case k == notify.OperationStuck, k == notify.PendingThreshold,
		strings.HasSuffix(s, ".stuck"), strings.HasSuffix(s, ".overdue"), strings.HasPrefix(s, "pending."):
		return "P3"
	}
	return "P2"
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Opsgenie renders HTML in an alert's message and description, so text
// from the database is escaped there: it can neither format nor link.
// Limits count the escaped text, as Opsgenie receives it.

// escLine is s cleaned, on one line, escaped and cut to n characters,
// with an ellipsis where it was cut (a short field has no room for more).
func escLine(s string, n int) string {
	return text.TruncateFunc(escaper.Replace(text.CleanLine(s)), n, "…", dropPartialEntity)
}

// escBlock is s cleaned (lines kept), escaped and cut to n characters.
func escBlock(s string, n int) string {
	return cut(escaper.Replace(strings.TrimSpace(text.Clean(s))), n)
}

// cut shortens escaped text to n characters, marker included, never
// inside an entity.
func cut(s string, n int) string { return text.TruncateFunc(s, n, truncMarker, dropPartialEntity) }

// dropPartialEntity drops an entity cut in half at the end of escaped
// text: every & in it starts an entity, and the longest is "&amp;".
func dropPartialEntity(s string) string {
	if amp := strings.LastIndexByte(s, '&'); amp >= 0 && amp >= len(s)-4 && !strings.Contains(s[amp:], ";") {
		return s[:amp]
	}
	return s
}
