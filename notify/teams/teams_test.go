package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
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
	workflowPath = "/workflows/0a1b2c3d4e5f/triggers/manual/paths/invoke"
	sig          = "SIGsecretVALUEabcdefghijklmnopqrstuvwxyz0123"
	// maxTeamsMessage is Teams' documented message limit, "28 KB".
	maxTeamsMessage = 28 * 1000
)

type answer int

const (
	answerAccepted answer = iota
	answer429
	answer500
	answer401 // a wrong sig
	answer404 // the workflow was deleted or turned off
)

// fakeWorkflow stands in for a Workflows webhook with a "Post card in a
// chat or channel" step: it checks the envelope, the Adaptive Card and its
// size as Teams would, answers 202 with an empty body as a workflow does,
// and reports every violation as a test error.
type fakeWorkflow struct {
	notifytest.Receiver[answer, []byte]
}

func newFakeWorkflow(t *testing.T) *fakeWorkflow {
	f := &fakeWorkflow{}
	f.Start(t, f.serve)
	return f
}

func (f *fakeWorkflow) url() string {
	return f.Server.URL + workflowPath + "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig
}

func workflowError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (f *fakeWorkflow) serve(w http.ResponseWriter, r *http.Request) {
	t := f.T
	if r.Method != http.MethodPost {
		t.Errorf("%s: a workflow's trigger takes POST", r.Method)
		workflowError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "")
		return
	}
	if r.URL.Path != workflowPath {
		workflowError(w, http.StatusNotFound, "WorkflowNotFound", "")
		return
	}
	if f.Answer() == answer401 || r.URL.Query().Get("sig") != sig {
		workflowError(w, http.StatusUnauthorized, "DirectApiAuthorizationRequired", "The request must be authenticated; sig "+sig+" is not valid.")
		return
	}
	body, ok := f.JSONBody(r)
	if !ok {
		return
	}
	if len(body) > maxTeamsMessage {
		t.Errorf("the message is %d bytes, over Teams' 28 KB", len(body))
		workflowError(w, http.StatusRequestEntityTooLarge, "MessageSizeExceeded", "Request Entity too large")
		return
	}
	if problems := checkEnvelope(body); len(problems) > 0 {
		for _, p := range problems {
			t.Errorf("Teams would not show the card: %s", p)
		}
		workflowError(w, http.StatusBadRequest, "InvalidRequestContent", "The card is not valid.")
		return
	}
	switch f.Answer() {
	case answer429:
		w.Header().Set("Retry-After", "9")
		workflowError(w, http.StatusTooManyRequests, "WorkflowRequestsThrottled", "Rate limit is exceeded.")
		return
	case answer500:
		http.Error(w, "<html>Bad gateway</html>", http.StatusBadGateway)
		return
	case answer404:
		workflowError(w, http.StatusNotFound, "WorkflowNotFound", "The workflow could not be found.")
		return
	}
	f.Keep(body)
	w.WriteHeader(http.StatusAccepted) // and an empty body: nothing more is confirmed
}

