package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
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
	webhookID    = "123456789012345678"
	webhookToken = "SECRETwebhookTOKENvalue-abc_123"
	webhookPath  = "/api/webhooks/" + webhookID + "/" + webhookToken
)

// answer is what the fake Discord answers to a well-formed request.
type answer int

const (
	answerOK answer = iota
	answer429
	answer500
	answer404       // the webhook was deleted: Unknown Webhook
	answer401       // a wrong token
	answerNoMessage // 204, as Discord answers without wait=true
)

// received is one message the fake accepted.
type received struct {
	threadID string
	payload  map[string]any
	body     []byte
}

// fakeDiscord stands in for Discord's Execute Webhook: it checks each
// request against the documented limits and rules, answers 400 as Discord
// does to what breaks one, and reports every violation as a test error.
type fakeDiscord struct {
	notifytest.Receiver[answer, received]

	forum   bool            // the webhook's channel is a forum: thread_name or thread_id required
	threads map[string]bool // forum posts that exist
	next    int
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	f := &fakeDiscord{threads: map[string]bool{}}
	f.Start(t, f.serve)
	return f
}

func (f *fakeDiscord) url() string { return f.Server.URL + webhookPath }

func (f *fakeDiscord) deleteThread(id string) {
	f.Do(func() { delete(f.threads, id) })
}

func refuse(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"message": msg, "code": code})
}

