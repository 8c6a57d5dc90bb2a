package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

const (
	testToken   = "xoxb-1111-2222-SECRETTOKENVALUE"
	webhookPath = "/services/T0000/B0000/SECRETwebhookPATH"
	channelID   = "C0SEQWATCH"
)

// answer is what the fake Slack answers.
type answer int

const (
	answerOK answer = iota
	answer429
	answer500
	answer404
	answer403
	answer410
	answerInvalidToken   // Web API: 200 {"ok":false,"error":"invalid_token"}
	answerUpdateNotFound // chat.update only: {"ok":false,"error":"message_not_found"}
)

// received is one request the fake accepted as well-formed.
type received struct {
	method   string // "webhook", "chat.postMessage", "chat.update"
	channel  string
	ts       string // chat.update: the message updated
	threadTS string
	text     string
	all      string // every text of the message, joined
	answerTS string // the ts the fake returned
	body     []byte // webhook: the request body
}

// fakeSlack stands in for Slack: it checks each request against Slack's
// documented rules for incoming webhooks and chat.postMessage/chat.update
// and reports every violation as a test error.
type fakeSlack struct {
	notifytest.Receiver[answer, received]

	nextTS int
	// retryAfter is the Retry-After of a 429 ("": 7 seconds).
	retryAfter string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.Start(t, f.serve)
	return f
}

func (f *fakeSlack) setRetryAfter(v string) {
	f.Do(func() { f.retryAfter = v })
}

func (f *fakeSlack) retryAfterValue() string {
	if f.retryAfter == "" {
		return "7"
	}
	return f.retryAfter
}

func (f *fakeSlack) webhookURL() string { return f.Server.URL + webhookPath }
func (f *fakeSlack) apiURL() string     { return f.Server.URL + "/api/" }

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.T.Errorf("%s %s: Slack only accepts POST", r.Method, r.URL.Path)
		http.Error(w, "method_not_allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.T.Errorf("reading body: %v", err)
		return
	}
	switch {
	case r.URL.Path == webhookPath:
		f.serveWebhook(w, r, body)
	case r.URL.Path == "/api/chat.postMessage" || r.URL.Path == "/api/chat.update":
		f.serveAPI(w, r, body)
	default:
		f.T.Errorf("request to unknown path %q", r.URL.Path)
		http.Error(w, "no_service", http.StatusNotFound)
	}
}

func (f *fakeSlack) serveWebhook(w http.ResponseWriter, r *http.Request, body []byte) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		f.T.Errorf("webhook Content-Type = %q, want application/json", r.Header.Get("Content-Type"))
	}
	if !utf8.Valid(body) {
		f.T.Errorf("webhook body is not valid UTF-8")
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		f.T.Errorf("webhook body is not JSON: %v", err)
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if _, ok := p["link_names"]; ok {
		f.T.Errorf("webhook payload sets link_names")
	}
	if p["parse"] == "full" {
		f.T.Errorf("webhook payload sets parse=full")
	}
	text, _ := p["text"].(string)
	blocks, _ := p["blocks"].([]any)
	all := f.checkMessage("webhook", text, blocks)

	switch f.Answer() {
	case answer429:
		w.Header().Set("Retry-After", f.retryAfterValue())
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
		return
	case answer500:
		http.Error(w, "<html>oops</html>", http.StatusInternalServerError)
		return
	case answer404:
		http.Error(w, "no_service", http.StatusNotFound)
		return
	case answer403, answerInvalidToken:
		http.Error(w, "invalid_token", http.StatusForbidden)
		return
	case answer410:
		http.Error(w, "channel_is_archived", http.StatusGone)
		return
	}
	f.Keep(received{method: "webhook", text: text, all: all, body: body})
	_, _ = io.WriteString(w, "ok")
}