// checkEnvelope applies the envelope a "Post card" step takes and the
// Adaptive Card schema of the elements seqwatch writes, strictly.
func checkEnvelope(body []byte) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !utf8.Valid(body) {
		bad("the body is not valid UTF-8")
	}
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string           `json:"contentType"`
			ContentURL  *json.RawMessage `json:"contentUrl"`
			Content     json.RawMessage  `json:"content"`
		} `json:"attachments"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		bad("not the message envelope: %v", err)
		return out
	}
	if m.Type != "message" || len(m.Attachments) != 1 {
		bad(`want {"type": "message"} with one attachment, got type %q and %d`, m.Type, len(m.Attachments))
		return out
	}
	a := m.Attachments[0]
	if a.ContentType != "application/vnd.microsoft.card.adaptive" {
		bad("contentType %q", a.ContentType)
	}
	if !bytes.Contains(body, []byte(`"contentUrl":null`)) {
		bad("contentUrl must be null")
	}
	var c struct {
		Schema  string `json:"$schema"`
		Type    string `json:"type"`
		Version string `json:"version"`
		Body    []map[string]json.RawMessage
		MSTeams struct {
			Width string `json:"width"`
		} `json:"msteams"`
	}
	dec = json.NewDecoder(bytes.NewReader(a.Content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		bad("not an Adaptive Card: %v", err)
		return out
	}
	if c.Type != "AdaptiveCard" || c.Version != "1.4" || !strings.EqualFold(c.MSTeams.Width, "full") || len(c.Body) == 0 {
		bad("card type %q version %q width %q, %d elements", c.Type, c.Version, c.MSTeams.Width, len(c.Body))
	}
	for i, el := range c.Body {
		at := fmt.Sprintf("body[%d]", i)
		var typ string
		_ = json.Unmarshal(el["type"], &typ)
		switch typ {
		case "TextBlock":
			var tb struct {
				Type, Text, Weight, Size, Color, FontType, Spacing string
				Wrap, IsSubtle                                     bool
			}
			if err := strictDecode(el, &tb); err != nil {
				bad("%s: %v", at, err)
				continue
			}
			if tb.Text == "" {
				bad("%s: a TextBlock needs text", at)
			}
			checkEnum(bad, at+" weight", tb.Weight, "Default", "Lighter", "Bolder")
			checkEnum(bad, at+" size", tb.Size, "Default", "Small", "Medium", "Large", "ExtraLarge")
			checkEnum(bad, at+" color", tb.Color, "Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention")
			checkEnum(bad, at+" fontType", tb.FontType, "Default", "Monospace")
			checkEnum(bad, at+" spacing", tb.Spacing, "Default", "None", "Small", "Medium", "Large", "ExtraLarge", "Padding")
			checkInert(bad, at, tb.Text)
		case "FactSet":
			var fs struct {
				Type  string
				Facts []struct{ Title, Value string }
			}
			if err := strictDecode(el, &fs); err != nil {
				bad("%s: %v", at, err)
				continue
			}
			if len(fs.Facts) == 0 {
				bad("%s: a FactSet needs facts", at)
			}
			for j, fc := range fs.Facts {
				checkInert(bad, fmt.Sprintf("%s fact %d title", at, j), fc.Title)
				checkInert(bad, fmt.Sprintf("%s fact %d value", at, j), fc.Value)
			}
		default:
			bad("%s: element type %q", at, typ)
		}
	}
	return out
}

func strictDecode(el map[string]json.RawMessage, v any) error {
	data, _ := json.Marshal(el)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func checkEnum(bad func(string, ...any), at, v string, allowed ...string) {
	if v == "" {
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	bad("%s: %q is not one of %v", at, v, allowed)
}

// What Adaptive Card markdown (and a CommonMark client) would read as
// formatting, a link or an HTML entity.
var (
	markupChars  = regexp.MustCompile("[*~`\\[\\]<&]|\\{\\{|://|(?i)www\\.|\\\\[!-/:-@\\[-`{-~]")
	looseUnder   = regexp.MustCompile(`(^|[^\pL\pN])_|_([^\pL\pN]|$)`)
	markupStarts = regexp.MustCompile(`^(\s|>|#+(\s|$)|[-+=](\s|$|[-+=])|\d+[.)](\s|$))`)
)

// checkInert fails on text that is not clean, or that a client would
// format or link.
func checkInert(bad func(string, ...any), at, s string) {
	if !utf8.ValidString(s) {
		bad("%s: invalid UTF-8", at)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			bad("%s: control or format character %U", at, r)
			return
		}
	}
	if loc := markupChars.FindStringIndex(s); loc != nil {
		bad("%s: markup %q near %q", at, s[loc[0]:loc[1]], near(s, loc[0]))
	}
	if loc := looseUnder.FindStringIndex(s); loc != nil {
		bad("%s: an underscore that may emphasise near %q", at, near(s, loc[0]))
	}
	if markupStarts.MatchString(s) {
		bad("%s: starts like a heading, list, quote or code: %q", at, near(s, 0))
	}
}

func near(s string, i int) string { return s[max(0, i-20):min(len(s), i+20)] }