func (f *fakeDiscord) serve(w http.ResponseWriter, r *http.Request) {
	t := f.T
	if r.Method != http.MethodPost {
		t.Errorf("%s: Execute Webhook is a POST", r.Method)
		refuse(w, http.StatusMethodNotAllowed, 0, "405: Method Not Allowed")
		return
	}
	if r.URL.Path != webhookPath {
		refuse(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	if r.URL.Query().Get("wait") != "true" {
		t.Errorf("no ?wait=true: a message Discord does not keep would not be an error")
	}
	body, ok := f.JSONBody(r)
	if !ok {
		return
	}
	if !utf8.Valid(body) {
		t.Errorf("the body is not valid UTF-8")
	}
	var p struct {
		Content         *string         `json:"content"`
		Username        string          `json:"username"`
		AvatarURL       string          `json:"avatar_url"`
		TTS             bool            `json:"tts"`
		Embeds          []embed         `json:"embeds"`
		AllowedMentions *allowedMention `json:"allowed_mentions"`
		Flags           int             `json:"flags"`
		ThreadName      string          `json:"thread_name"`
		AppliedTags     []string        `json:"applied_tags"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Errorf("the body is not an Execute Webhook document: %v", err)
		refuse(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	if problems := checkPayload(p.Content, p.Embeds, p.AllowedMentions, p.Username, p.ThreadName); len(problems) > 0 {
		for _, pr := range problems {
			t.Errorf("Discord would refuse the message: %s", pr)
		}
		refuse(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	threadID := r.URL.Query().Get("thread_id")
	if threadID != "" && p.ThreadName != "" {
		t.Errorf("thread_id and thread_name together")
		refuse(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	if f.forum && threadID == "" && p.ThreadName == "" {
		t.Errorf("a forum channel needs thread_name or thread_id")
		refuse(w, http.StatusBadRequest, 220001, "Webhooks posted to forum channels must have a thread_name or thread_id")
		return
	}
	switch f.Answer() {
	case answer429:
		w.Header().Set("Retry-After", "2")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`)
		return
	case answer500:
		http.Error(w, "<html>upstream</html>", http.StatusInternalServerError)
		return
	case answer404:
		refuse(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	case answer401:
		refuse(w, http.StatusUnauthorized, 50027, "Invalid Webhook Token "+webhookToken)
		return
	case answerNoMessage:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if threadID != "" && f.forum && !f.threads[threadID] {
		refuse(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	f.next++
	channel := "900000000000000000"
	if threadID != "" {
		channel = threadID
	} else if p.ThreadName != "" {
		channel = fmt.Sprintf("%d", 800000000000000000+f.next)
		f.threads[channel] = true
	}
	var all map[string]any
	_ = json.Unmarshal(body, &all)
	f.Keep(received{threadID: threadID, payload: all, body: body})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": fmt.Sprintf("%d", 700000000000000000+f.next), "channel_id": channel, "type": 0, "content": ""})
}

type allowedMention struct {
	Parse *[]string `json:"parse"`
	Users []string  `json:"users"`
	Roles []string  `json:"roles"`
}

// checkPayload applies Discord's documented limits and seqwatch's own
// rules (nothing pings, nothing formats or links from database text).
func checkPayload(content *string, embeds []embed, am *allowedMention, username, threadName string) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if (content == nil || *content == "") && len(embeds) == 0 {
		bad("neither content nor embeds (Cannot send an empty message)")
	}
	if content != nil && utf8.RuneCountInString(*content) > maxContent {
		bad("content is %d characters, limit 2000", utf8.RuneCountInString(*content))
	}
	if len(embeds) > maxEmbeds {
		bad("%d embeds, limit 10", len(embeds))
	}
	if am == nil || am.Parse == nil || len(*am.Parse) != 0 || len(am.Users) > 0 || len(am.Roles) > 0 {
		bad(`allowed_mentions must be {"parse": []}: got %+v`, am)
	}
	if username != "" && checkUsername(username) != nil {
		bad("username %q", username)
	}
	if n := utf8.RuneCountInString(threadName); n > maxThreadName {
		bad("thread_name is %d characters, limit 100", n)
	}
	checkPlain(bad, "thread_name", threadName)
	total := 0
	for i, e := range embeds {
		at := fmt.Sprintf("embed %d", i)
		count := func(what, s string, limit int) {
			n := utf8.RuneCountInString(s)
			total += n
			if n > limit {
				bad("%s %s is %d characters, limit %d", at, what, n, limit)
			}
		}
		count("title", e.Title, 256)
		count("description", e.Description, 4096)
		if e.Title == "" && e.Description == "" && len(e.Fields) == 0 {
			bad("%s is empty", at)
		}
		checkInertTitle(bad, at+" title", e.Title)
		checkInert(bad, at+" description", e.Description)
		if len(e.Fields) > maxFields {
			bad("%s has %d fields, limit 25", at, len(e.Fields))
		}
		for j, fl := range e.Fields {
			fat := fmt.Sprintf("%s field %d (%s)", at, j, fl.Name)
			if fl.Name == "" || fl.Value == "" {
				bad("%s: name and value are required", fat)
			}
			count("field name", fl.Name, 256)
			count("field value", fl.Value, 1024)
			checkInert(bad, fat, fl.Value)
		}
		if e.Footer != nil {
			count("footer", e.Footer.Text, 2048)
			checkPlain(bad, at+" footer", e.Footer.Text)
		}
		if e.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
				bad("%s timestamp %q is not ISO8601", at, e.Timestamp)
			}
		}
		if e.Color < 0 || e.Color > 0xFFFFFF {
			bad("%s color %d", at, e.Color)
		}
	}
	if total >= 6000 {
		bad("the embeds hold %d characters together, which must stay under 6000", total)
	}
	return out
}

// checkPlain fails on what must never reach a message: invalid UTF-8, CR,
// other control characters but LF, and format characters.
func checkPlain(bad func(string, ...any), at, s string) {
	if !utf8.ValidString(s) {
		bad("%s: invalid UTF-8", at)
	}
	for _, r := range s {
		if r == '\r' || (unicode.IsControl(r) && r != '\n') || unicode.Is(unicode.Cf, r) {
			bad("%s: control or format character %U", at, r)
			return
		}
	}
}

// discordMarkdown are the characters that format, link or mention in
// Discord's markdown when they are not escaped (parentheses only link
// after a bracket, which is here).
const discordMarkdown = "\\*_~`|<>[]@:#-+"

// ourMarkup is the markup seqwatch writes itself: timestamps.
var ourMarkup = regexp.MustCompile(`<t:\d+:f>`)

// checkInert walks Discord markdown the way a client reads it: outside
// code spans and blocks every markdown character must be escaped with a
// backslash (so it shows as itself); inside, nothing can end the code
// early but its own closing backticks.
func checkInert(bad func(string, ...any), at, s string) {
	checkPlain(bad, at, s)
	s = ourMarkup.ReplaceAllString(s, "")
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "```"):
			end := strings.Index(s[i+3:], "```")
			if end < 0 {
				bad("%s: a code block is not closed near %q", at, near(s, i))
				return
			}
			i += 3 + end + 3
		case s[i] == '`':
			end := strings.IndexByte(s[i+1:], '`')
			if end < 0 {
				bad("%s: a code span is not closed near %q", at, near(s, i))
				return
			}
			if strings.Contains(s[i+1:i+1+end], "\n") {
				bad("%s: a code span spans lines near %q", at, near(s, i))
			}
			i += 1 + end + 1
		case s[i] == '\\':
			i += 2
		case strings.IndexByte(discordMarkdown, s[i]) >= 0:
			bad("%s: unescaped %q near %q", at, s[i], near(s, i))
			return
		default:
			i++
		}
	}
}

