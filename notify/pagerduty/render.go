package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// The Events API's documented limits.
const (
	maxDedupKey   = 255
	maxSummary    = 1024
	maxEventBytes = 512 << 10
)

// How much of an event the custom details carry: enough to act on from a
// phone, and far below maxEventBytes even with every character escaped.
const (
	maxFrames       = 20
	maxFrameRunes   = 500
	maxMessageRunes = 4096
	maxBodyRunes    = 8192
	maxFieldRunes   = 1024
	maxNames        = 20
)

const truncMarker = "… (truncated)"

// Text is what an event says before it is packed into an Events API
// event: a summary (the incident's title, one line) and a body (plain
// text, shown in the alert's details as "description"). content makes the
// default; a message template may later replace it. Packing cleans and
// cuts both to PagerDuty's limits, whoever wrote them.
type Text struct {
	Summary string
	Body    string
}

// content is the default Text of an event.
func content(ev notify.Event) Text {
	where := notify.AppEnv(ev)
	summary := strings.TrimSpace(ev.Summary)
	if summary == "" {
		summary = notify.DefaultTitle(ev.Kind)
		if name := notify.OpName(ev); name != "" {
			summary += ": " + name
		}
	}
	if where != "" {
		summary = where + ": " + summary
	}

	var b strings.Builder
	line := func(label, value string) {
		if value = strings.TrimSpace(value); value != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, value)
		}
	}
	b.WriteString(notify.DefaultTitle(ev.Kind) + "\n")
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
	if e, ok := ev.HeadlineError(); ok {
		line("Exception", e.Exception+notify.ThrownAtNote(e.Context))
		line("Message", e.Message)
		if n := len(ev.Errors); n > 1 {
			line("Errors", fmt.Sprintf("%d recorded, the newest shown", n))
		}
	}
	if p := ev.Pending; p != nil {
		line("Pending", fmt.Sprintf("%d (threshold %d)", p.Count, p.Threshold))
	}
	if d := ev.Deferred; d != nil {
		line("Deferred operation", d.Operation)
		line("Attempts", fmt.Sprintf("%d of %d", d.Attempts, d.MaxAttempts))
		line("Last error", d.LastError)
	}
	line("Error", ev.Source)
	if op := ev.Operation; op == nil || !sameTime(ev.OccurredAt, op.FailedAt) && !sameTime(ev.OccurredAt, op.CompletedAt) {
		line("Occurred", notify.UTCStamp(ev.OccurredAt))
	}
	return Text{Summary: summary, Body: b.String()}
}

// enqueued is one Events API v2 request body.
type enqueued struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Client      string   `json:"client,omitempty"`
	Payload     *payload `json:"payload,omitempty"`
}

// payload is an alert event's PD-CEF part.
type payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// trigger packs a problem's event and its Text into a trigger.
func trigger(routingKey, dedupKey string, ev notify.Event, t Text) enqueued {
	p := &payload{
		Summary:   text.Truncate(text.CleanLine(t.Summary), maxSummary, truncMarker),
		Source:    field(ev.App),
		Severity:  severity(ev.Kind),
		Component: component(ev),
		Group:     field(ev.Environment),
		Class:     field(string(ev.Kind)),
	}
	if p.Summary == "" {
		p.Summary = notify.DefaultTitle(ev.Kind)
	}
	if p.Source == "" {
		p.Source = "seqwatch"
	}
	if !ev.OccurredAt.IsZero() {
		p.Timestamp = ev.OccurredAt.UTC().Format(time.RFC3339)
	}
	p.CustomDetails = details(ev, t.Body)
	return enqueued{RoutingKey: routingKey, EventAction: "trigger", DedupKey: dedupKey, Client: "seqwatch", Payload: p}
}

// resolve is the event that resolves the incident under dedupKey.
func resolve(routingKey, dedupKey string) enqueued {
	return enqueued{RoutingKey: routingKey, EventAction: "resolve", DedupKey: dedupKey}
}

