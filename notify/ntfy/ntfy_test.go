package ntfy

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const (
	topic     = "shop-alerts-7f3a"
	testToken = "tk_SECRETtokenVALUE0123456789abc"
	testUser  = "seqwatch"
	testPass  = "SECRETpasswordVALUE"
)

type answer int

const (
	answerOK answer = iota
	answer429
	answer500
	answer403
)

// published is one notification the fake accepted, decoded as a
// subscriber would see it.
type published struct {
	title, body, click string
	priority           int
	tags               []string
	raw                http.Header
}

// fakeNtfy stands in for an ntfy server: it applies what ntfy does with a
// publish request (the 4,096-byte message limit past which the body
// becomes an attachment, UTF-8 bodies, RFC 2047 headers, priorities 1–5,
// auth) and reports every violation as a test error.
type fakeNtfy struct {
	notifytest.Receiver[answer, published]

	auth string // the Authorization header a request must carry ("" : none)
}

func newFakeNtfy(t *testing.T, auth string) *fakeNtfy {
	f := &fakeNtfy{auth: auth}
	f.Start(t, f.serve)
	return f
}

func (f *fakeNtfy) url() string { return f.Server.URL + "/" + topic }

func ntfyError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "http": status, "error": msg})
}

var decoder = &mime.WordDecoder{}

// actionHeaders make ntfy do something besides showing the notification.
var actionHeaders = []string{"Actions", "Action", "Attach", "Filename", "Email", "Call", "Delay", "At", "In", "Icon", "Markdown", "Md", "Template", "Tpl", "Firebase", "Unifiedpush"}

func (f *fakeNtfy) serve(w http.ResponseWriter, r *http.Request) {
	t := f.T
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		t.Errorf("%s: publishing is a POST or PUT", r.Method)
		ntfyError(w, http.StatusMethodNotAllowed, 40501, "method not allowed")
		return
	}
	if r.URL.Path != "/"+topic {
		ntfyError(w, http.StatusNotFound, 40401, "page not found")
		return
	}
	if got := r.Header.Get("Authorization"); got != f.auth {
		if got == "" {
			ntfyError(w, http.StatusUnauthorized, 40101, "unauthorized")
		} else {
			ntfyError(w, http.StatusForbidden, 40301, "forbidden")
		}
		return
	}
	if f.Answer() == answer403 {
		ntfyError(w, http.StatusForbidden, 40301, "forbidden: token "+testToken)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		t.Errorf("reading the body: %v", err)
		return
	}
	if len(body) > maxBody || !utf8.Valid(body) {
		t.Errorf("a body of %d bytes (valid UTF-8: %v): ntfy would publish it as an attachment", len(body), utf8.Valid(body))
		ntfyError(w, http.StatusRequestEntityTooLarge, 41301, "message too large")
		return
	}
	for _, h := range actionHeaders {
		for _, name := range []string{h, "X-" + h} {
			if r.Header.Get(name) != "" {
				t.Errorf("header %s: seqwatch asks ntfy for nothing but a notification", name)
			}
		}
	}
	m := published{body: string(body), click: r.Header.Get("Click"), raw: r.Header.Clone()}
	m.title, err = decoder.DecodeHeader(r.Header.Get("Title"))
	if err != nil || r.Header.Get("Title") == "" {
		t.Errorf("Title %q: %v", r.Header.Get("Title"), err)
	}
	if m.priority, err = strconv.Atoi(r.Header.Get("Priority")); err != nil || m.priority < 1 || m.priority > 5 {
		t.Errorf("Priority %q: want 1 to 5", r.Header.Get("Priority"))
		ntfyError(w, http.StatusBadRequest, 40007, "invalid priority")
		return
	}
	for _, tag := range strings.Split(r.Header.Get("Tags"), ",") {
		if tag = strings.TrimSpace(tag); tag == "" {
			t.Errorf("Tags %q: an empty tag", r.Header.Get("Tags"))
		}
		m.tags = append(m.tags, tag)
	}
	if m.click != "" {
		if !regexp.MustCompile(`^https?://[^\s]+$`).MatchString(m.click) {
			t.Errorf("Click %q is not a URL", m.click)
		}
	}
	checkPlain(t, "title", m.title, false)
	checkPlain(t, "body", m.body, true)
	switch f.Answer() {
	case answer429:
		w.Header().Set("Retry-After", "5")
		ntfyError(w, http.StatusTooManyRequests, 42901, "limit reached: too many requests")
		return
	case answer500:
		http.Error(w, "<html>oops</html>", http.StatusInternalServerError)
		return
	}
	f.Keep(m)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": fmt.Sprintf("m%04d", f.Kept()), "time": 1705147200, "event": "message", "topic": topic, "title": m.title, "message": m.body})
}

