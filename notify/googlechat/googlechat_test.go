package googlechat

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
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
	spacePath = "/v1/spaces/AAAAseqwatch/messages"
	hookKey   = "AIzaSyKEYvalue0123456789"
	hookToken = "TOKENsecretVALUE-abcdefghij0123456789"
	// maxChatMessage is Google Chat's documented message size limit.
	maxChatMessage = 32_000
)

type answer int

const (
	answerOK answer = iota
	answer429
	answer503
	answer403 // a revoked webhook token
	answer400
)

// posted is one message the fake created.
type posted struct {
	name, thread string
	body         []byte
	msg          chatMessage
}

type chatMessage struct {
	Text         string `json:"text"`
	FallbackText string `json:"fallbackText"`
	CardsV2      []struct {
		CardID string `json:"cardId"`
		Card   struct {
			Header *struct {
				Title    string `json:"title"`
				Subtitle string `json:"subtitle"`
			} `json:"header"`
			Sections []struct {
				Header                    string `json:"header"`
				Collapsible               bool   `json:"collapsible"`
				UncollapsibleWidgetsCount int    `json:"uncollapsibleWidgetsCount"`
				Widgets                   []struct {
					TextParagraph *struct {
						Text string `json:"text"`
					} `json:"textParagraph"`
					DecoratedText *struct {
						TopLabel string `json:"topLabel"`
						Text     string `json:"text"`
						WrapText bool   `json:"wrapText"`
					} `json:"decoratedText"`
				} `json:"widgets"`
			} `json:"sections"`
		} `json:"card"`
	} `json:"cardsV2"`
	Thread *struct {
		ThreadKey string `json:"threadKey"`
		Name      string `json:"name"`
	} `json:"thread"`
}

// fakeChat stands in for Google Chat's incoming webhook (spaces.messages
// create with key and token): it applies the documented size limit,
// threading and requestId rules and the card schema seqwatch writes, and
// reports every violation as a test error.
type fakeChat struct {
	notifytest.Receiver[answer, posted]

	threads  map[string]string // threadKey → thread name
	requests map[string]string // requestId → message name
}

func newFakeChat(t *testing.T) *fakeChat {
	f := &fakeChat{threads: map[string]string{}, requests: map[string]string{}}
	f.Start(t, f.serve)
	return f
}

func (f *fakeChat) url() string {
	return f.Server.URL + spacePath + "?key=" + hookKey + "&token=" + hookToken
}

func googleError(w http.ResponseWriter, status int, s, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": s}})
}

func (f *fakeChat) serve(w http.ResponseWriter, r *http.Request) {
	t := f.T
	if r.Method != http.MethodPost {
		t.Errorf("%s: a webhook takes POST", r.Method)
		googleError(w, http.StatusMethodNotAllowed, "INVALID_ARGUMENT", "method")
		return
	}
	q := r.URL.Query()
	if r.URL.Path != spacePath || q.Get("key") != hookKey {
		googleError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
		return
	}
	if f.Answer() == answer403 || q.Get("token") != hookToken {
		googleError(w, http.StatusForbidden, "PERMISSION_DENIED", "Invalid token "+hookToken)
		return
	}
	body, ok := f.JSONBody(r)
	if !ok {
		return
	}
	if len(body) > maxChatMessage {
		t.Errorf("the message is %d bytes, over Chat's 32,000", len(body))
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Message too large.")
		return
	}
	var m chatMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Errorf("not a Chat message: %v", err)
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	if problems := checkMessage(m, body); len(problems) > 0 {
		for _, p := range problems {
			t.Errorf("Chat would refuse or mangle the message: %s", p)
		}
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid card.")
		return
	}
	key := ""
	if m.Thread != nil {
		key = m.Thread.ThreadKey
		if len(key) > 4000 {
			t.Errorf("threadKey is %d characters, limit 4000", len(key))
		}
		if q.Get("messageReplyOption") != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" {
			t.Errorf("a threadKey without messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD starts a new thread (got %q)", q.Get("messageReplyOption"))
		}
	}
	switch f.Answer() {
	case answer429:
		w.Header().Set("Retry-After", "4")
		googleError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
		return
	case answer503:
		googleError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The service is currently unavailable.")
		return
	case answer400:
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if id := q.Get("requestId"); id != "" {
		if name, ok := f.requests[id]; ok {
			// An existing request ID returns the message created with it.
			_ = json.NewEncoder(w).Encode(map[string]any{"name": name})
			return
		}
	}
	threadName := ""
	if key != "" {
		threadName = f.threads[key]
	}
	if threadName == "" {
		threadName = fmt.Sprintf("spaces/AAAAseqwatch/threads/T%d", f.Kept())
		if key != "" {
			f.threads[key] = threadName
		}
	}
	name := fmt.Sprintf("spaces/AAAAseqwatch/messages/M%d", f.Kept())
	if id := q.Get("requestId"); id != "" {
		f.requests[id] = name
	}
	f.Keep(posted{name: name, thread: threadName, body: body, msg: m})
	_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "thread": map[string]string{"name": threadName}})
}