const hostile = "<at>Everyone</at> @General [click](https://evil.example/x) https://evil.example/y www.evil.example **bold** _it_ ~~s~~ `code` " +
	"{{DATE(2017-02-14T06:08:39Z, SHORT)}} &#x202E; &lt;b&gt; <b>html</b> \\*esc\\* a & b\r\n# heading\r\n- list\r\n1. one\r\n> quote\r\n    indented\r\n=== \xff\xfe end \u202eevil\u200b"

var t0 = notifytest.T0

func hostileFailure(key string) notify.Event {
	return notifytest.ChatHostileFailure(key, hostile, "A*b_`")
}

var recovered = notifytest.ChatRecovery

func newNotifier(t *testing.T, f *fakeWorkflow) *Notifier {
	t.Helper()
	n, err := New(Config{WebhookURL: notify.Secret(f.url())}, f.Server.Client(), func() time.Time { return t0 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHostileEventArrivesInertAndUnder28KB(t *testing.T) {
	f := newFakeWorkflow(t)
	n := newNotifier(t, f)
	if _, err := n.Notify(context.Background(), []notify.Event{hostileFailure("k")}); err != nil {
		t.Fatal(err)
	}
	cards := f.Accepted()
	if len(cards) != 1 {
		t.Fatalf("%d cards, want 1", len(cards))
	}
	if !strings.Contains(string(cards[0]), "truncated") && !strings.Contains(string(cards[0]), "more lines") {
		t.Error("nothing was marked as cut, though the trace alone is 1 MiB")
	}
	// What the reader sees still says what the text said.
	for _, want := range []string{"＃ heading", "2024_01_13_120000_Failed", "∗∗bold∗∗", "［click］(https:⁄⁄evil.example⁄x)"} {
		if !strings.Contains(string(cards[0]), strings.ReplaceAll(want, "⁄x", "/x")) {
			t.Errorf("the card lost %q", want)
		}
	}
}

func TestDigestOfManyEventsIsOneCardUnder28KB(t *testing.T) {
	f := newFakeWorkflow(t)
	n := newNotifier(t, f)
	events := make([]notify.Event, 60)
	for i := range events {
		events[i] = hostileFailure(fmt.Sprintf("k%d", i))
	}
	if _, err := n.Notify(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	cards := f.Accepted()
	if len(cards) != 1 || !regexp.MustCompile(`… and \d+ more`).Match(cards[0]) {
		t.Fatalf("want one digest that says how many it leaves out, got %d cards", len(cards))
	}
}

func TestSendErrors(t *testing.T) {
	notifytest.CheckRefusals(t, []notifytest.RefusalCase[answer]{
		{Name: "429 waits for Retry-After", Answer: answer429, Want: notifytest.Refusal{Retry: true, After: 9 * time.Second}},
		{Name: "a 5xx retries", Answer: answer500, Want: notifytest.Refusal{Retry: true}},
		{Name: "a wrong sig is permanent", Answer: answer401, Want: notifytest.Refusal{}},
		{Name: "a deleted workflow is permanent", Answer: answer404, Want: notifytest.Refusal{}},
	}, func(t *testing.T, a answer) (bool, error) {
		f := newFakeWorkflow(t)
		f.SetAnswer(a)
		return newNotifier(t, f).Notify(context.Background(), []notify.Event{recovered("k")})
	}, sig)
}

func TestTransportErrorRetriesWithoutTheURL(t *testing.T) {
	f := newFakeWorkflow(t)
	n := newNotifier(t, f)
	f.Server.Close()
	retry, err := n.Notify(context.Background(), []notify.Event{recovered("k")})
	if err == nil || !retry || strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), "workflows") {
		t.Fatalf("retry=%v err=%v, want a retryable error without the URL", retry, err)
	}
}

func TestValidate(t *testing.T) {
	good := "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=" + sig
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"a Workflows URL", Config{WebhookURL: notify.Secret(good)}, ""},
		{"a Power Platform URL", Config{WebhookURL: notify.Secret("https://default0a1b.2c.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=" + sig)}, ""},
		{"loopback http", Config{WebhookURL: "http://127.0.0.1:9/workflows/x"}, ""},
		{"a retired connector", Config{WebhookURL: notify.Secret("https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/" + sig + "/ghi")}, "Microsoft has retired; make a Workflows webhook instead"},
		{"the oldest connector URL", Config{WebhookURL: notify.Secret("https://outlook.office.com/webhook/abc/IncomingWebhook/" + sig)}, "retired"},
		{"no URL", Config{}, "Post to a channel when a webhook request is received"},
		{"plain http elsewhere", Config{WebhookURL: "http://proxy.internal/x"}, "allow_http"},
		{"plain http allowed", Config{WebhookURL: "http://proxy.internal/x", AllowHTTP: true}, ""},
		{"a negative timeout", Config{WebhookURL: notify.Secret(good), Timeout: -1}, "timeout: must be positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			notifytest.CheckConfigError(t, c.cfg.Validate(), c.want, sig)
		})
	}
}