// checkPlain fails on what must never reach a phone: control and format
// characters (a line break only in the body) and links.
func checkPlain(t *testing.T, at, s string, lines bool) {
	t.Helper()
	for _, r := range s {
		if unicode.IsControl(r) && !(lines && r == '\n') || unicode.Is(unicode.Cf, r) {
			t.Errorf("%s: control or format character %U", at, r)
			return
		}
	}
	if i := strings.Index(s, "://"); i >= 0 {
		t.Errorf("%s: a link near %q", at, s[max(0, i-20):min(len(s), i+20)])
	}
}

const hostile = "@all **bold** [click](https://evil.example/x) https://evil.example/y <b>html</b> =?utf-8?b?4oCu?= a & b\r\nsecond line\r\nX-Injected: yes\r\n\xff\xfe end \u202eevil\u200b"

var t0 = notifytest.T0

// hostileFailure is the shared hostile failure without the pending count
// and the deferred error.
func hostileFailure(key string) notify.Event {
	ev := notifytest.ChatHostileFailure(key, hostile, "A<b>&")
	ev.Pending, ev.Deferred = nil, nil
	return ev
}

func event(kind notify.Kind) notify.Event {
	at := t0.Add(time.Hour)
	return notify.Event{ID: "evt_" + string(kind), Kind: kind, Key: "k", App: "shop", Environment: "production", OccurredAt: at,
		Summary:   "2024_01_13_120000_Failed: " + string(kind),
		Operation: &notify.Operation{ID: "43", Name: "2024_01_13_120000_Failed", Type: "sync", ExecutedAt: at}}
}