// details are the alert's custom details: the facts a responder needs,
// each cleaned and bounded.
func details(ev notify.Event, body string) map[string]any {
	d := map[string]any{"kind": string(ev.Kind)}
	put := func(k, v string, limit int) {
		if v = strings.TrimSpace(text.Clean(v)); v != "" {
			d[k] = text.Truncate(v, limit, truncMarker)
		}
	}
	put("description", body, maxBodyRunes)
	put("application", ev.App, maxFieldRunes)
	put("environment", ev.Environment, maxFieldRunes)
	put("event_id", ev.ID, maxFieldRunes)
	if op := ev.Operation; op != nil {
		put("operation", op.Name, maxFieldRunes)
		put("operation_type", op.Type, maxFieldRunes)
		put("operation_id", op.ID, maxFieldRunes)
		put("started_at", notify.UTCStamp(op.ExecutedAt), maxFieldRunes)
	}
	if e, ok := ev.HeadlineError(); ok {
		put("exception", e.Exception, maxFieldRunes)
		put("message", e.Message, maxMessageRunes)
		put("thrown_at", strings.TrimPrefix(notify.ThrownAtNote(e.Context), " at "), maxFieldRunes)
		frames, more := e.Frames(maxFrames)
		for i, f := range frames {
			frames[i] = text.Truncate(text.Clean(f), maxFrameRunes, truncMarker)
		}
		if len(frames) > 0 {
			if more > 0 {
				frames = append(frames, fmt.Sprintf("… and %d more frames", more))
			}
			d["trace"] = strings.Join(frames, "\n")
		}
		if len(ev.Errors) > 1 {
			d["errors"] = len(ev.Errors)
		}
	}
	if p := ev.Pending; p != nil {
		d["pending"] = p.Count
		d["threshold"] = p.Threshold
		if len(p.Names) > 0 {
			names := make([]string, 0, min(len(p.Names), maxNames+1))
			for _, n := range p.Names[:min(len(p.Names), maxNames)] {
				names = append(names, field(n))
			}
			if more := len(p.Names) - maxNames; more > 0 {
				names = append(names, fmt.Sprintf("… and %d more", more))
			}
			d["pending_operations"] = names
		}
	}
	if df := ev.Deferred; df != nil {
		put("deferred_operation", df.Operation, maxFieldRunes)
		put("deferred_id", df.ID, maxFieldRunes)
		d["attempts"] = fmt.Sprintf("%d of %d", df.Attempts, df.MaxAttempts)
		put("last_error", df.LastError, maxMessageRunes)
	}
	put("source_error", ev.Source, maxMessageRunes)
	return d
}

// encode marshals an event within maxEventBytes. The bounds above keep
// every event far below it; should one still be over, the longest details
// give way, each replaced by a note, so that the problem still pages.
func encode(e enqueued, limit int) ([]byte, error) {
	body, err := marshal(e)
	if err != nil || len(body) <= limit || e.Payload == nil {
		return body, err
	}
	for _, k := range []string{"trace", "description", "message", "last_error", "source_error", "pending_operations"} {
		if _, ok := e.Payload.CustomDetails[k]; !ok {
			continue
		}
		e.Payload.CustomDetails[k] = "(left out: the event would exceed PagerDuty's 512 KB)"
		if body, err = marshal(e); err != nil || len(body) <= limit {
			return body, err
		}
	}
	return body, fmt.Errorf("the event for %s is %d bytes, over PagerDuty's limit of %d", e.DedupKey, len(body), limit)
}

// marshal is JSON without Go's HTML escapes (\u003c for <): PagerDuty
// shows text as written, and the escapes only make it longer.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// dedupKey is the incident's key: the application and the problem's key,
// at most 255 characters (a longer one keeps its start and a stable hash
// of the whole). A test alert gets a key of its own, so that each test
// opens and resolves its own incident.
func dedupKey(ev notify.Event) string {
	key := ev.Key
	if notify.Informational(ev.Kind) || key == "" {
		key = string(ev.Kind) + "/" + ev.ID
	}
	if app := text.CleanLine(ev.App); app != "" {
		key = app + "/" + key
	}
	return text.CutHashed(key, maxDedupKey)
}

// severity is critical, or warning for problems that may resolve by
// themselves (a run still in progress, a backlog), info for a test alert
// or a deploy's report (notify.Informational).
func severity(k notify.Kind) string {
	s := string(k)
	switch {
	case notify.Informational(k):
		return "info"
	case k == notify.OperationStuck, k == notify.PendingThreshold,
		strings.HasSuffix(s, ".stuck"), strings.HasSuffix(s, ".overdue"), strings.HasPrefix(s, "pending."):
		return "warning"
	}
	return "critical"
}

// component is the part of the application at fault: the operation.
func component(ev notify.Event) string {
	switch {
	case ev.Operation != nil:
		return field(ev.Operation.Name)
	case ev.Deferred != nil:
		return field(ev.Deferred.Operation)
	case ev.Pending != nil:
		return "pending operations"
	case ev.Kind == notify.SourceUnreachable:
		return "database"
	}
	return ""
}

func sameTime(t time.Time, p *time.Time) bool { return p != nil && p.Equal(t) }

// field is a short one-line value.
func field(s string) string { return text.Truncate(text.CleanLine(s), maxFieldRunes, truncMarker) }
