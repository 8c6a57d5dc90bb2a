package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// SchemaVersion is the "version" of the documents this package sends.
const SchemaVersion = 1

// DigestEvent is the "event" of a document that carries several events.
const DigestEvent = "digest"

// Payload is the JSON document POSTed to the receiver (see the package
// documentation for the schema). Receivers written in Go can decode into it.
type Payload struct {
	Version     int               `json:"version"`
	Event       string            `json:"event"`
	ID          string            `json:"id"`
	Key         string            `json:"key"`
	App         string            `json:"app"`
	Environment string            `json:"environment"`
	OccurredAt  *time.Time        `json:"occurred_at"`
	Summary     string            `json:"summary"`
	Operation   *PayloadOperation `json:"operation"`
	// Cause is, in operation.rolled_back, the failed run that made
	// Sequencer roll the operation back, when it was found.
	Cause    *PayloadOperation `json:"cause,omitempty"`
	Errors   []PayloadError    `json:"errors"`
	Pending  *PayloadPending   `json:"pending"`
	Deferred *PayloadDeferred  `json:"deferred"`
	Source   *string           `json:"source"`
	// Deploy is how a deploy ended (deploy.finished only).
	Deploy *notify.Deploy `json:"deploy,omitempty"`
	Events []Payload      `json:"events"`
	// Text is what the channel's body template wrote (plain text,
	// cleaned), left out without one: a receiver that forwards the
	// document to people (a chat's incoming webhook) can show it.
	Text string `json:"text,omitempty"`
}

// PayloadOperation is the "operation" object.
type PayloadOperation struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Type              string     `json:"type"`
	ExecutedAt        *time.Time `json:"executed_at"`
	FailedAt          *time.Time `json:"failed_at"`
	CompletedAt       *time.Time `json:"completed_at"`
	RunningForSeconds *float64   `json:"running_for_seconds"`
	// RolledBackAt is set in operation.rolled_back (left out otherwise,
	// so that the other documents stay as they were).
	RolledBackAt *time.Time `json:"rolled_back_at,omitempty"`
}

// PayloadError is one element of "errors".
type PayloadError struct {
	Exception string     `json:"exception"`
	Message   string     `json:"message"`
	Trace     string     `json:"trace"`
	Context   string     `json:"context"`
	CreatedAt *time.Time `json:"created_at"`
	// TraceFrames and TraceBytes describe the whole trace as recorded;
	// Trace may hold only its first frames.
	TraceFrames int `json:"trace_frames"`
	TraceBytes  int `json:"trace_bytes"`
}

// PayloadPending is the "pending" object.
type PayloadPending struct {
	Count     int      `json:"count"`
	Threshold int      `json:"threshold"`
	Names     []string `json:"names"`
}

// PayloadDeferred is the "deferred" object.
type PayloadDeferred struct {
	ID          string `json:"id"`
	Operation   string `json:"operation"`
	Attempts    int    `json:"attempts"`
	MaxAttempts int    `json:"max_attempts"`
	LastError   string `json:"last_error"`
}