func newNotifier(t *testing.T, f *fakeNtfy, cfg Config) *Notifier {
	t.Helper()
	cfg.URL = notify.Secret(f.url())
	n, err := New(cfg, f.Server.Client(), func() time.Time { return t0 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHostileEventArrivesPlainAndWithin4KB(t *testing.T) {
	f := newFakeNtfy(t, "")
	if _, err := newNotifier(t, f, Config{}).Notify(context.Background(), []notify.Event{hostileFailure("k")}); err != nil {
		t.Fatal(err)
	}
	m := f.Accepted()
	if len(m) != 1 {
		t.Fatalf("%d notifications, want 1", len(m))
	}
	if !strings.Contains(m[0].body, "more lines") || !strings.HasSuffix(m[0].body, "seqwatch · event evt_0123456789abcdef0123456789abcdef · 2 more errors") {
		t.Errorf("the body does not say what it left out, or lost its footer:\n…%s", m[0].body[max(0, len(m[0].body)-300):])
	}
	if m[0].raw.Get("X-Injected") != "" {
		t.Error("a line break in database text injected a header")
	}
	if !strings.Contains(m[0].title, "=?utf-8?b?4oCu?=") {
		t.Errorf("an encoded word written in the text was decoded: title %q", m[0].title)
	}
}

// Text of three-byte characters fills the body past 4,096 bytes: it is
// cut at a line, with the marker, and keeps its footer.
func TestLongTextIsCutAtALineWithin4KB(t *testing.T) {
	ev := hostileFailure("k")
	ev.Errors = ev.Errors[:1]
	ev.Errors[0].Message = strings.Repeat(strings.Repeat("漢字", 100)+"\n", 40)
	f := newFakeNtfy(t, "")
	if _, err := newNotifier(t, f, Config{}).Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	m := f.Accepted()
	if len(m) != 1 {
		t.Fatalf("%d notifications", len(m))
	}
	body := m[0].body
	if !strings.Contains(body, "\n"+truncMarker+"\n\nseqwatch · event ") {
		t.Errorf("the body was not cut at a line with the marker before its footer:\n%s", body)
	}
	if i := strings.Index(body, truncMarker); i > 0 && strings.HasSuffix(body[:i-1], "漢") && !strings.HasSuffix(body[:i-1], "字") {
		t.Error("the cut split a line")
	}
}

func TestPriorityAndTagsSayWhatHappened(t *testing.T) {
	cases := []struct {
		events []notify.Event
		want   int
		tag    string
	}{
		{[]notify.Event{event(notify.OperationFailed)}, 5, "rotating_light"},
		{[]notify.Event{event(notify.SourceUnreachable)}, 5, "electric_plug"},
		{[]notify.Event{event(notify.DeferredFailed)}, 5, "x"},
		{[]notify.Event{event(notify.OperationStuck)}, 4, "hourglass"},
		{[]notify.Event{event(notify.PendingThreshold)}, 4, "warning"},
		{[]notify.Event{event(notify.OperationRecovered)}, 3, "white_check_mark"},
		{[]notify.Event{event(notify.Test)}, 3, "test_tube"},
		{[]notify.Event{event(notify.OperationRecovered), event(notify.OperationFailed)}, 5, "bell"},
		{[]notify.Event{{ID: "dig_1", Kind: notify.Digest, App: "shop", Items: []notify.Event{event(notify.OperationStuck)}}}, 4, "bookmark_tabs"},
	}
	for _, c := range cases {
		f := newFakeNtfy(t, "")
		if _, err := newNotifier(t, f, Config{}).Notify(context.Background(), c.events); err != nil {
			t.Fatal(err)
		}
		m := f.Accepted()[0]
		if m.priority != c.want || len(m.tags) == 0 || m.tags[0] != c.tag {
			t.Errorf("%s: priority %d tags %v, want %d and %s first", c.events[0].Kind, m.priority, m.tags, c.want, c.tag)
		}
	}
}

func TestAuthAndClick(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		auth string
	}{
		{"a bearer token", Config{Token: testToken}, "Bearer " + testToken},
		{"basic auth", Config{Username: testUser, Password: testPass}, "Basic c2Vxd2F0Y2g6U0VDUkVUcGFzc3dvcmRWQUxVRQ=="},
		{"none", Config{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeNtfy(t, c.auth)
			c.cfg.Click = "https://seqwatch.example.com/"
			if _, err := newNotifier(t, f, c.cfg).Notify(context.Background(), []notify.Event{event(notify.OperationFailed)}); err != nil {
				t.Fatal(err)
			}
			if m := f.Accepted(); len(m) != 1 || m[0].click != "https://seqwatch.example.com/" {
				t.Errorf("published %+v", m)
			}
		})
	}
	t.Run("a wrong token is refused and not printed", func(t *testing.T) {
		f := newFakeNtfy(t, "Bearer tk_other")
		retry, err := newNotifier(t, f, Config{Token: testToken}).Notify(context.Background(), []notify.Event{event(notify.OperationFailed)})
		if err == nil || retry || strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), topic) {
			t.Errorf("retry=%v err=%v", retry, err)
		}
	})
}

