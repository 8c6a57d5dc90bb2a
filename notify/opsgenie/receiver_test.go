package opsgenie

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
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

// alert is an alert as Opsgenie keeps it: created under an alias, counted
// again by a create with the same alias while open, ended by a close.
type alert struct {
	alias    string
	message  string
	priority string
	count    int
	closed   bool
	note     string
}

// call is one request the receiver took.
type call struct {
	action string // create, close
	alias  string
	body   map[string]any
	raw    []byte
}

// fakeOpsgenie stands in for the Alert API. It refuses what Opsgenie
// documents it refuses (401 without the integration's GenieKey, 422 for a
// field over its limit), reports every breach of the documented rules, and
// of seqwatch's escaping of the HTML Opsgenie renders, as a test error, and
// models alerts by alias the way Opsgenie does: a create opens an alert
// unless one is open under its alias (then its count goes up), a close
// ends the open one and does nothing otherwise (Opsgenie answers 202 and
// records "Alert does not exist" for the request).
type fakeOpsgenie struct {
	t     *testing.T
	srv   *httptest.Server
	key   string
	clock *testkit.Clock
	// wrongKeyExpected: a test of the 401 itself, not a breach.
	wrongKeyExpected bool

	mu      sync.Mutex
	alerts  []*alert
	calls   []call
	times   []time.Time
	answers []int // statuses to give the next requests instead of 202 (0: normal)
}

func newFakeOpsgenie(t *testing.T, c *testkit.Clock) *fakeOpsgenie {
	f := &fakeOpsgenie{t: t, key: testKey, clock: c}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpsgenie) answerNext(statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, statuses...)
}

func (f *fakeOpsgenie) taken() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeOpsgenie) allAlerts() []alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]alert, len(f.alerts))
	for i, a := range f.alerts {
		out[i] = *a
	}
	return out
}

func answer(w http.ResponseWriter, status int, body map[string]any) {
	body["took"] = 0.01
	body["requestId"] = "43a29c5c-3dbf-4fa4-9c26-f4f71023e120"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

var closePath = regexp.MustCompile(`^/v2/alerts/([^/]+)/close$`)

func (f *fakeOpsgenie) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.t
	if r.Header.Get("Authorization") != "GenieKey "+f.key {
		if !f.wrongKeyExpected {
			t.Errorf("Authorization %q, want GenieKey and the integration's key", r.Header.Get("Authorization"))
		}
		answer(w, http.StatusUnauthorized, map[string]any{"message": "Could not authenticate"})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		t.Errorf("reading the body: %v", err)
		return
	}
	var body map[string]any
	if !utf8.Valid(raw) || json.Unmarshal(raw, &body) != nil {
		t.Errorf("body is not a UTF-8 JSON object: %q", raw)
		answer(w, http.StatusBadRequest, map[string]any{"message": "Request body is not processable"})
		return
	}
	var c call
	switch m := closePath.FindStringSubmatch(r.URL.EscapedPath()); {
	case r.Method == http.MethodPost && r.URL.Path == AlertsPath:
		c = call{action: "create", alias: str(body, "alias")}
		if msg := checkCreate(body); msg != "" {
			t.Errorf("Opsgenie refuses this alert: %s", msg)
			answer(w, http.StatusUnprocessableEntity, map[string]any{"message": msg})
			return
		}
	case r.Method == http.MethodPost && m != nil:
		id, err := url.PathUnescape(m[1])
		if err != nil || r.URL.Query().Get("identifierType") != "alias" {
			t.Errorf("close %s?%s: want an escaped alias and identifierType=alias", m[1], r.URL.RawQuery)
			answer(w, http.StatusBadRequest, map[string]any{"message": "Invalid identifier"})
			return
		}
		if strings.Contains(m[1], "%2F") {
			t.Errorf("close path carries an encoded slash, which servers may refuse: %s", m[1])
		}
		c = call{action: "close", alias: id}
		if msg := checkClose(body); msg != "" {
			t.Errorf("Opsgenie refuses this close: %s", msg)
			answer(w, http.StatusUnprocessableEntity, map[string]any{"message": msg})
			return
		}
	default:
		t.Errorf("%s %s: not an Alert API request", r.Method, r.URL.Path)
		answer(w, http.StatusNotFound, map[string]any{"message": "not found"})
		return
	}

	if len(f.answers) > 0 {
		status := f.answers[0]
		f.answers = f.answers[1:]
		if status != 0 {
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "12")
			}
			answer(w, status, map[string]any{"message": "scripted answer"})
			return
		}
	}
	now := f.clock.Now()
	inSecond, inMinute := 0, 0
	for _, at := range f.times {
		if now.Sub(at) < time.Second {
			inSecond++
		}
		if now.Sub(at) < time.Minute {
			inMinute++
		}
	}
	// seqwatch's stated pace: one request a second, bursts of pacerBurst.
	if inSecond >= pacerBurst || inMinute >= 60+pacerBurst {
		t.Errorf("request %d in a second, %d in a minute: faster than seqwatch promises", inSecond+1, inMinute+1)
		answer(w, http.StatusTooManyRequests, map[string]any{"message": "You are making too many requests!"})
		return
	}
	f.times = append(f.times, now)
	c.body, c.raw = body, raw
	f.calls = append(f.calls, c)

	var open *alert
	for _, a := range f.alerts {
		if a.alias == c.alias && !a.closed {
			open = a
		}
	}
	switch c.action {
	case "create":
		if open == nil {
			open = &alert{alias: c.alias, message: str(body, "message"), priority: str(body, "priority")}
			f.alerts = append(f.alerts, open)
		}
		open.count++
	case "close":
		if open != nil {
			open.closed, open.note = true, str(body, "note")
		}
	}
	answer(w, http.StatusAccepted, map[string]any{"result": "Request will be processed"})
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// limited checks one text field against its documented limit and the
// escaping of the HTML Opsgenie renders.
func limited(body map[string]any, field string, limit int, required bool) string {
	v, present := body[field]
	s, isString := v.(string)
	switch {
	case !present && required:
		return field + " is required"
	case !present:
		return ""
	case !isString:
		return field + " is not a string"
	case required && s == "":
		return field + " can not be empty"
	case utf8.RuneCountInString(s) > limit:
		return fmt.Sprintf("%s is %d characters, over %d", field, utf8.RuneCountInString(s), limit)
	}
	return escaped(field, s)
}

