package pagerduty

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// testKey is a routing key of the documented 32 characters.
const testKey = "SECRETroutingKEY0123456789abcdef"

var t0 = notifytest.T0 // the shared events' time

// hostile is database text that tries every trick: Slack and Discord
// mentions, HTML, a link, CRLF, a bidi override, a zero-width space and
// invalid UTF-8.
const hostile = "<!channel> @here @everyone <b>html</b> <a href=\"https://evil.example\">click</a> a & b\r\nsecond line \u202eevil\u202c z\u200bw \xff\xfe end"

func newNotifier(t *testing.T, f *fakePagerDuty, c *testkit.Clock) *Notifier {
	t.Helper()
	n, err := New(Config{RoutingKey: testKey, APIURL: f.srv.URL}, nil, c.Now, nil, WithSleep(c.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hostileFailure carries hostile text everywhere and a 1 MiB trace.
func hostileFailure() notify.Event {
	return notifytest.HostileTrace("operation.failed/"+strings.Repeat("Ä<b>", 200)+"/42", hostile)
}

func TestHostileEventPagesWithinLimitsAndShowsTheTextAsWritten(t *testing.T) {
	c := newClock()
	f := newFakePagerDuty(t, c)
	n := newNotifier(t, f, c)
	ev := hostileFailure()
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	got := f.sentEvents()
	if len(got) != 1 {
		t.Fatalf("%d events sent, want 1", len(got))
	}
	p := got[0].event["payload"].(map[string]any)
	d := p["custom_details"].(map[string]any)
	summary := p["summary"].(string)
	if !strings.HasSuffix(summary, truncMarker) {
		t.Errorf("the long summary is not marked as cut: %q", summary)
	}
	// PagerDuty shows text as written: nothing is escaped, only cleaned.
	for _, want := range []string{"<b>html</b>", "a & b", "@here", "\uFFFD"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q as written: %q", want, summary)
		}
	}
	for _, bad := range []string{"&lt;", "&amp;", "\u202e", "\u200b"} {
		if strings.Contains(string(got[0].body), bad) {
			t.Errorf("the event carries %q", bad)
		}
	}
	trace := d["trace"].(string)
	if !strings.Contains(trace, " more frames") || strings.Count(trace, "\n#") > maxFrames {
		t.Errorf("the trace does not say how many frames it leaves out:\n%s", trace)
	}
	for _, line := range strings.Split(trace, "\n") {
		if utf8.RuneCountInString(line) > maxFrameRunes {
			t.Errorf("a frame of %d runes, limit %d", utf8.RuneCountInString(line), maxFrameRunes)
		}
	}
	if m := d["message"].(string); utf8.RuneCountInString(m) > maxMessageRunes || !strings.HasSuffix(m, truncMarker) {
		t.Errorf("the message is %d runes or not marked as cut", utf8.RuneCountInString(m))
	}
	if len(got[0].body) > 200<<10 {
		t.Errorf("a hostile event takes %d bytes; the bounds should keep it far below 512 KB", len(got[0].body))
	}
	if k := got[0].key; !strings.Contains(k, "~") || utf8.RuneCountInString(k) != maxDedupKey {
		t.Errorf("a long key is cut to %d runes without its hash: %q", utf8.RuneCountInString(k), k)
	}
}

// A failure that first meets a 500, a restart (a new Notifier, the
// outbox sending the same event again), a reminder, and the recovery:
// PagerDuty has one incident, triggered and then resolved, all under one
// key.
func TestFailureRestartAndRecoveryGiveOneIncident(t *testing.T) {
	c := newClock()
	f := newFakePagerDuty(t, c)
	ctx := context.Background()
	const key = "operation.failed/2024_01_13_120000_FailedOperation/42"
	ev := notifytest.Failure(key)

	first := newNotifier(t, f, c)
	f.answerNext(http.StatusInternalServerError)
	if retry, err := first.Notify(ctx, []notify.Event{ev}); err == nil || !retry {
		t.Fatalf("Notify against a 500 = %v, %v; want a retryable error", retry, err)
	}
	if _, err := first.Notify(ctx, []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}

	// A new process over the same state: the outbox had not recorded the
	// delivery, so it sends the failure again, then a reminder.
	second := newNotifier(t, f, c)
	if _, err := second.Notify(ctx, []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	reminder := notify.Event{ID: "evt_reminder", Kind: notify.Reminder, Key: "reminder", App: "shop", Items: []notify.Event{ev}}
	if _, err := second.Notify(ctx, []notify.Event{reminder}); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Notify(ctx, []notify.Event{notifytest.Recovery(key)}); err != nil {
		t.Fatal(err)
	}

	incidents := f.allIncidents()
	if len(incidents) != 1 {
		t.Fatalf("%d incidents, want 1: %+v", len(incidents), incidents)
	}
	in := incidents[0]
	if want := "shop/" + key; in.key != want || !in.resolved || in.severity != "critical" {
		t.Errorf("incident %+v, want %s critical and resolved", in, want)
	}
	if in.triggers != 3 {
		t.Errorf("%d triggers reached the incident, want 3 (the retry, the restart's, the reminder's)", in.triggers)
	}
	for _, s := range f.sentEvents() {
		if s.key != in.key {
			t.Errorf("%s sent under %q, not the incident's key", s.action, s.key)
		}
	}
}

// A batch whose third request meets a 503 is retried whole by the outbox:
// what PagerDuty took is not sent again, so the resolved incident stays
// resolved and no second one opens.
func TestPartlySentBatchIsRetriedWithoutASecondIncident(t *testing.T) {
	c := newClock()
	f := newFakePagerDuty(t, c)
	n := newNotifier(t, f, c)
	ctx := context.Background()
	a, b := "operation.failed/A/1", "operation.failed/B/2"
	batch := []notify.Event{notifytest.Failure(a), notifytest.Recovery(a), notifytest.Failure(b)}
	f.answerNext(0, 0, http.StatusServiceUnavailable)
	if retry, err := n.Notify(ctx, batch); err == nil || !retry {
		t.Fatalf("Notify = %v, %v; want a retryable error", retry, err)
	}
	if _, err := n.Notify(ctx, batch); err != nil {
		t.Fatal(err)
	}
	incidents := f.allIncidents()
	if len(incidents) != 2 {
		t.Fatalf("%d incidents, want 2: %+v", len(incidents), incidents)
	}
	if !incidents[0].resolved || incidents[0].triggers != 1 || incidents[1].resolved {
		t.Errorf("incidents %+v: want A triggered once and resolved, B open", incidents)
	}
	if got := len(f.sentEvents()); got != 3 {
		t.Errorf("%d events reached PagerDuty, want 3", got)
	}
}

func TestDigestAndReminderOpenOneIncidentPerProblem(t *testing.T) {
	c := newClock()
	f := newFakePagerDuty(t, c)
	n := newNotifier(t, f, c)
	ctx := context.Background()
	items := []notify.Event{notifytest.Failure("operation.failed/A/1"), notifytest.Failure("operation.failed/B/2"), notifytest.Failure("operation.failed/C/3")}
	digest := notify.Event{ID: "dig_1", Kind: notify.Digest, Key: "digest/first-run", App: "shop", Summary: "3 past failures", Items: items}
	if _, err := n.Notify(ctx, []notify.Event{digest}); err != nil {
		t.Fatal(err)
	}
	reminder := notify.Event{ID: "evt_rem", Kind: notify.Reminder, Key: "reminder", App: "shop", Items: items}
	stuck := notifytest.Failure("operation.stuck/D/4")
	stuck.Kind, stuck.ID = notify.OperationStuck, "evt_stuck"
	if _, err := n.Notify(ctx, []notify.Event{reminder, stuck}); err != nil {
		t.Fatal(err)
	}
	incidents := f.allIncidents()
	if len(incidents) != 4 {
		t.Fatalf("%d incidents, want one per problem (4): %+v", len(incidents), incidents)
	}
	for i, in := range incidents[:3] {
		if in.triggers != 2 || in.resolved {
			t.Errorf("incident %d: %+v; want the digest's trigger and the reminder's, open", i, in)
		}
	}
	if in := incidents[3]; in.severity != "warning" || in.key != "shop/operation.stuck/D/4" {
		t.Errorf("stuck incident %+v, want severity warning under its own key", in)
	}
	for _, s := range summaries(f.sentEvents()) {
		if strings.Contains(s, "past failures") {
			t.Errorf("the digest itself was sent as an event: %q", s)
		}
	}
}

// A first run with 300 past failures pages each of them, and the events
// never exceed PagerDuty's 120 a minute per routing key (the receiver
// answers 429 and fails the test if they do).
func TestManyProblemsStayWithinTheRate(t *testing.T) {
	c := newClock()
	f := newFakePagerDuty(t, c)
	n := newNotifier(t, f, c)
	start := c.Now()
	items := make([]notify.Event, 300)
	for i := range items {
		items[i] = notifytest.Failure(fmt.Sprintf("operation.failed/op%d/%d", i, i))
	}
	digest := notify.Event{ID: "dig_2", Kind: notify.Digest, App: "shop", Items: items}
	if _, err := n.Notify(context.Background(), []notify.Event{digest}); err != nil {
		t.Fatal(err)
	}
	if got := len(f.allIncidents()); got != 300 {
		t.Errorf("%d incidents, want 300", got)
	}
	// 120 a minute: the 300th event cannot go before (300-120)/120 minutes.
	if took := c.Now().Sub(start); took < 90*time.Second {
		t.Errorf("300 events took %s of the clock; PagerDuty's rate needs at least 90s", took)
	}
}

// `seqwatch notify test` opens an info incident of its own and resolves
// it, without waiting.
func TestTestAlertOpensAndResolvesItsOwnIncident(t *testing.T) {
	c := newClock()
	f := newFakePagerDuty(t, c)
	n := newNotifier(t, f, c)
	start := c.Now()
	ev := notify.Event{ID: "evt_test_1", Kind: notify.Test, Key: "test", App: "shop", OccurredAt: t0, Summary: "seqwatch test alert: if you can read this, the channel works"}
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	in := f.allIncidents()
	if len(in) != 1 || !in[0].resolved || in[0].severity != "info" || in[0].key != "shop/test/evt_test_1" {
		t.Errorf("incidents %+v, want one info incident of the test's own, resolved", in)
	}
	if c.Now() != start {
		t.Errorf("the test alert waited %s", c.Now().Sub(start))
	}
}

func TestUnknownKindsPageAndRecoveriesResolve(t *testing.T) {
	tests := []struct {
		kind     notify.Kind
		action   string
		severity string
	}{
		{"operation.rolled_back", "trigger", "critical"},
		{"deferred.stuck", "trigger", "warning"},
		{"deferred.overdue", "trigger", "warning"},
		{notify.DeferredFailed, "trigger", "critical"},
		{notify.SourceUnreachable, "trigger", "critical"},
		{notify.PendingThreshold, "trigger", "warning"},
		{notify.OperationUnstuck, "resolve", ""},
		{notify.PendingCleared, "resolve", ""},
		{notify.SourceRecovered, "resolve", ""},
		{notify.ProblemClosed, "resolve", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			c := newClock()
			f := newFakePagerDuty(t, c)
			n := newNotifier(t, f, c)
			ev := notify.Event{ID: "evt_1", Kind: tt.kind, Key: string(tt.kind) + "/x", App: "shop", OccurredAt: t0, Summary: "something"}
			if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
				t.Fatal(err)
			}
			got := f.sentEvents()
			if len(got) != 1 || got[0].action != tt.action {
				t.Fatalf("sent %+v, want one %s", got, tt.action)
			}
			if tt.severity != "" {
				if s := got[0].event["payload"].(map[string]any)["severity"]; s != tt.severity {
					t.Errorf("severity %v, want %s", s, tt.severity)
				}
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int
		transport bool
		retry     bool
		after     time.Duration
		sent      int // events PagerDuty took
	}{
		{name: "429 retries after Retry-After", answers: []int{429}, retry: true, after: 30 * time.Second},
		{name: "500 retries", answers: []int{500}, retry: true},
		{name: "400 is permanent and the other problems still go", answers: []int{400}, sent: 2},
		{name: "403 is permanent and ends the call", answers: []int{403}},
		{name: "404 is permanent and ends the call", answers: []int{404}},
		{name: "unreachable retries", transport: true, retry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := newFakePagerDuty(t, c)
			f.answerNext(tt.answers...)
			cfg := Config{RoutingKey: testKey, APIURL: f.srv.URL}
			if tt.transport {
				cfg.APIURL = "http://" + notifytest.ClosedAddr(t)
			}
			n, err := New(cfg, nil, c.Now, nil, WithSleep(c.Sleep))
			if err != nil {
				t.Fatal(err)
			}
			batch := []notify.Event{notifytest.Failure("operation.failed/A/1"), notifytest.Failure("operation.failed/B/2"), notifytest.Failure("operation.failed/C/3")}
			retry, err := n.Notify(context.Background(), batch)
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
			if got := len(f.sentEvents()); got != tt.sent {
				t.Errorf("%d events taken, want %d", got, tt.sent)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(s, testKey) {
					t.Errorf("the error shows the routing key: %s", s)
				}
				if strings.Contains(s, "\n") {
					t.Errorf("the error is not one line: %q", s)
				}
			}
		})
	}
}

func TestEncodeGivesWayBeforeTheSizeLimit(t *testing.T) {
	ev := hostileFailure()
	e := trigger(testKey, dedupKey(ev), ev, content(ev))
	full, err := encode(e, maxEventBytes)
	if err != nil {
		t.Fatal(err)
	}
	limit := len(full) - 1000
	body, err := encode(trigger(testKey, dedupKey(ev), ev, content(ev)), limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > limit {
		t.Errorf("%d bytes, limit %d", len(body), limit)
	}
	if !bytes.Contains(body, []byte("left out: the event would exceed")) || !bytes.Contains(body, []byte(`"summary"`)) {
		t.Errorf("the event gave way without saying so, or lost its summary:\n%s", indent(body))
	}
	if _, err := encode(trigger(testKey, dedupKey(ev), ev, content(ev)), 100); err == nil {
		t.Error("an event that cannot fit encoded without an error")
	}
}

func TestDedupKeyIsTheApplicationsProblemKeyStableAndBounded(t *testing.T) {
	ev := notifytest.Failure("operation.failed/2024_01_13_120000_FailedOperation/42")
	if got := dedupKey(ev); got != "shop/operation.failed/2024_01_13_120000_FailedOperation/42" {
		t.Errorf("dedup key %q", got)
	}
	other := ev
	other.App = "blog"
	if dedupKey(other) == dedupKey(ev) {
		t.Error("two applications share a dedup key")
	}
	long := notifytest.Failure("operation.failed/" + strings.Repeat("x", 300) + "/1")
	long2 := notifytest.Failure("operation.failed/" + strings.Repeat("x", 300) + "/2")
	if a, b := dedupKey(long), dedupKey(long2); a == b || utf8.RuneCountInString(a) > maxDedupKey || a != dedupKey(long) {
		t.Errorf("long keys %q and %q: want distinct, stable, at most %d characters", a, b, maxDedupKey)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "routing key only", cfg: Config{RoutingKey: testKey}},
		{name: "EU service", cfg: Config{RoutingKey: testKey, APIURL: "https://events.eu.pagerduty.com"}},
		{name: "loopback http", cfg: Config{RoutingKey: testKey, APIURL: "http://127.0.0.1:8080/pd"}},
		{name: "no key", cfg: Config{}, want: "pagerduty.routing_key: required"},
		{name: "short key", cfg: Config{RoutingKey: "SECRETshort"}, want: "pagerduty.routing_key: 11 characters, but an Events API v2 integration key has 32"},
		{name: "key with a line break", cfg: Config{RoutingKey: notify.Secret(testKey[:31] + "\n")}, want: "pagerduty.routing_key: contains characters"},
		{name: "plain http elsewhere", cfg: Config{RoutingKey: testKey, APIURL: "http://pd.example.com"}, want: "pagerduty.api_url: plain http"},
		{name: "http allowed", cfg: Config{RoutingKey: testKey, APIURL: "http://pd.example.com", AllowHTTP: true}},
		{name: "full path", cfg: Config{RoutingKey: testKey, APIURL: "https://events.pagerduty.com/v2/enqueue"}, want: "pagerduty.api_url: ends in /v2/enqueue"},
		{name: "query", cfg: Config{RoutingKey: testKey, APIURL: "https://events.pagerduty.com/?x=1"}, want: "pagerduty.api_url: has a query"},
		{name: "negative timeout", cfg: Config{RoutingKey: testKey, Timeout: -time.Second}, want: "pagerduty.timeout: must be positive"},
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
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the error shows the routing key: %v", err)
			}
			if err == nil && (cfg.APIURL == "" || cfg.Timeout != notify.DefaultHTTPTimeout && tt.cfg.Timeout == 0) {
				t.Errorf("defaults not filled in: %+v", cfg)
			}
		})
	}
}

