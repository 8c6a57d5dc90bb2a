package opsgenie

import (
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

// testKey is an API integration key, as Opsgenie shows one (a UUID).
const testKey = "eb243592-faa2-4ba2-SECRET-1afdf565c889"

var t0 = notifytest.T0 // the shared events' time

// hostile is database text that tries every trick: mentions, HTML that
// Opsgenie would render, a link, CRLF, a bidi override, a zero-width space
// and invalid UTF-8.
const hostile = "<!channel> @here <b>html</b> <a href=\"https://evil.example\">click</a> <img src=x onerror=alert(1)> a & b &amp; c\r\nsecond line \u202eevil\u202c z\u200bw \xff\xfe end"

func newNotifier(t *testing.T, f *fakeOpsgenie, c *testkit.Clock) *Notifier {
	t.Helper()
	n, err := New(Config{APIKey: testKey, APIURL: f.srv.URL}, nil, c.Now, nil, WithSleep(c.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hostileFailure carries hostile text everywhere and a 1 MiB trace.
func hostileFailure() notify.Event {
	return notifytest.HostileTrace("operation.failed/"+strings.Repeat("Ä<b>/", 200)+"/42", hostile)
}

func TestHostileEventArrivesEscapedAndWithinLimits(t *testing.T) {
	c := newClock()
	f := newFakeOpsgenie(t, c)
	n := newNotifier(t, f, c)
	ev := hostileFailure()
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	got := f.taken()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	b := got[0].body
	msg, desc := str(b, "message"), str(b, "description")
	if !strings.HasSuffix(msg, "…") {
		t.Errorf("the long message is not marked as cut: %q", msg)
	}
	for _, want := range []string{"&lt;b&gt;html&lt;/b&gt;", "&lt;a href=\"https://evil.example\"&gt;", "&lt;img src=x", "a &amp; b &amp;amp; c", "\uFFFD", truncMarker, " more frames"} {
		if !strings.Contains(desc, want) {
			t.Errorf("description lacks %q", want)
		}
	}
	if strings.Contains(string(got[0].raw), "\u202e") || strings.Contains(string(got[0].raw), "\u200b") {
		t.Error("the request carries a bidi override or a zero-width space")
	}
	if a := got[0].alias; utf8.RuneCountInString(a) > maxAlias || strings.ContainsAny(a, "/<>&% ") {
		t.Errorf("alias %q: over the limit or not path-safe", a)
	}
	for _, tag := range b["tags"].([]any) {
		if strings.ContainsAny(tag.(string), "<>&\r\n ") {
			t.Errorf("tag %q is not clean", tag)
		}
	}
}

// A failure that first meets a 500, a restart (a new Notifier, the
// outbox sending the same event again), a reminder, and the recovery:
// Opsgenie has one alert, created and then closed, all under one alias.
func TestFailureRestartAndRecoveryGiveOneAlert(t *testing.T) {
	c := newClock()
	f := newFakeOpsgenie(t, c)
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

	alerts := f.allAlerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1: %+v", len(alerts), alerts)
	}
	a := alerts[0]
	if !a.closed || a.priority != "P2" || a.count != 3 {
		t.Errorf("alert %+v, want P2, counted 3 times (the retry, the restart's, the reminder's), closed", a)
	}
	if !strings.Contains(a.note, "recovered") {
		t.Errorf("the close note does not say it recovered: %q", a.note)
	}
	for _, cl := range f.taken() {
		if cl.alias != a.alias {
			t.Errorf("%s under %q, not the alert's alias", cl.action, cl.alias)
		}
	}
}

func TestPartlySentBatchIsRetriedWithoutASecondAlert(t *testing.T) {
	c := newClock()
	f := newFakeOpsgenie(t, c)
	n := newNotifier(t, f, c)
	ctx := context.Background()
	a, b := "operation.failed/A/1", "operation.failed/B/2"
	batch := []notify.Event{notifytest.Failure(a), notifytest.Recovery(a), notifytest.Failure(b)}
	f.answerNext(0, 0, http.StatusBadGateway)
	if retry, err := n.Notify(ctx, batch); err == nil || !retry {
		t.Fatalf("Notify = %v, %v; want a retryable error", retry, err)
	}
	if _, err := n.Notify(ctx, batch); err != nil {
		t.Fatal(err)
	}
	alerts := f.allAlerts()
	if len(alerts) != 2 || !alerts[0].closed || alerts[0].count != 1 || alerts[1].closed {
		t.Errorf("alerts %+v: want A created once and closed, B open", alerts)
	}
}

func TestDigestAndReminderCreateOneAlertPerProblem(t *testing.T) {
	c := newClock()
	f := newFakeOpsgenie(t, c)
	n := newNotifier(t, f, c)
	ctx := context.Background()
	items := []notify.Event{notifytest.Failure("operation.failed/A/1"), notifytest.Failure("operation.failed/B/2"), notifytest.Failure("operation.failed/C/3")}
	digest := notify.Event{ID: "dig_1", Kind: notify.Digest, Key: "digest/first-run", App: "shop", Summary: "3 past failures", Items: items}
	if _, err := n.Notify(ctx, []notify.Event{digest}); err != nil {
		t.Fatal(err)
	}
	pending := notify.Event{ID: "evt_p", Kind: notify.PendingThreshold, Key: "pending.threshold", App: "shop", Summary: "120 operations pending (threshold 100)",
		Pending: &notify.PendingCount{Count: 120, Threshold: 100, Names: []string{"a", "b"}}}
	reminder := notify.Event{ID: "evt_rem", Kind: notify.Reminder, Key: "reminder", App: "shop", Items: items}
	if _, err := n.Notify(ctx, []notify.Event{reminder, pending}); err != nil {
		t.Fatal(err)
	}
	alerts := f.allAlerts()
	if len(alerts) != 4 {
		t.Fatalf("%d alerts, want one per problem (4): %+v", len(alerts), alerts)
	}
	for i, a := range alerts[:3] {
		if a.count != 2 || a.closed {
			t.Errorf("alert %d: %+v; want the digest's create and the reminder's, open", i, a)
		}
	}
	if a := alerts[3]; a.priority != "P3" {
		t.Errorf("pending alert %+v, want P3", a)
	}
	for _, a := range alerts {
		if strings.Contains(a.message, "past failures") {
			t.Errorf("the digest itself became an alert: %q", a.message)
		}
	}
}

func TestManyProblemsArePacedAtOneRequestASecond(t *testing.T) {
	c := newClock()
	f := newFakeOpsgenie(t, c)
	n := newNotifier(t, f, c)
	start := c.Now()
	items := make([]notify.Event, 100)
	for i := range items {
		items[i] = notifytest.Failure(fmt.Sprintf("operation.failed/op%d/%d", i, i))
	}
	if _, err := n.Notify(context.Background(), []notify.Event{{ID: "dig_2", Kind: notify.Digest, App: "shop", Items: items}}); err != nil {
		t.Fatal(err)
	}
	if got := len(f.allAlerts()); got != 100 {
		t.Errorf("%d alerts, want 100", got)
	}
	if took := c.Now().Sub(start); took < 95*time.Second {
		t.Errorf("100 requests took %s of the clock, want at least 95s at one a second after a burst of %d", took, pacerBurst)
	}
}

func TestTestAlertCreatesAndClosesItsOwnAlert(t *testing.T) {
	c := newClock()
	f := newFakeOpsgenie(t, c)
	n := newNotifier(t, f, c)
	ev := notify.Event{ID: "evt_test_1", Kind: notify.Test, Key: "test", App: "shop", OccurredAt: t0, Summary: "seqwatch test alert: if you can read this, the channel works"}
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	a := f.allAlerts()
	if len(a) != 1 || !a[0].closed || a[0].priority != "P5" || !strings.HasPrefix(a[0].alias, "shop_test_evt_test_1~") {
		t.Errorf("alerts %+v, want one P5 alert of the test's own, closed", a)
	}
}

func TestUnknownKindsCreateAndRecoveriesClose(t *testing.T) {
	tests := []struct {
		kind     notify.Kind
		action   string
		priority string
	}{
		{"operation.rolled_back", "create", "P2"},
		{"deferred.stuck", "create", "P3"},
		{notify.DeferredFailed, "create", "P2"},
		{notify.SourceUnreachable, "create", "P2"},
		{notify.OperationUnstuck, "close", ""},
		{notify.PendingCleared, "close", ""},
		{notify.SourceRecovered, "close", ""},
		{notify.ProblemClosed, "close", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			c := newClock()
			f := newFakeOpsgenie(t, c)
			n := newNotifier(t, f, c)
			ev := notify.Event{ID: "evt_1", Kind: tt.kind, Key: string(tt.kind) + "/x", App: "shop", OccurredAt: t0, Summary: "something"}
			if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
				t.Fatal(err)
			}
			got := f.taken()
			if len(got) != 1 || got[0].action != tt.action {
				t.Fatalf("requests %+v, want one %s", got, tt.action)
			}
			if tt.priority != "" && str(got[0].body, "priority") != tt.priority {
				t.Errorf("priority %s, want %s", str(got[0].body, "priority"), tt.priority)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int
		transport bool
		badKey    bool
		retry     bool
		after     time.Duration
		taken     int
	}{
		{name: "429 retries after Retry-After", answers: []int{429}, retry: true, after: 12 * time.Second},
		{name: "503 retries", answers: []int{503}, retry: true},
		{name: "422 is permanent and the other problems still go", answers: []int{422}, taken: 2},
		{name: "402 is permanent and ends the call", answers: []int{402}},
		{name: "a wrong key is permanent", badKey: true},
		{name: "unreachable retries", transport: true, retry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := newFakeOpsgenie(t, c)
			f.answerNext(tt.answers...)
			cfg := Config{APIKey: testKey, APIURL: f.srv.URL}
			if tt.transport {
				cfg.APIURL = "http://" + notifytest.ClosedAddr(t)
			}
			if tt.badKey {
				f.key, f.wrongKeyExpected = "another-key", true
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
			if got := len(f.taken()); got != tt.taken {
				t.Errorf("%d requests taken, want %d", got, tt.taken)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(s, "SECRET") {
					t.Errorf("the error shows the API key: %s", s)
				}
				if strings.Contains(s, "\n") {
					t.Errorf("the error is not one line: %q", s)
				}
			}
		})
	}
}

func TestAliasIsPathSafeStableAndDistinct(t *testing.T) {
	ev := notifytest.Failure("operation.failed/2024_01_13_120000_FailedOperation/42")
	a := alias(ev)
	if !strings.HasPrefix(a, "shop_operation.failed_2024_01_13_120000_FailedOperation_42~") || a != alias(ev) {
		t.Errorf("alias %q: want the application and key, readable, and the same every time", a)
	}
	// Keys that read alike once made path-safe still get their own alias.
	x, y := notifytest.Failure("operation.failed/a/b"), notifytest.Failure("operation.failed/a_b")
	if alias(x) == alias(y) {
		t.Errorf("two problems share the alias %q", alias(x))
	}
	other := ev
	other.App = "blog"
	if alias(other) == a {
		t.Error("two applications share an alias")
	}
	long := notifytest.Failure("operation.failed/" + strings.Repeat("é", 2000))
	if n := utf8.RuneCountInString(alias(long)); n > maxAlias {
		t.Errorf("alias of %d characters, limit %d", n, maxAlias)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		want    string
		wantURL string
	}{
		{name: "US by default", cfg: Config{APIKey: testKey}, wantURL: USAPIURL},
		{name: "us", cfg: Config{APIKey: testKey, Region: "us"}, wantURL: USAPIURL},
		{name: "eu", cfg: Config{APIKey: testKey, Region: "eu"}, wantURL: EUAPIURL},
		{name: "api_url", cfg: Config{APIKey: testKey, APIURL: "http://127.0.0.1:9/og"}, wantURL: "http://127.0.0.1:9/og"},
		{name: "no key", cfg: Config{}, want: "opsgenie.api_key: required"},
		{name: "key with a line break", cfg: Config{APIKey: testKey + "\n"}, want: "opsgenie.api_key: contains white space"},
		{name: "unknown region", cfg: Config{APIKey: testKey, Region: "EU-west"}, want: `opsgenie.region: must be us or eu (got "EU-west")`},
		{name: "region and api_url", cfg: Config{APIKey: testKey, Region: "eu", APIURL: "https://og.example.com"}, want: "opsgenie.region: api_url is set too"},
		{name: "plain http elsewhere", cfg: Config{APIKey: testKey, APIURL: "http://og.example.com"}, want: "opsgenie.api_url: plain http"},
		{name: "full path", cfg: Config{APIKey: testKey, APIURL: "https://api.opsgenie.com/v2/alerts"}, want: "opsgenie.api_url: contains /v2/alerts"},
		{name: "negative timeout", cfg: Config{APIKey: testKey, Timeout: -time.Second}, want: "opsgenie.timeout: must be positive"},
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
				t.Errorf("the error shows the API key: %v", err)
			}
			if tt.wantURL != "" && cfg.APIURL != tt.wantURL {
				t.Errorf("api_url %q, want %q", cfg.APIURL, tt.wantURL)
			}
		})
	}
}

func TestChannelIsRegistered(t *testing.T) {
	ct := Channel()
	if ct.Key != "opsgenie" || ct.RatePerSecond != pacerRate {
		t.Errorf("channel type %q at %v a second", ct.Key, ct.RatePerSecond)
	}
	cfg := ct.NewConfig().(*Config)
	cfg.APIKey, cfg.Region = testKey, "eu"
	if err := ct.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	if s := ct.Secrets(cfg); len(s) != 1 || s[0] != testKey {
		t.Errorf("secrets %v, want the API key", s)
	}
	if _, err := ct.New(cfg, notify.Deps{Name: "og"}); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultRequestsGolden(t *testing.T) {
	c := newClock()
	f := newFakeOpsgenie(t, c)
	n := newNotifier(t, f, c)
	ev := notifytest.CutTrace()
	if _, err := n.Notify(context.Background(), []notify.Event{ev, notifytest.Recovery(ev.Key)}); err != nil {
		t.Fatal(err)
	}
	got := f.taken()
	if len(got) != 2 {
		t.Fatalf("%d requests, want the create and the close", len(got))
	}
	if !strings.Contains(str(got[0].body, "description"), "… and 9167 more frames") {
		t.Errorf("the description does not count the frames left out of the whole trace")
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "create.json.golden"), got[0].raw, update)
	testkit.GoldenJSON(t, filepath.Join("testdata", "close.json.golden"), got[1].raw, update)
}