func (f *fakeSlack) serveAPI(w http.ResponseWriter, r *http.Request, body []byte) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		f.T.Errorf("%s: Authorization = %q, want the bot token as Bearer", method, got)
		writeJSON(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		f.T.Errorf("%s: Content-Type = %q, want a form (slack-go posts forms)", method, r.Header.Get("Content-Type"))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		f.T.Errorf("%s: body is not a form: %v", method, err)
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	if form.Has("token") {
		f.T.Errorf("%s: token sent in the body as well as the header", method)
	}
	if form.Has("link_names") {
		f.T.Errorf("%s: link_names is set", method)
	}
	if form.Get("parse") == "full" {
		f.T.Errorf("%s: parse=full is set", method)
	}
	if form.Get("channel") == "" {
		f.T.Errorf("%s: no channel", method)
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	if method == "chat.update" && form.Get("ts") == "" {
		f.T.Errorf("chat.update: no ts")
		writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	var blocks []any
	if b := form.Get("blocks"); b != "" {
		if err := json.Unmarshal([]byte(b), &blocks); err != nil {
			f.T.Errorf("%s: blocks is not a JSON array: %v", method, err)
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_blocks_format"})
			return
		}
	}
	text := form.Get("text")
	all := f.checkMessage(method, text, blocks)

	switch f.Answer() {
	case answer429:
		w.Header().Set("Retry-After", f.retryAfterValue())
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case answer500:
		http.Error(w, "<html>oops</html>", http.StatusInternalServerError)
		return
	case answer404, answer403, answer410:
		http.Error(w, "not found", http.StatusNotFound)
		return
	case answerInvalidToken:
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_token"})
		return
	case answerUpdateNotFound:
		if method == "chat.update" {
			writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
			return
		}
	}
	rec := received{method: method, channel: form.Get("channel"), ts: form.Get("ts"), threadTS: form.Get("thread_ts"), text: text, all: all}
	if method == "chat.update" {
		rec.answerTS = rec.ts
	} else {
		f.nextTS++
		rec.answerTS = fmt.Sprintf("1700000000.%06d", f.nextTS)
	}
	f.Keep(rec)
	writeJSON(w, map[string]any{"ok": true, "channel": channelID, "ts": rec.answerTS})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

var knownBlockTypes = map[string]bool{
	"actions": true, "context": true, "divider": true, "file": true, "header": true, "image": true,
	"input": true, "markdown": true, "rich_text": true, "section": true, "video": true, "table": true,
}

// checkMessage applies Slack's documented message limits and our escaping
// rule, and returns all the message's text joined for content checks.
func (f *fakeSlack) checkMessage(where, text string, blocks []any) string {
	t := f.T
	if text == "" && len(blocks) == 0 {
		t.Errorf("%s: neither text nor blocks", where)
	}
	if text == "" {
		t.Errorf("%s: no top-level text fallback", where)
	}
	if n := utf8.RuneCountInString(text); n > maxMessageText {
		t.Errorf("%s: text is %d characters, limit 40000", where, n)
	}
	checkEscaped(t, where+": text", text)
	all := []string{text}
	if len(blocks) > 50 {
		t.Errorf("%s: %d blocks, limit 50", where, len(blocks))
	}
	for i, raw := range blocks {
		b, ok := raw.(map[string]any)
		if !ok {
			t.Errorf("%s: block %d is not an object", where, i)
			continue
		}
		typ, _ := b["type"].(string)
		at := fmt.Sprintf("%s: block %d (%s)", where, i, typ)
		if !knownBlockTypes[typ] {
			t.Errorf("%s: unknown block type", at)
		}
		switch typ {
		case "header":
			s := checkTextObject(t, at, b["text"], 150)
			if obj, _ := b["text"].(map[string]any); obj["type"] != "plain_text" {
				t.Errorf("%s: header text must be plain_text", at)
			}
			all = append(all, s)
		case "section":
			_, hasText := b["text"]
			fields, _ := b["fields"].([]any)
			if !hasText && len(fields) == 0 {
				t.Errorf("%s: section needs text or fields", at)
			}
			if hasText {
				all = append(all, checkTextObject(t, at, b["text"], 3000))
			}
			if len(fields) > 10 {
				t.Errorf("%s: %d fields, limit 10", at, len(fields))
			}
			for _, fl := range fields {
				all = append(all, checkTextObject(t, at+" field", fl, 2000))
			}
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > 10 {
				t.Errorf("%s: %d elements, want 1..10", at, len(els))
			}
			for _, el := range els {
				all = append(all, checkTextObject(t, at+" element", el, 3000))
			}
		}
	}
	return strings.Join(all, "\n")
}

func checkTextObject(t *testing.T, at string, raw any, limit int) string {
	obj, ok := raw.(map[string]any)
	if !ok {
		t.Errorf("%s: text object missing", at)
		return ""
	}
	typ, _ := obj["type"].(string)
	if typ != "plain_text" && typ != "mrkdwn" {
		t.Errorf("%s: text type %q", at, typ)
	}
	if _, ok := obj["emoji"]; ok && typ == "mrkdwn" {
		t.Errorf("%s: emoji is only allowed on plain_text", at)
	}
	s, _ := obj["text"].(string)
	if s == "" {
		t.Errorf("%s: empty text", at)
	}
	if n := utf8.RuneCountInString(s); n > limit {
		t.Errorf("%s: text is %d characters, limit %d", at, n, limit)
	}
	if typ == "plain_text" {
		// Slack shows plain_text as written and parses no mentions or
		// links in it: it must not be escaped, only clean.
		checkClean(t, at, s)
		return s
	}
	checkEscaped(t, at, s)
	return s
}

// checkClean fails on CR, invalid UTF-8 and format characters (zero-width,
// bidi overrides).
func checkClean(t *testing.T, at, s string) {
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8", at)
	}
	if strings.Contains(s, "\r") {
		t.Errorf("%s: contains CR", at)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) }); i >= 0 {
		t.Errorf("%s: format character %U near %q", at, []rune(s[i:])[0], snippet(s, i))
	}
}