func TestChannelIsRegisteredWithTheEventsAPIRate(t *testing.T) {
	ct := Channel()
	if ct.Key != "pagerduty" || ct.RatePerSecond != 2 {
		t.Errorf("channel type %q at %v a second, want pagerduty at 2 (120 a minute)", ct.Key, ct.RatePerSecond)
	}
	cfg := ct.NewConfig().(*Config)
	cfg.RoutingKey = testKey
	if err := ct.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	if s := ct.Secrets(cfg); len(s) != 1 || s[0] != testKey {
		t.Errorf("secrets %v, want the routing key", s)
	}
	n, err := ct.New(cfg, notify.Deps{Name: "pager"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := n.(*Notifier); !ok {
		t.Errorf("built a %T", n)
	}
}

func TestDefaultEventsGolden(t *testing.T) {
	c := newClock()
	f := newFakePagerDuty(t, c)
	n := newNotifier(t, f, c)
	ev := notifytest.CutTrace()
	if _, err := n.Notify(context.Background(), []notify.Event{ev, notifytest.Recovery(ev.Key)}); err != nil {
		t.Fatal(err)
	}
	got := f.sentEvents()
	if len(got) != 2 {
		t.Fatalf("%d events, want the trigger and the resolve", len(got))
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "trigger.json.golden"), got[0].body, update)
	testkit.GoldenJSON(t, filepath.Join("testdata", "resolve.json.golden"), got[1].body, update)
}