// ourTags are the only HTML seqwatch writes in card text.
var ourTags = regexp.MustCompile(`<br>|</?i>|<font color="#80868b">|</font>`)
var entity = regexp.MustCompile(`&(amp|lt|gt|quot);`)

func checkMessage(m chatMessage, body []byte) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !utf8.Valid(body) {
		bad("the body is not valid UTF-8")
	}
	if m.Text == "" && len(m.CardsV2) == 0 {
		bad("neither text nor cardsV2")
	}
	checkPlain(bad, "fallbackText", m.FallbackText)
	widgets := 0
	for i, c := range m.CardsV2 {
		if c.CardID == "" {
			bad("card %d has no cardId", i)
		}
		if h := c.Card.Header; h != nil {
			if h.Title == "" {
				bad("card %d header has no title", i)
			}
			checkPlain(bad, "header title", h.Title)
			checkPlain(bad, "header subtitle", h.Subtitle)
		}
		if len(c.Card.Sections) == 0 {
			bad("card %d has no sections", i)
		}
		for j, s := range c.Card.Sections {
			if len(s.Widgets) == 0 {
				bad("card %d section %d has no widgets", i, j)
			}
			checkPlain(bad, "section header", s.Header)
			for k, w := range s.Widgets {
				widgets++
				at := fmt.Sprintf("card %d section %d widget %d", i, j, k)
				switch {
				case w.TextParagraph != nil && w.DecoratedText == nil:
					checkCardText(bad, at, w.TextParagraph.Text)
				case w.DecoratedText != nil && w.TextParagraph == nil:
					checkPlain(bad, at+" topLabel", w.DecoratedText.TopLabel)
					checkCardText(bad, at, w.DecoratedText.Text)
				default:
					bad("%s: a widget is exactly one of its kinds", at)
				}
			}
		}
	}
	if widgets > 100 {
		bad("%d widgets: Chat ignores those beyond 100", widgets)
	}
	return out
}

// checkPlain fails on text that is not clean or that carries markup or a
// link where Chat's formatting is not promised to be off.
func checkPlain(bad func(string, ...any), at, s string) {
	checkClean(bad, at, s)
	if i := strings.IndexAny(s, "<>&*~`"); i >= 0 {
		bad("%s: %q near %q", at, s[i], near(s, i))
	}
	if strings.Contains(s, "://") {
		bad("%s: a link in %q", at, s)
	}
}

// checkCardText fails on any tag but seqwatch's own, any & that is not an
// entity, and any URL.
func checkCardText(bad func(string, ...any), at, s string) {
	checkClean(bad, at, s)
	if s == "" {
		bad("%s: empty text", at)
	}
	rest := ourTags.ReplaceAllString(s, "")
	if i := strings.IndexAny(rest, "<>"); i >= 0 {
		bad("%s: HTML near %q", at, near(rest, i))
	}
	if i := strings.IndexByte(entity.ReplaceAllString(rest, ""), '&'); i >= 0 {
		bad("%s: a bare & (an entity of its own) near %q", at, near(rest, i))
	}
	if strings.Contains(rest, "://") {
		bad("%s: a link near %q", at, near(rest, strings.Index(rest, "://")))
	}
}

func checkClean(bad func(string, ...any), at, s string) {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			bad("%s: control or format character %U", at, r)
			return
		}
	}
}

func near(s string, i int) string { return s[max(0, i-20):min(len(s), i+20)] }