// checkInertTitle: a title carries no markdown character at all.
func checkInertTitle(bad func(string, ...any), at, s string) {
	checkPlain(bad, at, s)
	if i := strings.IndexAny(s, "*_~`|<>[]@#\\"); i >= 0 {
		bad("%s: markdown character %q near %q", at, s[i], near(s, i))
	}
}

func near(s string, i int) string { return s[max(0, i-20):min(len(s), i+20)] }

// hostile is database text that tries everything Discord's markdown can
// do, with HTML, CRLF and invalid UTF-8.
const hostile = "@everyone @here <@123456789012345678> <@&234567890123456789> <#345678901234567890> <t:0:R> <:pepe:456789012345678901> " +
	"[click](https://evil.example/x) https://evil.example/y **bold** __under__ ~~strike~~ ||spoiler|| `code` ```block``` " +
	"<b>html</b> a & b\r\n# heading\r\n> quote\r\n- list\r\n1. one\r\n-# small \xff\xfe end \u202eevil\u200b"

var t0 = notifytest.T0

// hostileFailure carries the hostile text everywhere, a 1 MiB trace
// frame, 40 more frames and five errors of a million characters.
func hostileFailure(key string) notify.Event {
	ev := notifytest.ChatHostileFailure(key, hostile, "A*b_`")
	ev.Operation.Type += hostile
	e := ev.Errors[0]
	e.Message = hostile + strings.Repeat("@everyone`", 100_000)
	e.Trace += "#40 {main}"
	ev.Errors = []notify.Error{e, e, e, e, e}
	return ev
}

var recovered = notifytest.ChatRecovery