// dateToken is the only markup with < > that we write ourselves.
var dateToken = regexp.MustCompile(`<!date\^\d+\^\{date_num\} \{time_secs\}\|[^<>|]*>`)
var entity = regexp.MustCompile(`&(amp|lt|gt);`)

// checkEscaped fails on any < or > that is not one of our date tokens, on
// a bare &, on CR and on invalid UTF-8.
func checkEscaped(t *testing.T, at, s string) {
	checkClean(t, at, s)
	rest := dateToken.ReplaceAllString(s, "")
	if i := strings.IndexAny(rest, "<>"); i >= 0 {
		t.Errorf("%s: unescaped < or > near %q", at, snippet(rest, i))
	}
	rest = entity.ReplaceAllString(rest, "")
	if i := strings.IndexByte(rest, '&'); i >= 0 {
		t.Errorf("%s: bare & near %q", at, snippet(rest, i))
	}
}

func snippet(s string, i int) string {
	return s[max(0, i-20):min(len(s), i+20)]
}

const hostile = "<!channel> <!here> @channel <https://evil.example|click> <b>html</b> a & b\r\nsecond line \xff\xfe end"

var t0 = notifytest.T0

func failureEvent(key string) notify.Event {
	var trace strings.Builder
	trace.WriteString("#0 /app/" + strings.Repeat("A<b>&", 200_000) + ".php(12): x()\n") // a 1 MB frame
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&trace, "#%d /app/Foo.php(%d): <!channel> Foo->bar()\n", i, i)
	}
	trace.WriteString("#40 {main}")
	failed := t0.Add(time.Minute)
	errs := make([]notify.Error, 5)
	for i := range errs {
		errs[i] = notify.Error{
			Exception: `Illuminate\Database\QueryException` + hostile,
			Message:   hostile + strings.Repeat("<!here>&", 100_000),
			Trace:     trace.String(),
			Context:   `{"file":"/app/<x>.php","line":12}`,
			CreatedAt: failed,
		}
	}
	return notify.Event{
		ID:          "01HZZZZZZZZZZZZZZZZZZZZZZZ",
		Kind:        notify.OperationFailed,
		Key:         key,
		App:         "shop<!here>",
		Environment: "production\r\n",
		OccurredAt:  failed,
		Summary:     hostile,
		Operation: &notify.Operation{
			ID: "42", Name: "2024_01_13_120000_Failed" + hostile, Type: "sync",
			ExecutedAt: t0, FailedAt: &failed,
		},
		Errors: errs,
	}
}