const hostile = "<users/all> <users/123456789> @all *bold* _it_ ~s~ `code` ```block``` <https://evil.example|click> https://evil.example/y " +
	"<b>html</b> <a href=\"https://evil.example\">x</a> <font color=\"#f00\">red</font> &lt;b&gt; &#x202E; a & b\r\nsecond line \xff\xfe end \u202eevil\u200b"

var t0 = notifytest.T0

func hostileFailure(key string) notify.Event {
	return notifytest.ChatHostileFailure(key, hostile, "A<b>&")
}

func failure(app, key string) notify.Event {
	failed := t0.Add(time.Minute)
	return notify.Event{
		ID: "evt_f_" + app + key, Kind: notify.OperationFailed, Key: key, App: app, OccurredAt: failed,
		Summary:   "2024_01_13_120000_Failed failed: boom",
		Operation: &notify.Operation{ID: "42", Name: "2024_01_13_120000_Failed", Type: "sync", ExecutedAt: t0, FailedAt: &failed},
		Errors:    []notify.Error{{Exception: "RuntimeException", Message: "boom", CreatedAt: failed}},
	}
}

func recovered(app, key string) notify.Event {
	ev := notifytest.ChatRecovery(key)
	ev.ID, ev.App = "evt_r_"+app+key, app
	return ev
}