func newNotifier(t *testing.T, f *fakeDiscord, cfg Config, threads notify.ThreadStore) *Notifier {
	t.Helper()
	cfg.WebhookURL = notify.Secret(f.url())
	n, err := New(cfg, f.Server.Client(), func() time.Time { return t0 }, nil, threads)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHostileEventArrivesInertAndWithinLimits(t *testing.T) {
	f := newFakeDiscord(t)
	n := newNotifier(t, f, Config{Username: "seqwatch"}, nil)
	if _, err := n.Notify(context.Background(), []notify.Event{hostileFailure("k")}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Accepted()
	if len(reqs) != 1 {
		t.Fatalf("%d messages, want 1", len(reqs))
	}
	body := string(reqs[0].body)
	if !strings.Contains(body, truncMarker) {
		t.Error("nothing was marked as truncated, though the trace alone is 1 MiB")
	}
	if len(body) > 64<<10 {
		t.Errorf("the message is %d bytes", len(body))
	}
}

func TestDigestOfManyEventsIsOneMessageWithinLimits(t *testing.T) {
	f := newFakeDiscord(t)
	n := newNotifier(t, f, Config{}, nil)
	events := make([]notify.Event, 50)
	for i := range events {
		events[i] = hostileFailure(fmt.Sprintf("k%d", i))
	}
	if _, err := n.Notify(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	reqs := f.Accepted()
	if len(reqs) != 1 {
		t.Fatalf("%d messages, want one digest", len(reqs))
	}
	embeds, _ := reqs[0].payload["embeds"].([]any)
	desc, _ := embeds[0].(map[string]any)["description"].(string)
	var more int
	if m := regexp.MustCompile(`… and (\d+) more$`).FindStringSubmatch(desc); m != nil {
		more, _ = strconv.Atoi(m[1])
	}
	if shown := strings.Count(desc, "🚨"); more == 0 || shown+more != 50 {
		t.Errorf("the digest shows %d events and says %d more, want 50 in all:\n%s", shown, more, desc)
	}
}

func TestDigestEventListsItsItems(t *testing.T) {
	f := newFakeDiscord(t)
	n := newNotifier(t, f, Config{}, nil)
	d := notify.Event{ID: "dig_1", Kind: notify.Digest, Key: "digest", App: "shop", OccurredAt: t0,
		Summary: "3 past failures", Items: []notify.Event{hostileFailure("a"), hostileFailure("b"), recovered("a")}}
	if _, err := n.Notify(context.Background(), []notify.Event{d}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Accepted()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].body), "Digest: 3 items") {
		t.Fatalf("want one digest of 3 items: %+v", reqs)
	}
}

func TestSendErrors(t *testing.T) {
	notifytest.CheckRefusals(t, []notifytest.RefusalCase[answer]{
		{Name: "429 waits for the body's retry_after", Answer: answer429, Want: notifytest.Refusal{Retry: true, After: 1500 * time.Millisecond}},
		{Name: "500 retries", Answer: answer500, Want: notifytest.Refusal{Retry: true}},
		{Name: "404 means the webhook was deleted", Answer: answer404, Want: notifytest.Refusal{Gone: true}},
		{Name: "401 is permanent", Answer: answer401, Want: notifytest.Refusal{}},
		{Name: "an answer without the message kept is an error", Answer: answerNoMessage, Want: notifytest.Refusal{}},
	}, func(t *testing.T, a answer) (bool, error) {
		f := newFakeDiscord(t)
		f.SetAnswer(a)
		return newNotifier(t, f, Config{}, nil).Notify(context.Background(), []notify.Event{recovered("k")})
	}, webhookToken, webhookID)
}

func TestTransportErrorRetriesWithoutTheURL(t *testing.T) {
	f := newFakeDiscord(t)
	n := newNotifier(t, f, Config{}, nil)
	f.Server.Close()
	retry, err := n.Notify(context.Background(), []notify.Event{recovered("k")})
	if err == nil || !retry {
		t.Fatalf("retry=%v err=%v, want a retryable error", retry, err)
	}
	if strings.Contains(err.Error(), webhookToken) {
		t.Errorf("error %q names the token", err)
	}
}

// In a forum channel a failure opens a post named after it, and its
// recovery goes into that post; when the post is gone, the recovery opens
// a new one instead of disabling the channel.
func TestForumRecoveryLandsInTheFailuresPost(t *testing.T) {
	f := newFakeDiscord(t)
	f.forum = true
	store := &notifytest.Threads{}
	n := newNotifier(t, f, Config{Forum: true}, store)
	ctx := context.Background()
	if _, err := n.Notify(ctx, []notify.Event{hostileFailure("k1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(ctx, []notify.Event{recovered("k1")}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Accepted()
	if len(reqs) != 2 {
		t.Fatalf("%d messages, want 2", len(reqs))
	}
	name, _ := reqs[0].payload["thread_name"].(string)
	if !strings.HasPrefix(name, "Operation failed · shop") {
		t.Errorf("the post is named %q, want the alert's title", name)
	}
	post, _, ok := store.Thread("k1")
	if !ok || reqs[1].threadID != post || reqs[1].payload["thread_name"] != nil {
		t.Errorf("the recovery went to thread %q (name %v), want the failure's post %q", reqs[1].threadID, reqs[1].payload["thread_name"], post)
	}

	if _, err := n.Notify(ctx, []notify.Event{hostileFailure("k2")}); err != nil {
		t.Fatal(err)
	}
	post2, _, _ := store.Thread("k2")
	f.deleteThread(post2)
	retry, err := n.Notify(ctx, []notify.Event{recovered("k2")})
	if err != nil || retry {
		t.Fatalf("recovery into a deleted post: retry=%v err=%v, want a new post", retry, err)
	}
	reqs = f.Accepted()
	if last := reqs[len(reqs)-1]; last.threadID != "" || last.payload["thread_name"] == nil {
		t.Errorf("the recovery of a deleted post did not open a new one: %+v", last)
	}
}

func TestValidate(t *testing.T) {
	ok := "https://discord.com/api/webhooks/" + webhookID + "/" + webhookToken
	cases := []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"a Discord webhook", Config{WebhookURL: notify.Secret(ok)}, ""},
		{"an API version in the path", Config{WebhookURL: notify.Secret("https://discord.com/api/v10/webhooks/" + webhookID + "/" + webhookToken)}, ""},
		{"a proxy", Config{WebhookURL: "https://proxy.example.com/discord/hook"}, ""},
		{"loopback http", Config{WebhookURL: "http://127.0.0.1:8080" + webhookPath}, ""},
		{"http elsewhere with allow_http", Config{WebhookURL: "http://proxy.internal/x", AllowHTTP: true}, ""},
		{"no URL", Config{}, "webhook_url: required"},
		{"http elsewhere", Config{WebhookURL: "http://proxy.internal/x"}, "allow_http"},
		{"not a webhook path", Config{WebhookURL: "https://discord.com/channels/1/2"}, "not a webhook URL"},
		{"the Slack-compatible endpoint", Config{WebhookURL: notify.Secret(ok + "/slack")}, "remove /slack"},
		{"forum and thread_id", Config{WebhookURL: notify.Secret(ok), Forum: true, ThreadID: "123456789012345678"}, "not both"},
		{"a thread name as thread_id", Config{WebhookURL: notify.Secret(ok), ThreadID: "alerts"}, "numeric ID"},
		{"a name Discord refuses", Config{WebhookURL: notify.Secret(ok), Username: "Discord bot"}, "username"},
		{"a negative timeout", Config{WebhookURL: notify.Secret(ok), Timeout: -time.Second}, "timeout: must be positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			notifytest.CheckConfigError(t, c.cfg.Validate(), c.want, webhookToken)
			if c.want == "" && c.cfg.Timeout != notify.DefaultHTTPTimeout {
				t.Errorf("timeout %s, want the default", c.cfg.Timeout)
			}
		})
	}
}

// cutTraceEvent is an operation.failed event as the state builds it from a
// 9,187-frame trace, with zero-width and bidi characters and a mention.
func cutTraceEvent() notify.Event {
	return notifytest.HostileCutTrace("@everyone ", "SQLSTATE[08006] conn\u200bection ```refused```")
}

// bodies are the bodies of the messages f accepted.
func (f *fakeDiscord) bodies() [][]byte {
	return notifytest.Bodies(f.Accepted(), func(r received) []byte { return r.body })
}

// setup is a notifier of the default configuration on a new fake Discord.
func setup(t *testing.T) (notify.Notifier, func() [][]byte) {
	f := newFakeDiscord(t)
	return newNotifier(t, f, Config{}, nil), f.bodies
}

// The default messages, held by golden files (go test -update). The
// failure shows the frames left out of the whole trace, not of the part
// the event carries.
func TestMessageGolden(t *testing.T) {
	notifytest.GoldenMessages(t, ".json.golden", []notifytest.Golden{
		{Name: "failed", Events: []notify.Event{cutTraceEvent()}, Want: "and 9177 more frames"},
		{Name: "recovered", Events: []notify.Event{recovered("operation.failed/2024_01_13_120000_FailedOperation/42")}},
		{Name: "digest", Events: []notify.Event{cutTraceEvent(), recovered("k")}},
	}, setup, update)
}

func TestBodyRetryAfter(t *testing.T) {
	cases := []struct {
		body string
		want time.Duration
		ok   bool
	}{
		{`{"retry_after": 0.25}`, 250 * time.Millisecond, true},
		{`{"retry_after": 64.57, "global": true}`, 64570 * time.Millisecond, true},
		{`{"retry_after": 1e12}`, notify.MaxRetryAfter + time.Second, true},
		{`{"retry_after": -1}`, 0, false},
		{`{"message": "x"}`, 0, false},
		{`<html>`, 0, false},
	}
	for _, c := range cases {
		got, ok := bodyRetryAfter([]byte(c.body))
		if ok != c.ok || got != c.want {
			t.Errorf("bodyRetryAfter(%s) = %s %v, want %s %v", c.body, got, ok, c.want, c.ok)
		}
	}
}