// DigestID is the id of a document that carries several events: "dig_" and
// the hex SHA-256 of the sorted ids, each followed by a NUL byte. It does not
// depend on the order of ids, so a retried batch keeps its webhook-id.
func DigestID(ids []string) string {
	sorted := slices.Clone(ids)
	sort.Strings(sorted)
	h := sha256.New()
	for _, id := range sorted {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return "dig_" + hex.EncodeToString(h.Sum(nil))
}

// payload is the document for events, with the text the templates write
// for it, if any.
func (n *Notifier) payload(events []notify.Event) (Payload, error) {
	p, err := BuildPayload(events)
	if err != nil {
		return p, err
	}
	if r := n.templates.Render(events, "", ""); r.BodyTemplated {
		p.Text = r.Body
	}
	return p, nil
}

// BuildPayload returns the document for one Notify call: the event itself
// when there is one, a digest when there are several. Every event needs an
// ID, since it becomes the webhook-id receivers deduplicate on.
func BuildPayload(events []notify.Event) (Payload, error) {
	if len(events) == 0 {
		return Payload{}, errors.New("no events")
	}
	for i, e := range events {
		if e.ID == "" {
			return Payload{}, fmt.Errorf("event %d (%s) has no id", i, e.Kind)
		}
	}
	if len(events) == 1 {
		return fromEvent(events[0]), nil
	}
	ids := make([]string, len(events))
	members := make([]Payload, len(events))
	counts := map[notify.Kind]int{}
	p := Payload{
		Version:     SchemaVersion,
		Event:       DigestEvent,
		App:         events[0].App,
		Environment: events[0].Environment,
		Errors:      []PayloadError{},
	}
	for i, e := range events {
		ids[i] = e.ID
		members[i] = fromEvent(e)
		counts[e.Kind]++
		if e.App != p.App {
			p.App = ""
		}
		if e.Environment != p.Environment {
			p.Environment = ""
		}
		if !e.OccurredAt.IsZero() && (p.OccurredAt == nil || e.OccurredAt.After(*p.OccurredAt)) {
			t := e.OccurredAt
			p.OccurredAt = &t
		}
	}
	p.ID = DigestID(ids)
	p.Events = members
	p.Summary = digestSummary(len(events), counts)
	return p, nil
}

// digestSummary reads like "3 events: 2 operation.failed, 1 pending.threshold".
func digestSummary(n int, counts map[notify.Kind]int) string {
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", counts[notify.Kind(k)], k)
	}
	return fmt.Sprintf("%d events: %s", n, strings.Join(parts, ", "))
}

func fromEvent(e notify.Event) Payload {
	p := Payload{
		Version:     SchemaVersion,
		Event:       string(e.Kind),
		ID:          e.ID,
		Key:         e.Key,
		App:         e.App,
		Environment: e.Environment,
		OccurredAt:  timePtr(e.OccurredAt),
		Summary:     e.Summary,
		Errors:      make([]PayloadError, len(e.Errors)),
		Deploy:      e.Deploy,
		Events:      make([]Payload, len(e.Items)),
	}
	p.Operation = payloadOperation(e.Operation)
	p.Cause = payloadOperation(e.Cause)
	for i, er := range e.Errors {
		p.Errors[i] = PayloadError{
			Exception:   er.Exception,
			Message:     er.Message,
			Trace:       er.Trace,
			Context:     er.Context,
			CreatedAt:   timePtr(er.CreatedAt),
			TraceFrames: er.AllFrames(),
			TraceBytes:  er.TraceBytes,
		}
		if er.TraceBytes == 0 {
			// Not recorded with the event (an older seqwatch stored
			// it): the carried trace is all there is to measure.
			p.Errors[i].TraceBytes = len(er.Trace)
		}
	}
	if pc := e.Pending; pc != nil {
		p.Pending = &PayloadPending{Count: pc.Count, Threshold: pc.Threshold, Names: pc.Names}
		if p.Pending.Names == nil {
			p.Pending.Names = []string{}
		}
	}
	if d := e.Deferred; d != nil {
		p.Deferred = &PayloadDeferred{
			ID:          d.ID,
			Operation:   d.Operation,
			Attempts:    d.Attempts,
			MaxAttempts: d.MaxAttempts,
			LastError:   d.LastError,
		}
	}
	if e.Source != "" {
		s := e.Source
		p.Source = &s
	}
	for i, item := range e.Items {
		p.Events[i] = fromEvent(item)
	}
	return p
}

func payloadOperation(op *notify.Operation) *PayloadOperation {
	if op == nil {
		return nil
	}
	p := &PayloadOperation{
		ID:           op.ID,
		Name:         op.Name,
		Type:         op.Type,
		ExecutedAt:   timePtr(op.ExecutedAt),
		FailedAt:     optTime(op.FailedAt),
		CompletedAt:  optTime(op.CompletedAt),
		RolledBackAt: optTime(op.RolledBackAt),
	}
	if op.RunningFor > 0 {
		s := op.RunningFor.Seconds()
		p.RunningForSeconds = &s
	}
	return p
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func optTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return timePtr(*t)
}

// encode marshals the document without HTML escaping: receivers get "<"
// rather than "\u003c", and both are the same JSON string.
func encode(p Payload) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