func recoveredEvent(key string) notify.Event {
	done := t0.Add(time.Hour)
	return notify.Event{
		ID: "01HYYYYYYYYYYYYYYYYYYYYYYY", Kind: notify.OperationRecovered, Key: key,
		App: "shop", OccurredAt: done, Summary: "2024_01_13_120000_Failed completed",
		Operation: &notify.Operation{ID: "43", Name: "2024_01_13_120000_Failed", Type: "sync", ExecutedAt: done, CompletedAt: &done},
	}
}

func webhookNotifier(t *testing.T, f *fakeSlack) *Notifier {
	t.Helper()
	n, err := New(Config{WebhookURL: notify.Secret(f.webhookURL())}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func botNotifier(t *testing.T, f *fakeSlack, opts ...Option) *Notifier {
	t.Helper()
	n, err := New(Config{Token: testToken, Channel: "#alerts", APIURL: f.apiURL(), Username: "seqwatch", IconEmoji: ":robot_face:"}, nil, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHostileEventArrivesEscapedAndWithinLimits(t *testing.T) {
	for _, mode := range []string{"webhook", "bot"} {
		t.Run(mode, func(t *testing.T) {
			f := newFakeSlack(t)
			n := webhookNotifier(t, f)
			if mode == "bot" {
				n = botNotifier(t, f)
			}
			retry, err := n.Notify(context.Background(), []notify.Event{failureEvent("operation.failed/x/42")})
			if err != nil {
				t.Fatalf("Notify: retry=%v err=%v", retry, err)
			}
			reqs := f.Accepted()
			want := 1
			if mode == "bot" {
				want = 2 // the alert and its thread reply with the traces
			}
			if len(reqs) != want {
				t.Fatalf("%d requests, want %d", len(reqs), want)
			}
			var all string
			for _, r := range reqs {
				all += r.all
			}
			for _, s := range []string{
				"&lt;!channel&gt;", "&lt;!here&gt;", "&lt;https://evil.example|click&gt;",
				"&lt;b&gt;html&lt;/b&gt;", "a &amp; b", "\uFFFD", "(truncated)", "more frames", "2 more errors",
			} {
				if !strings.Contains(all, s) {
					t.Errorf("message lacks %q", s)
				}
			}
			if !strings.Contains(reqs[0].text, "Operation failed") {
				t.Errorf("fallback text %q does not say what happened", reqs[0].text)
			}
		})
	}
}

func TestDigestOfManyEventsIsOneRequestWithinLimits(t *testing.T) {
	events := make([]notify.Event, 1000)
	for i := range events {
		failed := t0.Add(time.Duration(i) * time.Second)
		events[i] = notify.Event{
			ID: fmt.Sprintf("ev%d", i), Kind: notify.OperationFailed, Key: fmt.Sprintf("operation.failed/x/%d", i),
			App: "shop", OccurredAt: failed, Summary: hostile + strings.Repeat("<!channel>", 1000),
			Operation: &notify.Operation{Name: hostile, Type: "sync", ExecutedAt: failed, FailedAt: &failed},
			Errors:    []notify.Error{{Exception: hostile, Message: hostile, Trace: "#0 " + hostile}},
		}
	}
	for _, mode := range []string{"webhook", "bot"} {
		t.Run(mode, func(t *testing.T) {
			f := newFakeSlack(t)
			n := webhookNotifier(t, f)
			if mode == "bot" {
				n = botNotifier(t, f, WithThreadStore(&notifytest.Threads{}))
			}
			if _, err := n.Notify(context.Background(), events); err != nil {
				t.Fatal(err)
			}
			reqs := f.Accepted()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			for _, s := range []string{"1000 seqwatch alerts", "and 980 more", "&lt;!channel&gt;"} {
				if !strings.Contains(reqs[0].all, s) {
					t.Errorf("digest lacks %q", s)
				}
			}
		})
	}
}

func TestDigestEventListsItsItems(t *testing.T) {
	f := newFakeSlack(t)
	n := webhookNotifier(t, f)
	ev := notify.Event{Kind: notify.Digest, App: "shop", Summary: "3 operations failed before seqwatch started",
		Items: []notify.Event{failureEvent("a"), failureEvent("b"), failureEvent("c")}}
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Accepted()
	if len(reqs) != 1 || !strings.Contains(reqs[0].all, "Digest: 3 items") {
		t.Fatalf("requests %+v, want one digest of 3 items", reqs)
	}
}

func TestSendErrors(t *testing.T) {
	secrets := []string{testToken, webhookPath, "SECRETwebhookPATH"}
	tests := []struct {
		name      string
		mode      string
		answer    answer
		retry     bool
		after     time.Duration
		disabled  bool
		transport bool // Slack unreachable
	}{
		{name: "webhook 429 retries after Retry-After", mode: "webhook", answer: answer429, retry: true, after: 7 * time.Second},
		{name: "bot 429 retries after Retry-After", mode: "bot", answer: answer429, retry: true, after: 7 * time.Second},
		{name: "webhook 500 retries", mode: "webhook", answer: answer500, retry: true},
		{name: "bot 500 retries", mode: "bot", answer: answer500, retry: true},
		{name: "webhook 404 no_service does not retry", mode: "webhook", answer: answer404},
		{name: "bot 404 does not retry", mode: "bot", answer: answer404},
		{name: "webhook 403 invalid_token does not retry", mode: "webhook", answer: answer403},
		{name: "bot invalid_token does not retry", mode: "bot", answer: answerInvalidToken},
		{name: "webhook 410 archived channel disables", mode: "webhook", answer: answer410, disabled: true},
		{name: "webhook unreachable retries", mode: "webhook", transport: true, retry: true},
		{name: "bot unreachable retries", mode: "bot", transport: true, retry: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSlack(t)
			f.SetAnswer(tc.answer)
			cfg := Config{WebhookURL: notify.Secret(f.webhookURL())}
			if tc.mode == "bot" {
				cfg = Config{Token: testToken, Channel: "#alerts", APIURL: f.apiURL()}
			}
			if tc.transport {
				addr := notifytest.ClosedAddr(t)
				cfg.WebhookURL = notify.Secret(strings.Replace(string(cfg.WebhookURL), f.Server.URL, "http://"+addr, 1))
				if cfg.APIURL != "" {
					cfg.APIURL = "http://" + addr + "/api/"
				}
			}
			n, err := New(cfg, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(context.Background(), []notify.Event{failureEvent("k")})
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			if retry != tc.retry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tc.retry, err)
			}
			after, ok := notify.RetryAfter(err)
			if ok != (tc.after > 0) || after != tc.after {
				t.Errorf("RetryAfter = %v, %v; want %v (err: %v)", after, ok, tc.after, err)
			}
			if got := errors.Is(err, notify.ErrDisabled); got != tc.disabled {
				t.Errorf("errors.Is(err, ErrDisabled) = %v, want %v", got, tc.disabled)
			}
			for _, s := range secrets {
				for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
					if strings.Contains(text, s) {
						t.Errorf("error leaks a secret: %s", text)
					}
				}
			}
		})
	}
}

// Slack's Retry-After is honoured in seconds and as an HTTP date (which
// slack-go itself cannot read), and capped at notify.MaxRetryAfter with a
// log line: Retry-After: 99999999 must not park the channel until 2030.
func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	for _, mode := range []string{"webhook", "bot"} {
		for _, tc := range []struct {
			name, value string
			want        time.Duration
			capped      bool
		}{
			{"seconds", "30", 30 * time.Second, false},
			{"an HTTP date", now.Add(45 * time.Second).Format(http.TimeFormat), 45 * time.Second, false},
			{"years of seconds", "99999999", notify.MaxRetryAfter, true},
			{"a date years ahead", now.AddDate(4, 0, 0).Format(http.TimeFormat), notify.MaxRetryAfter, true},
		} {
			t.Run(mode+" "+tc.name, func(t *testing.T) {
				f := newFakeSlack(t)
				f.SetAnswer(answer429)
				f.setRetryAfter(tc.value)
				cfg := Config{WebhookURL: notify.Secret(f.webhookURL())}
				if mode == "bot" {
					cfg = Config{Token: testToken, Channel: "#alerts", APIURL: f.apiURL()}
				}
				var logs bytes.Buffer
				n, err := New(cfg, nil, slog.New(slog.NewTextHandler(&logs, nil)), WithClock(func() time.Time { return now }))
				if err != nil {
					t.Fatal(err)
				}
				retry, err := n.Notify(context.Background(), []notify.Event{failureEvent("k")})
				after, ok := notify.RetryAfter(err)
				if !retry || !ok || after != tc.want {
					t.Fatalf("Notify = %v, %v; RetryAfter %s, %v; want retry after %s", retry, err, after, ok, tc.want)
				}
				if got := strings.Contains(logs.String(), "retrying at the cap"); got != tc.capped {
					t.Errorf("cap logged = %v, want %v: %s", got, tc.capped, logs.String())
				}
				for _, secret := range []string{testToken, "SECRETwebhookPATH"} {
					if strings.Contains(err.Error()+logs.String(), secret) {
						t.Errorf("a secret is shown: %v %s", err, logs.String())
					}
				}
			})
		}
	}
}