func newNotifier(t *testing.T, f *fakeChat) *Notifier {
	t.Helper()
	n, err := New(Config{WebhookURL: notify.Secret(f.url())}, f.Server.Client(), func() time.Time { return t0 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHostileEventArrivesInertAndWithinTheSizeLimit(t *testing.T) {
	f := newFakeChat(t)
	if _, err := newNotifier(t, f).Notify(context.Background(), []notify.Event{hostileFailure("k")}); err != nil {
		t.Fatal(err)
	}
	msgs := f.Accepted()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	body := string(msgs[0].body)
	if !strings.Contains(body, truncMarker) {
		t.Error("nothing was marked as truncated, though the trace alone is 1 MiB")
	}
	if !strings.Contains(body, "&lt;users/all&gt;") {
		t.Error("the mention markup is not shown escaped")
	}
}

// A failure and its recovery share a thread; another problem, or the
// same problem of another application, has its own.
func TestRecoveryLandsInItsFailuresThread(t *testing.T) {
	f := newFakeChat(t)
	n := newNotifier(t, f)
	ctx := context.Background()
	for _, ev := range []notify.Event{failure("shop", "k1"), failure("shop", "k2"), failure("blog", "k1"), recovered("shop", "k1")} {
		if _, err := n.Notify(ctx, []notify.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	m := f.Accepted()
	if len(m) != 4 {
		t.Fatalf("%d messages, want 4", len(m))
	}
	if m[3].thread != m[0].thread {
		t.Errorf("the recovery went to %s, its failure is in %s", m[3].thread, m[0].thread)
	}
	if m[1].thread == m[0].thread || m[2].thread == m[0].thread {
		t.Errorf("another problem or application shares the thread: %s %s %s", m[0].thread, m[1].thread, m[2].thread)
	}
}

func TestDigestIsOneMessageInANewThread(t *testing.T) {
	f := newFakeChat(t)
	events := make([]notify.Event, 60)
	for i := range events {
		events[i] = hostileFailure(fmt.Sprintf("k%d", i))
	}
	if _, err := newNotifier(t, f).Notify(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	m := f.Accepted()
	if len(m) != 1 || m[0].msg.Thread != nil || !regexp.MustCompile(`… and \d+ more`).Match(m[0].body) {
		t.Fatalf("want one digest without a thread key that says how many it leaves out: %d messages", len(m))
	}
}

// A retry after a lost answer carries the same requestId: Chat returns the
// message it created instead of posting it again.
func TestRetryDoesNotPostTwice(t *testing.T) {
	f := newFakeChat(t)
	n := newNotifier(t, f)
	ev := failure("shop", "k")
	for range 2 {
		if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	if m := f.Accepted(); len(m) != 1 {
		t.Errorf("%d messages after a retry, want 1", len(m))
	}
}

func TestSendErrors(t *testing.T) {
	notifytest.CheckRefusals(t, []notifytest.RefusalCase[answer]{
		{Name: "429 waits for Retry-After", Answer: answer429, Want: notifytest.Refusal{Retry: true, After: 4 * time.Second}},
		{Name: "503 retries", Answer: answer503, Want: notifytest.Refusal{Retry: true}},
		{Name: "a revoked token is permanent", Answer: answer403, Want: notifytest.Refusal{}},
		{Name: "an invalid message is permanent", Answer: answer400, Want: notifytest.Refusal{}},
	}, func(t *testing.T, a answer) (bool, error) {
		f := newFakeChat(t)
		f.SetAnswer(a)
		return newNotifier(t, f).Notify(context.Background(), []notify.Event{recovered("shop", "k")})
	}, hookToken, hookKey)
	t.Run("an answer without the message is an error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<html>ok</html>") }))
		defer srv.Close()
		n, err := New(Config{WebhookURL: notify.Secret(srv.URL + "/x")}, srv.Client(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Notify(context.Background(), []notify.Event{recovered("shop", "k")}); err == nil || !strings.Contains(err.Error(), "without the message") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestValidate(t *testing.T) {
	good := "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=" + hookKey + "&token=" + hookToken
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"a webhook", Config{WebhookURL: notify.Secret(good)}, ""},
		{"a proxy", Config{WebhookURL: "https://proxy.example.com/chat"}, ""},
		{"loopback http", Config{WebhookURL: "http://localhost:8080/v1/spaces/A/messages"}, ""},
		{"no URL", Config{}, "webhook_url: required"},
		{"no token", Config{WebhookURL: "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=" + hookKey}, "not an incoming webhook URL"},
		{"a threadKey of its own", Config{WebhookURL: notify.Secret(good + "&threadKey=x")}, "remove it from the URL"},
		{"plain http elsewhere", Config{WebhookURL: "http://proxy.internal/x"}, "allow_http"},
		{"a negative timeout", Config{WebhookURL: notify.Secret(good), Timeout: -1}, "timeout: must be positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			notifytest.CheckConfigError(t, c.cfg.Validate(), c.want, hookToken, hookKey)
		})
	}
}

// Text of three-byte characters fills a card past 32,000 bytes at full
// length: the card shows fewer and shorter lines until it fits.
func TestLongTextShrinksTheMessageUnderTheLimit(t *testing.T) {
	ev := hostileFailure("k")
	line := strings.Repeat("漢字", 400)
	ev.Errors = ev.Errors[:1]
	ev.Errors[0].Message = strings.Repeat(line+"\n", 40)
	ev.Errors[0].Trace = strings.Repeat("#1 "+line+"\n", 40)
	title, body := notify.DefaultWords([]notify.Event{ev})
	full, _ := encode(message{CardsV2: []cardWithID{{CardID: "seqwatch", Card: buildCard([]notify.Event{ev}, title, body, budgets()[0])}}})
	if len(full) <= maxChatMessage {
		t.Fatalf("the full message is %d bytes: the test does not exceed the limit", len(full))
	}
	f := newFakeChat(t)
	if _, err := newNotifier(t, f).Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if m := f.Accepted(); len(m) != 1 || !strings.Contains(string(m[0].body), "more lines") {
		t.Fatalf("want one message that says it left lines out, got %d", len(m))
	}
}

// cutTraceEvent is an operation.failed event as the state builds it from a
// 9,187-frame trace, with zero-width and bidi characters and a mention.
func cutTraceEvent() notify.Event {
	return notifytest.HostileCutTrace("<users/all> ", "SQLSTATE[08006] conn\u200bection refused\n(Connection: pgsql)")
}

// bodies are the bodies of the messages f created.
func (f *fakeChat) bodies() [][]byte {
	return notifytest.Bodies(f.Accepted(), func(m posted) []byte { return m.body })
}

// setup is a notifier on a new fake Google Chat.
func setup(t *testing.T) (notify.Notifier, func() [][]byte) {
	f := newFakeChat(t)
	return newNotifier(t, f), f.bodies
}

func TestMessageGolden(t *testing.T) {
	notifytest.GoldenMessages(t, ".json.golden", []notifytest.Golden{
		{Name: "failed", Events: []notify.Event{cutTraceEvent()}, Want: "and 9177 more frames"},
		{Name: "recovered", Events: []notify.Event{recovered("shop", "operation.failed/2024_01_13_120000_FailedOperation/42")}},
		{Name: "digest", Events: []notify.Event{cutTraceEvent(), recovered("shop", "k")}},
	}, setup, update)
}