func TestInertKeepsWhatTheTextSaysAndNothingElse(t *testing.T) {
	cases := []struct{ in, want string }{
		{"2024_01_13_120000_FailedOperation", "2024_01_13_120000_FailedOperation"},
		{"_it_ and snake_case", "ˍitˍ and snake_case"},
		{"**bold** [a](http://b)", "∗∗bold∗∗ ［a］(http:⁄⁄b)"},
		{"# h", "＃ h"},
		{"- item", "‐ item"},
		{"12. twelve", "12． twelve"},
		{"  > quoted", "› quoted"},
		{"#0 /app/Foo.php(12): Foo->bar()", "#0 /app/Foo.php(12): Foo->bar()"},
		{"--- ruler", "‐-- ruler"},
		{"-1 degrees", "-1 degrees"},
		{`App\Models\User`, `App\Models\User`},
		{`\*not an escape\*`, `⧵∗not an escape⧵∗`},
		{"{{DATE(x)}} &lt;", "{｛DATE(x)}} ＆lt;"},
		{"see WWW.example.com", "see WWW․example.com"},
	}
	for _, c := range cases {
		if got := inert(c.in); got != c.want {
			t.Errorf("inert(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// cutTraceEvent is an operation.failed event as the state builds it from a
// 9,187-frame trace, with zero-width and bidi characters and a mention.
func cutTraceEvent() notify.Event {
	return notifytest.HostileCutTrace("<at>Everyone</at> ", "SQLSTATE[08006] conn\u200bection refused\n(Connection: pgsql)")
}

// setup is a notifier on a new fake workflow.
func setup(t *testing.T) (notify.Notifier, func() [][]byte) {
	f := newFakeWorkflow(t)
	return newNotifier(t, f), f.Accepted
}

func TestMessageGolden(t *testing.T) {
	notifytest.GoldenMessages(t, ".json.golden", []notifytest.Golden{
		{Name: "failed", Events: []notify.Event{cutTraceEvent()}, Want: "and 9177 more frames"},
		{Name: "recovered", Events: []notify.Event{recovered("operation.failed/2024_01_13_120000_FailedOperation/42")}},
		{Name: "digest", Events: []notify.Event{cutTraceEvent(), recovered("k")}},
	}, setup, update)
}

// Text of three-byte characters fills a card past 28 KB at full length:
// the card shows fewer and shorter lines until it fits.
func TestLongTextShrinksTheCardUnder28KB(t *testing.T) {
	ev := hostileFailure("k")
	line := strings.Repeat("漢字", 400)
	ev.Errors[0].Message = strings.Repeat(line+"\n", 40)
	ev.Errors[0].Trace = strings.Repeat("#1 "+line+"\n", 40)
	ev.Errors = ev.Errors[:1]
	title, body := notify.DefaultWords([]notify.Event{ev})
	if full, _ := encode(buildCard([]notify.Event{ev}, title, body, budgets()[0])); len(full) <= maxTeamsMessage {
		t.Fatalf("the full card is %d bytes: the test does not exceed the limit", len(full))
	}
	f := newFakeWorkflow(t)
	if _, err := newNotifier(t, f).Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	cards := f.Accepted()
	if len(cards) != 1 || !strings.Contains(string(cards[0]), "more lines") {
		t.Fatalf("want one card that says it left lines out, got %d", len(cards))
	}
}
