package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// newClock is the tests' time: only the Notifier's sleep moves it. The
// receiver reads it too, to count the requests of the last minute.
func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 1, 13, 12, 0, 0, 0, time.UTC))
}

// incident is an alert as PagerDuty keeps it: opened by a trigger, grown by
// later triggers with the same dedup_key while open, ended by a resolve.
type incident struct {
	key      string
	summary  string
	severity string
	triggers int
	resolved bool
}

// sent is one event the receiver took.
type sent struct {
	action string
	key    string
	body   []byte
	event  map[string]any
}

// The Events API v2's documented limits, as the receiver enforces them
// (written out, not taken from the package under test).
const (
	pdRoutingKeyLen = 32
	pdMaxDedupKey   = 255
	pdMaxSummary    = 1024
	pdMaxEvent      = 512 << 10
)

// fakePagerDuty stands in for the Events API v2. It refuses what PagerDuty
// documents it refuses (400 for a malformed event, 429 past about 120
// events a minute per routing key), reports every breach of the documented
// rules as a test error, and models alerts by dedup_key the way PagerDuty
// does: a trigger opens an alert unless one is open under its key, a
// resolve ends the open one or is dropped.
type fakePagerDuty struct {
	t     *testing.T
	srv   *httptest.Server
	clock *testkit.Clock

	mu        sync.Mutex
	incidents []*incident
	got       []sent
	times     []time.Time
	// answers are statuses to give the next requests instead of 202
	// (0: answer normally), one per request, consumed in order.
	answers []int
}

func newFakePagerDuty(t *testing.T, c *testkit.Clock) *fakePagerDuty {
	f := &fakePagerDuty{t: t, clock: c}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePagerDuty) answerNext(statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, statuses...)
}

func (f *fakePagerDuty) sentEvents() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.got...)
}

func (f *fakePagerDuty) allIncidents() []incident {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]incident, len(f.incidents))
	for i, in := range f.incidents {
		out[i] = *in
	}
	return out
}

func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{msg}})
}

func (f *fakePagerDuty) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.t
	if r.Method != http.MethodPost || r.URL.Path != EnqueuePath {
		t.Errorf("%s %s: the Events API takes POST %s", r.Method, r.URL.Path, EnqueuePath)
		http.NotFound(w, r)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, pdMaxEvent+1))
	if err != nil {
		t.Errorf("reading the body: %v", err)
		return
	}
	if len(body) > pdMaxEvent {
		t.Errorf("event over PagerDuty's 512 KB")
		refuse(w, http.StatusBadRequest, "Event too large")
		return
	}
	if !utf8.Valid(body) {
		t.Errorf("body is not valid UTF-8")
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Errorf("body is not a JSON object: %v", err)
		refuse(w, http.StatusBadRequest, "Event object is invalid")
		return
	}
	if msg := f.check(ev); msg != "" {
		t.Errorf("PagerDuty refuses this event: %s", msg)
		refuse(w, http.StatusBadRequest, msg)
		return
	}

	if len(f.answers) > 0 {
		status := f.answers[0]
		f.answers = f.answers[1:]
		if status != 0 {
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "30")
			}
			refuse(w, status, "scripted answer")
			return
		}
	}
	now := f.clock.Now()
	n := 0
	for _, at := range f.times {
		if now.Sub(at) < time.Minute {
			n++
		}
	}
	if n >= 120 {
		t.Errorf("event %d within a minute on one routing key: over PagerDuty's 120", n+1)
		refuse(w, http.StatusTooManyRequests, "Request Limit Exceeded")
		return
	}
	f.times = append(f.times, now)

	action, key := ev["event_action"].(string), ev["dedup_key"].(string)
	f.got = append(f.got, sent{action: action, key: key, body: body, event: ev})
	var open *incident
	for _, in := range f.incidents {
		if in.key == key && !in.resolved {
			open = in
		}
	}
	switch action {
	case "trigger":
		if open == nil {
			p := ev["payload"].(map[string]any)
			open = &incident{key: key, summary: p["summary"].(string), severity: p["severity"].(string)}
			f.incidents = append(f.incidents, open)
		}
		open.triggers++
	case "resolve":
		if open != nil {
			open.resolved = true
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "message": "Event processed", "dedup_key": key})
}

// check applies the Events API v2's documented rules to one event, and
// seqwatch's own: text as written, but clean. It returns what PagerDuty
// would answer, "" when it takes the event.
func (f *fakePagerDuty) check(ev map[string]any) string {
	if k, _ := ev["routing_key"].(string); len(k) != pdRoutingKeyLen {
		return fmt.Sprintf("Length of 'routing_key' is incorrect (should be %d characters)", pdRoutingKeyLen)
	}
	action, _ := ev["event_action"].(string)
	if action != "trigger" && action != "acknowledge" && action != "resolve" {
		return "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"
	}
	key, _ := ev["dedup_key"].(string)
	if key == "" {
		return "'dedup_key' is missing: seqwatch always sets it"
	}
	if n := utf8.RuneCountInString(key); n > pdMaxDedupKey {
		return fmt.Sprintf("'dedup_key' is %d characters, over %d", n, pdMaxDedupKey)
	}
	if action != "trigger" {
		return ""
	}
	p, ok := ev["payload"].(map[string]any)
	if !ok {
		return "'payload' is missing"
	}
	summary, _ := p["summary"].(string)
	switch n := utf8.RuneCountInString(summary); {
	case n == 0:
		return "'payload.summary' is missing"
	case n > pdMaxSummary:
		return fmt.Sprintf("'payload.summary' is %d characters, over %d", n, pdMaxSummary)
	}
	if strings.ContainsFunc(summary, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return "'payload.summary' carries a control or format character, or a line break"
	}
	if s, _ := p["source"].(string); s == "" {
		return "'payload.source' is missing"
	}
	switch p["severity"] {
	case "critical", "error", "warning", "info":
	default:
		return fmt.Sprintf("'payload.severity' %v is invalid", p["severity"])
	}
	if ts, ok := p["timestamp"].(string); ok {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			return "'payload.timestamp' is not ISO 8601"
		}
	}
	if cd, ok := p["custom_details"]; ok {
		d, isObject := cd.(map[string]any)
		if !isObject {
			return "'payload.custom_details' is not an object"
		}
		for k, v := range d {
			if s, ok := v.(string); ok && strings.ContainsFunc(s, func(r rune) bool {
				return r == '\r' || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) && r != '\n' && r != '\t'
			}) {
				return fmt.Sprintf("custom detail %q carries a control or format character", k)
			}
		}
	}
	return ""
}

// summaries are the summaries of the triggers sent, in order.
func summaries(s []sent) []string {
	var out []string
	for _, e := range s {
		if p, ok := e.event["payload"].(map[string]any); ok {
			out = append(out, p["summary"].(string))
		}
	}
	return out
}

func indent(body []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, body, "", "  ") != nil {
		return string(body)
	}
	return b.String()
}