var entity = regexp.MustCompile(`&(amp|lt|gt);`)

// escaped fails on any raw < or >, on an & that starts no entity, and on
// CR or a control or format character.
func escaped(field, s string) string {
	if i := strings.IndexAny(s, "<>"); i >= 0 {
		return fmt.Sprintf("%s has a raw %q, which Opsgenie's HTML would render", field, s[i])
	}
	if strings.Contains(entity.ReplaceAllString(s, ""), "&") {
		return field + " has an & that starts no entity"
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return r == '\r' || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) && r != '\n' && r != '\t'
	}) {
		return field + " carries a control or format character"
	}
	return ""
}

func checkCreate(b map[string]any) string {
	for _, f := range []struct {
		name     string
		limit    int
		required bool
	}{
		{"message", 130, true}, {"alias", 512, false}, {"description", 15000, false},
		{"entity", 512, false}, {"source", 100, false}, {"user", 100, false}, {"note", 25000, false},
	} {
		if msg := limited(b, f.name, f.limit, f.required); msg != "" {
			return msg
		}
	}
	if strings.ContainsAny(str(b, "message"), "\n") {
		return "message is more than one line"
	}
	switch p := b["priority"]; p {
	case nil, "P1", "P2", "P3", "P4", "P5":
	default:
		return fmt.Sprintf("priority %v should be one of P1, P2, P3, P4, P5", p)
	}
	if tags, ok := b["tags"].([]any); ok {
		if len(tags) > 20 {
			return fmt.Sprintf("%d tags, over 20", len(tags))
		}
		for _, tg := range tags {
			if s, _ := tg.(string); utf8.RuneCountInString(s) > 50 || s == "" {
				return fmt.Sprintf("tag %q is empty or over 50 characters", s)
			}
		}
	}
	if d, ok := b["details"].(map[string]any); ok {
		total := 0
		for k, v := range d {
			s, isString := v.(string)
			if !isString {
				return "details must map keys to strings"
			}
			if msg := escaped("details."+k, s); msg != "" {
				return msg
			}
			total += utf8.RuneCountInString(k) + utf8.RuneCountInString(s)
		}
		if total > 8000 {
			return fmt.Sprintf("details are %d characters together, over 8000", total)
		}
	}
	return ""
}

func checkClose(b map[string]any) string {
	if msg := limited(b, "note", 25000, false); msg != "" {
		return msg
	}
	if msg := limited(b, "source", 100, false); msg != "" {
		return msg
	}
	return limited(b, "user", 100, false)
}

func indent(body []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, body, "", "  ") != nil {
		return string(body)
	}
	return b.String()
}