func TestCancelledSendRetriesWithoutLeakingTheURL(t *testing.T) {
	f := newFakeSlack(t)
	n := webhookNotifier(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	retry, err := n.Notify(ctx, []notify.Event{failureEvent("k")})
	if err == nil || !retry {
		t.Fatalf("retry=%v err=%v, want a retryable error", retry, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
	if strings.Contains(err.Error(), "SECRETwebhookPATH") {
		t.Errorf("error leaks the webhook URL: %v", err)
	}
}

func TestBotThreadsTracesAndUpdatesOnRecovery(t *testing.T) {
	f := newFakeSlack(t)
	store := &notifytest.Threads{}
	n := botNotifier(t, f, WithThreadStore(store))
	ctx := context.Background()
	const key = "operation.failed/2024_01_13_120000_Failed/42"

	if _, err := n.Notify(ctx, []notify.Event{failureEvent(key)}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Accepted()
	if len(reqs) != 2 {
		t.Fatalf("%d requests after the failure, want the alert and its thread reply", len(reqs))
	}
	parent, reply := reqs[0], reqs[1]
	if parent.method != "chat.postMessage" || parent.channel != "#alerts" || parent.threadTS != "" {
		t.Errorf("alert = %+v, want a top-level chat.postMessage to #alerts", parent)
	}
	if strings.Contains(parent.all, "Foo-&gt;bar()") {
		t.Errorf("the alert itself carries the trace; it belongs in the thread")
	}
	if reply.method != "chat.postMessage" || reply.threadTS != parent.answerTS || reply.channel != channelID {
		t.Errorf("reply = %+v, want chat.postMessage in %s with thread_ts %s", reply, channelID, parent.answerTS)
	}
	if !strings.Contains(reply.all, "Foo-&gt;bar()") {
		t.Errorf("thread reply lacks the trace frames")
	}
	if ch, ts, ok := store.Thread(key); !ok || ch != channelID || ts != parent.answerTS {
		t.Errorf("store has %q %q %v, want %s %s", ch, ts, ok, channelID, parent.answerTS)
	}

	if _, err := n.Notify(ctx, []notify.Event{recoveredEvent(key)}); err != nil {
		t.Fatal(err)
	}
	reqs = f.Accepted()
	if len(reqs) != 3 {
		t.Fatalf("%d requests after the recovery, want one more", len(reqs))
	}
	up := reqs[2]
	if up.method != "chat.update" || up.channel != channelID || up.ts != parent.answerTS {
		t.Errorf("recovery = %+v, want chat.update of %s in %s", up, parent.answerTS, channelID)
	}
	if !strings.Contains(up.all, "Operation recovered") {
		t.Errorf("updated message does not say it recovered: %q", up.text)
	}
}

func TestBotRecoveryPostsWhenOriginalCannotBeUpdated(t *testing.T) {
	tests := []struct {
		name  string
		known bool
	}{
		{name: "unknown thread", known: false},
		{name: "original message gone", known: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSlack(t)
			store := &notifytest.Threads{}
			if tc.known {
				store.SetThread("k", channelID, "1600000000.000001")
				f.SetAnswer(answerUpdateNotFound)
			}
			n := botNotifier(t, f, WithThreadStore(store))
			if _, err := n.Notify(context.Background(), []notify.Event{recoveredEvent("k")}); err != nil {
				t.Fatal(err)
			}
			reqs := f.Accepted()
			if len(reqs) != 1 || reqs[0].method != "chat.postMessage" {
				t.Fatalf("requests %+v, want one chat.postMessage", reqs)
			}
		})
	}
}

func TestNewGivesTheClientATimeout(t *testing.T) {
	cfg := Config{WebhookURL: "https://hooks.slack.com/services/T/B/X"}
	tests := []struct {
		name   string
		client *http.Client
		cfg    time.Duration
		want   time.Duration
	}{
		{name: "nil client gets the default", client: nil, want: DefaultTimeout},
		{name: "client without timeout gets the configured one", client: &http.Client{}, cfg: 3 * time.Second, want: 3 * time.Second},
		{name: "client timeout is kept", client: &http.Client{Timeout: time.Second}, want: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.Timeout = tc.cfg
			var before time.Duration
			if tc.client != nil {
				before = tc.client.Timeout
			}
			n, err := New(c, tc.client, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n.client.Timeout != tc.want {
				t.Errorf("timeout = %v, want %v", n.client.Timeout, tc.want)
			}
			if tc.client != nil && tc.client.Timeout != before {
				t.Errorf("New changed the caller's client")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" = valid
	}{
		{name: "webhook", cfg: Config{WebhookURL: "https://hooks.slack.com/services/T/B/X"}},
		{name: "bot", cfg: Config{Token: "xoxb-1", Channel: "C0123"}},
		{name: "bot with api_url", cfg: Config{Token: "xoxb-1", Channel: "#alerts", APIURL: "http://127.0.0.1:8080/api"}},
		{name: "local http webhook", cfg: Config{WebhookURL: "http://127.0.0.1:9/services/x"}},
		{name: "neither", cfg: Config{}, want: "set webhook_url"},
		{name: "both", cfg: Config{WebhookURL: "https://hooks.slack.com/x", Token: "xoxb-1", Channel: "C1"}, want: "both set"},
		{name: "token without channel", cfg: Config{Token: "xoxb-1"}, want: "slack.channel: required with token"},
		{name: "not a token", cfg: Config{Token: "hunter2", Channel: "C1"}, want: "slack.token"},
		{name: "http webhook", cfg: Config{WebhookURL: "http://hooks.slack.com/services/T/B/SECRET"}, want: "slack.webhook_url: must be an https URL"},
		{name: "relative webhook", cfg: Config{WebhookURL: "hooks.slack.com/services/T/B/SECRET"}, want: "slack.webhook_url: scheme must be http or https"},
		{name: "webhook with a password", cfg: Config{WebhookURL: "https://u:hunter2@hooks.slack.com/services/T/B/SECRET"}, want: "slack.webhook_url: carries a user name or password"},
		{name: "channel with webhook", cfg: Config{WebhookURL: "https://hooks.slack.com/x", Channel: "#a"}, want: "slack.channel: only used with token"},
		{name: "api_url with webhook", cfg: Config{WebhookURL: "https://hooks.slack.com/x", APIURL: "https://x/"}, want: "slack.api_url: only used with token"},
		{name: "bad api_url", cfg: Config{Token: "xoxb-1", Channel: "C1", APIURL: "slack.com/api"}, want: "slack.api_url: must be an absolute"},
		{name: "bad icon", cfg: Config{Token: "xoxb-1", Channel: "C1", IconEmoji: "robot"}, want: "slack.icon_emoji"},
		{name: "negative timeout", cfg: Config{Token: "xoxb-1", Channel: "C1", Timeout: -time.Second}, want: "slack.timeout: must be positive (got -1s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			notifytest.CheckConfigError(t, tc.cfg.Validate(), tc.want, "SECRET", "hunter2")
		})
	}
}

func TestTruncateKeepsEntitiesWhole(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
	}{
		{name: "ampersands", in: strings.Repeat("&", 100), limit: 20},
		{name: "angle brackets", in: strings.Repeat("a<", 100), limit: 21},
		{name: "multibyte runes", in: strings.Repeat("é€😀<", 100), limit: 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for limit := tc.limit; limit < tc.limit+6; limit++ {
				got := truncate(esc(tc.in), limit)
				if n := utf8.RuneCountInString(got); n > limit {
					t.Errorf("limit %d: %d runes", limit, n)
				}
				if !strings.HasSuffix(got, truncMarker) {
					t.Errorf("limit %d: no marker in %q", limit, got)
				}
				checkEscaped(t, fmt.Sprintf("limit %d", limit), got)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// cutTraceEvent is an operation.failed event as the state builds it from a
// 9,187-frame trace: only the first frames are carried, and TraceFrames and
// TraceBytes describe the whole trace. Its texts carry zero-width and bidi
// characters and a mention in plain text.
func cutTraceEvent() notify.Event {
	ev := notifytest.HostileCutTrace("<!channel> ", "SQLSTATE[08006] conn\u200bection ```refused``` \u2066x\u2069")
	ev.ID = "01HN0000000000000000000001"
	ev.Summary += "\ufeff"
	return ev
}

// The message shows the summary in plain_text as written (no &lt;), counts
// the frames left out of the whole trace, not of the part the event
// carries, and carries no format character anywhere.
func TestMessageGolden(t *testing.T) {
	f := newFakeSlack(t)
	n := webhookNotifier(t, f)
	if _, err := n.Notify(context.Background(), []notify.Event{cutTraceEvent()}); err != nil {
		t.Fatal(err)
	}
	req := f.Accepted()[0]
	var p struct {
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(req.body, &p); err != nil {
		t.Fatal(err)
	}
	var plain []string
	for _, b := range p.Blocks {
		if b.Type == "section" && b.Text != nil && b.Text.Type == "plain_text" {
			plain = append(plain, b.Text.Text)
		}
	}
	if want := "<!channel> 2024_01_13_120000_FailedOperation failed: payment & <b>refund</b> evil"; len(plain) != 1 || plain[0] != want {
		t.Errorf("plain_text sections = %q, want [%q]", plain, want)
	}
	if !strings.Contains(req.text, "&lt;!channel&gt;") {
		t.Errorf("fallback text %q: the mention must stay escaped in text Slack parses", req.text)
	}
	if !strings.Contains(req.all, "and 9177 more frames") {
		t.Errorf("message does not count the 9,177 frames it leaves out of 9,187:\n%s", req.all)
	}
	if i := strings.IndexFunc(req.all, func(r rune) bool { return unicode.Is(unicode.Cf, r) }); i >= 0 {
		t.Errorf("format character %U in the message", []rune(req.all[i:])[0])
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "failed.json.golden"), req.body, update)

	t.Run("bot thread counts the same", func(t *testing.T) {
		f := newFakeSlack(t)
		n := botNotifier(t, f, WithThreadStore(&notifytest.Threads{}))
		if _, err := n.Notify(context.Background(), []notify.Event{cutTraceEvent()}); err != nil {
			t.Fatal(err)
		}
		reqs := f.Accepted()
		if len(reqs) != 2 || !strings.Contains(reqs[1].all, "and 9177 more frames") {
			t.Errorf("thread reply does not count the frames left out: %+v", reqs)
		}
	})
}

// A webhook URL that redirects is refused, not followed: a followed 302
// turns the POST into a GET, which a server may answer 200 without
// posting anything.
func TestRedirectIsRefusedNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == webhookPath {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	n, err := New(Config{WebhookURL: notify.Secret(srv.URL + webhookPath)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Notify(context.Background(), []notify.Event{failureEvent("k")})
	if err == nil || retry || !strings.Contains(err.Error(), "302 Found") {
		t.Fatalf("Notify = %v, %v; want the 302 as a refusal", retry, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Errorf("requests %v, want the POST alone", got)
	}
}
