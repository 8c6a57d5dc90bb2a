package telegram

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const (
	testToken = "123456789:AAHsecretTOKENvalue_0123456789abcdef"
	testChat  = "-1001234567890"
)

var t0 = notifytest.T0 // the shared events' time

// hostile is database text that tries every trick on Telegram: mentions,
// a user link, HTML tags and entities, a bare link and a domain, a hashtag
// and a bot command, CRLF, a bidi override, a zero-width space and
// invalid UTF-8.
const hostile = "@channel @admin_bot <b>bold</b> <a href=\"tg://user?id=1\">x</a> &amp; a & b https://evil.example www.evil.example #tag /start\r\nsecond line \u202eevil\u202c z\u200bw \xff\xfe end"

func newNotifier(t *testing.T, f *fakeTelegram, opts ...Option) *Notifier {
	t.Helper()
	n, err := New(Config{BotToken: testToken, ChatID: f.chat, APIURL: f.srv.URL}, nil, nil, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func recovery(key string) notify.Event {
	done := t0.Add(time.Hour)
	return notify.Event{
		ID: "evt_rec", Kind: notify.OperationRecovered, Key: key,
		App: "shop", Environment: "production", OccurredAt: done,
		Summary:   "2024_01_13_120000_FailedOperation recovered: a run started 2024-01-13 13:00:00 completed",
		Operation: &notify.Operation{ID: "43", Name: "2024_01_13_120000_FailedOperation", Type: "sync", ExecutedAt: done, CompletedAt: &done},
	}
}

// hostileFailure carries hostile text everywhere and a 1 MiB trace.
func hostileFailure() notify.Event {
	ev := notifytest.Failure("operation.failed/x/42")
	var trace strings.Builder
	trace.WriteString("#0 /app/" + strings.Repeat("A<b>&@here😀", 90_000) + ".php(12): x()\n")
	for i := 1; i < 200; i++ {
		fmt.Fprintf(&trace, "#%d /app/Foo.php(%d): %s\n", i, i, hostile)
	}
	ev.App = "shop @everyone <i>"
	ev.Environment = "production\r\n"
	ev.Summary = hostile + strings.Repeat(" <!here>", 500)
	ev.Operation.Name = "2024_01_13_120000_Failed" + hostile
	ev.Errors = []notify.Error{{
		Exception: `Illuminate\Database\QueryException` + hostile,
		Message:   hostile + strings.Repeat("@channel & <i>", 200_000),
		Trace:     trace.String(),
		Context:   `{"file":"/app/<x>.php","line":12}`,
		CreatedAt: t0,
	}}
	return ev
}

func TestHostileEventArrivesInertEscapedAndWithinTheLimit(t *testing.T) {
	f := newFakeTelegram(t)
	n := newNotifier(t, f)
	ev := hostileFailure()
	if trace := len(ev.Errors[0].Trace); trace < 1<<20 {
		t.Fatalf("the trace is %d bytes, want at least 1 MiB", trace)
	}
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	got := f.messages()
	if len(got) != 2 {
		t.Fatalf("%d messages, want the alert and its trace file", len(got))
	}
	m, doc := got[0], got[1]
	// The file has the whole carried trace, cleaned but not escaped (a
	// .txt is not parsed): the hostile first frame, emoji whole, and the
	// last frame.
	if doc.document == nil || doc.replyTo != m.id || !doc.silent {
		t.Fatalf("the second message is not a silent file replying to the alert: %+v", doc.replyTo)
	}
	if len(doc.document) < 1<<20 || len(doc.document) > maxDocument {
		t.Errorf("the file is %d bytes, want the whole 1 MiB trace within %d", len(doc.document), maxDocument)
	}
	for _, want := range []string{"A<b>&@here😀A<b>", "#199 /app/Foo.php(199):", "\uFFFD", "Exception: Illuminate\\Database\\QueryException@channel"} {
		if !strings.Contains(string(doc.document), want) {
			t.Errorf("the file lacks %q", want)
		}
	}
	if strings.ContainsAny(string(doc.document), "\r\u202e\u200b") {
		t.Errorf("the file keeps a CR, bidi override or zero-width space")
	}
	// Shown as written (the receiver decoded the entities), in the pre.
	for _, want := range []string{"<b>bold</b>", "<a href=\"tg://user?id=1\">", "&amp; a & b", "@channel", "\uFFFD", "more frames", "＠everyone"} {
		if !strings.Contains(m.plain, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	if !strings.Contains(m.plain, truncMarker) && !strings.Contains(m.plain, "…") {
		t.Errorf("nothing marks what was cut")
	}
	if utf16Len(m.plain) > maxText {
		t.Errorf("%d characters", utf16Len(m.plain))
	}
}

// Whatever a Text holds (a template may write anything), the packed
// message parses, stays inert and fits: here, bodies of every length
// around the limit, in characters of one and two UTF-16 units.
func TestPackFitsAnyTextWithinTheLimit(t *testing.T) {
	for _, unit := range []string{"a", "é", "😀", "<&>", "@x https://y.example\n"} {
		for _, n := range []int{0, 1, 4000, 4096, 4097, 8000, 200_000} {
			body := strings.Repeat(unit, n/len([]rune(unit))+1)
			title := "@here #tag $USD /start evil.example " + strings.Repeat(unit, n/3)
			msg := pack(Text{Title: title, Body: body}, "seqwatch · evt_1")
			plain, code, err := parseHTML(msg)
			if err != nil {
				t.Fatalf("unit %q, %d: %v", unit, n, err)
			}
			if l := utf16Len(plain); l > maxText {
				t.Errorf("unit %q, %d: %d characters", unit, n, l)
			}
			checkInert(t, plain, code)
		}
	}
}

func TestDigestIsOneMessageWithinTheLimit(t *testing.T) {
	f := newFakeTelegram(t)
	n := newNotifier(t, f)
	events := make([]notify.Event, 1000)
	for i := range events {
		events[i] = notifytest.Failure(fmt.Sprintf("operation.failed/op/%d", i))
		events[i].Summary = hostile + strings.Repeat("@channel", 100)
	}
	if _, err := n.Notify(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	got := f.messages()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	for _, want := range []string{"1000 seqwatch alerts for shop", "… and 980 more"} {
		if !strings.Contains(got[0].plain, want) {
			t.Errorf("digest lacks %q:\n%s", want, got[0].plain)
		}
	}
}

// With the daemon's thread store, a recovery replies to the failure's
// message, in the configured forum topic; without a known message it is
// a message of its own.
func TestRecoveryRepliesToTheFailuresMessage(t *testing.T) {
	f := newFakeTelegram(t)
	store := &notifytest.Threads{}
	n, err := New(Config{BotToken: testToken, ChatID: f.chat, MessageThreadID: 7, APIURL: f.srv.URL}, nil, nil, nil, WithThreadStore(store))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const key = "operation.failed/2024_01_13_120000_FailedOperation/42"
	if _, err := n.Notify(ctx, []notify.Event{notifytest.Failure(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(ctx, []notify.Event{recovery(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(ctx, []notify.Event{recovery("operation.failed/never-seen/1")}); err != nil {
		t.Fatal(err)
	}
	got := f.messages()
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3", len(got))
	}
	if got[1].replyTo != got[0].id || !strings.Contains(got[1].plain, "Operation recovered") {
		t.Errorf("the recovery replies to %d, want the failure's message %d", got[1].replyTo, got[0].id)
	}
	if got[2].replyTo != 0 {
		t.Errorf("a recovery of an unknown failure replies to %d", got[2].replyTo)
	}
	for _, m := range got {
		if m.thread != 7 {
			t.Errorf("message %d went to topic %d, want 7", m.id, m.thread)
		}
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		token     string
		transport bool
		retry     bool
		after     time.Duration
		want      string
	}{
		{name: "429 waits parameters.retry_after", status: 429, body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`, retry: true, after: 7 * time.Second},
		{name: "a huge retry_after is capped", status: 429, body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 99999999","parameters":{"retry_after":99999999}}`, retry: true, after: notify.MaxRetryAfter},
		{name: "500 retries", status: 500, body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, retry: true},
		{name: "chat not found is permanent", status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, want: "chat not found"},
		{name: "a group that became a supergroup is permanent", status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876543210}}`, want: "upgraded to a supergroup"},
		{name: "kicked from the chat is permanent", status: 403, body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the supergroup chat"}`, want: "kicked"},
		{name: "ok false on a 200 is permanent", status: 200, body: `{"ok":false,"description":"odd"}`, want: "ok false"},
		{name: "a wrong token is permanent", token: "987654321:AAwrongSECRETtoken", want: "401"},
		{name: "unreachable retries", transport: true, retry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTelegram(t)
			if tt.status != 0 {
				f.answerNext(tt.status, tt.body)
			}
			cfg := Config{BotToken: testToken, ChatID: f.chat, APIURL: f.srv.URL}
			if tt.token != "" {
				cfg.BotToken = notify.Secret(tt.token)
			}
			if tt.transport {
				cfg.APIURL = "http://" + notifytest.ClosedAddr(t)
			}
			n, err := New(cfg, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(context.Background(), []notify.Event{notifytest.Failure("k")})
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			if retry != tt.retry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.retry, err)
			}
			after, ok := notify.RetryAfter(err)
			if ok != (tt.after > 0) || after != tt.after {
				t.Errorf("RetryAfter = %v, %v; want %v", after, ok, tt.after)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			tok := cfg.BotToken.Reveal()
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(s, tok) || strings.Contains(s, "SECRET") || strings.Contains(s, "secretTOKEN") {
					t.Errorf("the error shows the token: %s", s)
				}
			}
		})
	}
}

func TestCancelledSendRetriesWithoutShowingTheToken(t *testing.T) {
	f := newFakeTelegram(t)
	n := newNotifier(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	retry, err := n.Notify(ctx, []notify.Event{notifytest.Failure("k")})
	if err == nil || !retry || !errors.Is(err, context.Canceled) {
		t.Fatalf("retry=%v err=%v, want a retryable error wrapping context.Canceled", retry, err)
	}
	if strings.Contains(err.Error(), "secretTOKEN") {
		t.Errorf("the error shows the token: %v", err)
	}
}

// Through the dispatcher at the channel's registered rate, 40 alerts in a
// row never exceed Telegram's 20 messages a minute to a group.
func TestRegisteredRateKeepsAGroupWithinTwentyAMinute(t *testing.T) {
	f := newFakeTelegram(t)
	c := testkit.NewClock(t0)
	f.clock = c
	ct := Channel()
	cfg := ct.NewConfig().(*Config)
	cfg.BotToken, cfg.ChatID, cfg.APIURL = testToken, f.chat, f.srv.URL
	if err := ct.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	n, err := ct.New(cfg, notify.Deps{Name: "tg"})
	if err != nil {
		t.Fatal(err)
	}
	d := notify.NewDispatcher(map[string]notify.Notifier{"tg": n}, notify.DispatcherOptions{
		Now:           c.Now,
		Sleep:         func(_ context.Context, d time.Duration) error { c.Add(d); return nil },
		RatePerSecond: map[string]float64{"tg": ct.RatePerSecond},
	})
	for i := range 40 {
		if out := d.Send(context.Background(), "tg", []notify.Event{notifytest.Failure(fmt.Sprintf("operation.failed/op/%d", i))}); !out.Delivered {
			t.Fatalf("alert %d: %v", i, out.Err)
		}
	}
	if got := len(f.messages()); got != 40 {
		t.Errorf("%d messages, want 40", got)
	}
}

func TestTestAlertIsOneMessage(t *testing.T) {
	f := newFakeTelegram(t)
	store := &notifytest.Threads{}
	n := newNotifier(t, f, WithThreadStore(store))
	ev := notify.Event{ID: "evt_test_1", Kind: notify.Test, Key: "test", App: "shop", OccurredAt: t0, Summary: "seqwatch test alert: if you can read this, the channel works"}
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	got := f.messages()
	if len(got) != 1 || !strings.Contains(got[0].plain, "Test alert from seqwatch") {
		t.Fatalf("messages %+v, want the test alert", got)
	}
	if _, _, ok := store.Thread("test"); ok {
		t.Error("the test alert was kept as a problem's message")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "group", cfg: Config{BotToken: testToken, ChatID: testChat}},
		{name: "channel handle", cfg: Config{BotToken: testToken, ChatID: "@shop_alerts"}},
		{name: "topic", cfg: Config{BotToken: testToken, ChatID: testChat, MessageThreadID: 7}},
		{name: "self-hosted Bot API", cfg: Config{BotToken: testToken, ChatID: testChat, APIURL: "http://127.0.0.1:8081"}},
		{name: "no token", cfg: Config{ChatID: testChat}, want: "telegram.bot_token: required"},
		{name: "not a token", cfg: Config{BotToken: "SECRET-hunter2", ChatID: testChat}, want: "telegram.bot_token: not a bot token"},
		{name: "no chat", cfg: Config{BotToken: testToken}, want: "telegram.chat_id: required"},
		{name: "bad chat", cfg: Config{BotToken: testToken, ChatID: "shop alerts"}, want: `telegram.chat_id: must be a numeric chat id`},
		{name: "chat id too large", cfg: Config{BotToken: testToken, ChatID: "-99999999999999999999"}, want: "telegram.chat_id: -99999999999999999999 is too large"},
		{name: "negative topic", cfg: Config{BotToken: testToken, ChatID: testChat, MessageThreadID: -1}, want: "telegram.message_thread_id"},
		{name: "api_url with the bot path", cfg: Config{BotToken: testToken, ChatID: testChat, APIURL: "https://api.telegram.org/bot123:abc"}, want: "telegram.api_url: contains a /bot path"},
		{name: "plain http elsewhere", cfg: Config{BotToken: testToken, ChatID: testChat, APIURL: "http://tg.example.com"}, want: "telegram.api_url: plain http"},
		{name: "negative timeout", cfg: Config{BotToken: testToken, ChatID: testChat, Timeout: -time.Second}, want: "telegram.timeout: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "secretTOKEN")) {
				t.Errorf("the error shows the token: %v", err)
			}
			if err == nil && cfg.APIURL == "" {
				t.Error("api_url default not filled in")
			}
		})
	}
}

func TestDefaultMessagesGolden(t *testing.T) {
	f := newFakeTelegram(t)
	store := &notifytest.Threads{}
	n := newNotifier(t, f, WithThreadStore(store))
	ev := notifytest.CutTrace()
	for _, batch := range [][]notify.Event{{ev}, {recovery(ev.Key)}, {notifytest.Failure("a"), notifytest.Failure("b")}} {
		if _, err := n.Notify(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	got := f.messages()
	if len(got) != 4 {
		t.Fatalf("%d messages, want the alert, its trace file, the recovery and the digest", len(got))
	}
	if !strings.Contains(got[0].plain, "… and 9172 more frames") {
		t.Errorf("the message does not count the frames left out of the whole trace:\n%s", got[0].plain)
	}
	if got[2].replyTo != got[0].id {
		t.Errorf("the recovery replies to %d, want the alert %d, not its trace file", got[2].replyTo, got[0].id)
	}
	for i, name := range map[int]string{0: "failed", 2: "recovered", 3: "digest"} {
		testkit.GoldenJSON(t, filepath.Join("testdata", name+".json.golden"), got[i].body, update)
	}
	doc := got[1]
	head := fmt.Sprintf("file: %s (%s)\ncaption: %s\nreply to the alert: %v\nsilent: %v\n\n",
		doc.fileName, doc.fileType, doc.plain, doc.replyTo == got[0].id, doc.silent)
	testkit.Golden(t, filepath.Join("testdata", "failed-trace.txt.golden"), append([]byte(head), doc.document...), update)
}