func TestDigestIsOneNotificationWithin4KB(t *testing.T) {
	f := newFakeNtfy(t, "")
	events := make([]notify.Event, 60)
	for i := range events {
		events[i] = hostileFailure(fmt.Sprintf("k%d", i))
	}
	if _, err := newNotifier(t, f, Config{}).Notify(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	m := f.Accepted()
	if len(m) != 1 {
		t.Fatalf("%d notifications, want one digest", len(m))
	}
	var more int
	if mm := regexp.MustCompile(`… and (\d+) more$`).FindStringSubmatch(m[0].body); mm != nil {
		more, _ = strconv.Atoi(mm[1])
	}
	if shown := strings.Count(m[0].body, "- Operation failed"); more == 0 || shown+more != 60 {
		t.Errorf("the digest shows %d and says %d more, want 60 in all:\n%s", shown, more, m[0].body)
	}
}

func TestSendErrors(t *testing.T) {
	notifytest.CheckRefusals(t, []notifytest.RefusalCase[answer]{
		{Name: "429 waits for Retry-After", Answer: answer429, Want: notifytest.Refusal{Retry: true, After: 5 * time.Second}},
		{Name: "500 retries", Answer: answer500, Want: notifytest.Refusal{Retry: true}},
		{Name: "403 is permanent", Answer: answer403, Want: notifytest.Refusal{}},
	}, func(t *testing.T, a answer) (bool, error) {
		f := newFakeNtfy(t, "Bearer "+testToken)
		f.SetAnswer(a)
		return newNotifier(t, f, Config{Token: testToken}).Notify(context.Background(), []notify.Event{event(notify.OperationFailed)})
	}, testToken, topic)
	t.Run("a 200 that is not a published message is an error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<html>login</html>") }))
		defer srv.Close()
		n, err := New(Config{URL: notify.Secret(srv.URL + "/" + topic)}, srv.Client(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Notify(context.Background(), []notify.Event{event(notify.Test)}); err == nil || !strings.Contains(err.Error(), "without the message") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ntfy.sh", Config{URL: "https://ntfy.sh/" + topic}, ""},
		{"self-hosted with a token", Config{URL: "https://ntfy.example.com/" + topic, Token: testToken}, ""},
		{"basic auth", Config{URL: "https://ntfy.example.com/" + topic, Username: testUser, Password: testPass}, ""},
		{"loopback http", Config{URL: "http://127.0.0.1:8080/" + topic}, ""},
		{"no URL", Config{}, "url: required"},
		{"no topic", Config{URL: "https://ntfy.sh/"}, "names no topic"},
		{"a bad topic", Config{URL: "https://ntfy.sh/shop%20alerts"}, "letters, digits"},
		{"a query", Config{URL: "https://ntfy.sh/" + topic + "?title=x"}, "query"},
		{"plain http elsewhere", Config{URL: "http://ntfy.internal/" + topic}, "allow_http"},
		{"token and basic auth", Config{URL: "https://ntfy.sh/" + topic, Token: testToken, Username: testUser, Password: testPass}, "not both"},
		{"a user without a password", Config{URL: "https://ntfy.sh/" + topic, Username: testUser}, "password: required"},
		{"a token with a line break", Config{URL: "https://ntfy.sh/" + topic, Token: testToken + "\n"}, "one line"},
		{"a click that is no URL", Config{URL: "https://ntfy.sh/" + topic, Click: "status page"}, "click:"},
		{"a negative timeout", Config{URL: "https://ntfy.sh/" + topic, Timeout: -1}, "timeout: must be positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			notifytest.CheckConfigError(t, c.cfg.Validate(), c.want, topic, testToken, testPass)
		})
	}
}

// cutTraceEvent is an operation.failed event as the state builds it from a
// 9,187-frame trace, with zero-width and bidi characters.
func cutTraceEvent() notify.Event {
	return notifytest.HostileCutTrace("", "SQLSTATE[08006] conn\u200bection refused\n(Connection: pgsql)")
}

// TestMessageGolden holds the default notifications as a subscriber gets
// them: the headers seqwatch sets, then the body.
func TestMessageGolden(t *testing.T) {
	notifytest.GoldenMessages(t, ".golden", []notifytest.Golden{
		{Name: "failed", Events: []notify.Event{cutTraceEvent()}, Want: "and 9177 more frames"},
		{Name: "recovered", Events: []notify.Event{event(notify.OperationRecovered)}},
		{Name: "digest", Events: []notify.Event{cutTraceEvent(), event(notify.OperationRecovered)}},
	}, func(t *testing.T) (notify.Notifier, func() [][]byte) {
		f := newFakeNtfy(t, "Bearer "+testToken)
		return newNotifier(t, f, Config{Token: testToken, Click: "https://seqwatch.example.com/"}), f.asSeen
	}, update)
}

// asSeen is each notification f accepted as a subscriber sees it: the
// headers seqwatch sets, the title decoded, then the body.
func (f *fakeNtfy) asSeen() [][]byte {
	var out [][]byte
	for _, m := range f.Accepted() {
		var b strings.Builder
		names := []string{"Title", "Priority", "Tags", "Click", "Content-Type"}
		slices.Sort(names)
		for _, h := range names {
			fmt.Fprintf(&b, "%s: %s\n", h, m.raw.Get(h))
		}
		fmt.Fprintf(&b, "(the title, decoded: %s)\n\n%s\n", m.title, m.body)
		out = append(out, []byte(b.String()))
	}
	return out
}
