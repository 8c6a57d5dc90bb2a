package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
)

// The default words of an event, as plain text: every channel says the
// same thing about the same event, and each one escapes and packs these
// words for its own service. Keeping them here means a new kind, or a
// reworded title, is written once.

// DefaultTitle names what happened, in plain text. A kind it does not know
// is named by the kind itself, made one clean line.
func DefaultTitle(k Kind) string {
	switch k {
	case OperationFailed:
		return "Operation failed"
	case OperationRecovered:
		return "Operation recovered"
	case OperationStuck:
		return "Operation stuck"
	case OperationUnstuck:
		return "Operation no longer stuck"
	case PendingThreshold:
		return "Pending operations over threshold"
	case PendingCleared:
		return "Pending operations back under threshold"
	case DeferredFailed:
		return "Deferred operation used up its attempts"
	case SourceUnreachable:
		return "Database unreachable"
	case SourceRecovered:
		return "Database reachable again"
	case ProblemClosed:
		return "Problem closed without a recovery"
	case Digest:
		return "Digest"
	case Reminder:
		return "Reminder: still open"
	case Test:
		return "Test alert from seqwatch"
	default:
		return text.CleanLine(string(k))
	}
}

// DefaultWords is the title and body of a message before a channel
// escapes and packs it, as plain text: for one event its title and where
// (the app, cut to 200 characters) and its summary, or the operation's
// name for none; for a digest or reminder its title and how many items it
// holds, and its summary; for several events how many there are and the
// app they share, if one. It is what a message template replaces.
func DefaultWords(events []Event) (title, body string) {
	if Single(events) {
		ev := events[0]
		title = DefaultTitle(ev.Kind)
		if where := text.Truncate(AppEnv(ev), 200, "…"); where != "" {
			title += " · " + where
		}
		body = ev.Summary
		if strings.TrimSpace(body) == "" {
			body = OpName(ev)
		}
		return title, body
	}
	if len(events) == 1 {
		ev := events[0]
		n := len(ev.Items)
		return fmt.Sprintf("%s: %d %s", DefaultTitle(ev.Kind), n, Plural(n, "item", "items")), ev.Summary
	}
	title = fmt.Sprintf("%d seqwatch alerts", len(events))
	if app := CommonApp(events); app != "" {
		title += " for " + app
	}
	return title, ""
}

// BatchKind is the kind a channel shows for what it sends at once: the
// event's own for one event, "alerts" for a batch.
const BatchKind Kind = "alerts"

// BatchKindOf is the kind shown for a batch: the event's own for one
// event, BatchKind for several.
func BatchKindOf(events []Event) Kind {
	if len(events) == 1 {
		return events[0].Kind
	}
	return BatchKind
}

// KindEmoji is the emoji in front of a kind's title, for the services that
// show Unicode emoji; BatchKind has its own.
func KindEmoji(k Kind) string {
	switch k {
	case OperationFailed:
		return "🚨"
	case OperationRecovered, OperationUnstuck, PendingCleared, SourceRecovered:
		return "✅"
	case OperationStuck:
		return "⏳"
	case PendingThreshold:
		return "⚠️"
	case DeferredFailed:
		return "❌"
	case SourceUnreachable:
		return "🔌"
	case Digest:
		return "📑"
	case Reminder:
		return "🔁"
	case Test:
		return "🧪"
	case BatchKind:
		return "🔔"
	default:
		return "ℹ️"
	}
}

// OpName is the name of the operation an event is about, raw; "" when it
// is about none.
func OpName(ev Event) string {
	switch {
	case ev.Operation != nil:
		return ev.Operation.Name
	case ev.Deferred != nil:
		return ev.Deferred.Operation
	}
	return ""
}

// AppEnv is "app (environment)" as one clean line, not truncated.
func AppEnv(ev Event) string {
	s := text.CleanLine(ev.App)
	if env := text.CleanLine(ev.Environment); env != "" {
		s += " (" + env + ")"
	}
	return s
}

// CommonApp is the application every event of a batch is about, compared
// and returned as clean lines; "" when they differ.
func CommonApp(events []Event) string {
	app := text.CleanLine(events[0].App)
	for _, ev := range events[1:] {
		if text.CleanLine(ev.App) != app {
			return ""
		}
	}
	return app
}

// ThrownAt reads "file:line" from an error's context column (JSON with
// "file" and "line"); "" when it holds no file or is not that JSON.
func ThrownAt(raw string) string {
	if raw == "" {
		return ""
	}
	var c struct {
		File string `json:"file"`
		Line any    `json:"line"`
	}
	if json.Unmarshal([]byte(raw), &c) != nil || c.File == "" {
		return ""
	}
	if c.Line != nil {
		return fmt.Sprintf("%s:%v", c.File, c.Line)
	}
	return c.File
}

// ThrownAtNote is " at file:line" from an error's context column (see
// ThrownAt), for a fact that follows the exception's name; "" for none.
func ThrownAtNote(raw string) string {
	if at := ThrownAt(raw); at != "" {
		return " at " + at
	}
	return ""
}

// TypeNote is " (type)" for an operation's type, cleaned to one line, for
// a fact that follows the operation's name; "" for none.
func TypeNote(t string) string {
	if t = text.CleanLine(t); t != "" {
		return " (" + t + ")"
	}
	return ""
}

// UTCStamp is t in UTC to the second, with the zone named
// ("2024-01-13 12:00:03 UTC"); "" for the zero time.
func UTCStamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 MST")
}

// Plural is one for n == 1, many otherwise.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Listed is what a batch lists: a digest's or reminder's items for one
// event, the events themselves for several.
func Listed(events []Event) []Event {
	if len(events) == 1 {
		return events[0].Items
	}
	return events
}

// Single reports whether a batch is one event with no items of its own.
func Single(events []Event) bool { return len(events) == 1 && len(events[0].Items) == 0 }
