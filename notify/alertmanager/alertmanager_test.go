package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/notify"
)

// baseTime is the injected clock of the tests that need no real
// Alertmanager.
func baseTime() time.Time { return time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC) }

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// peer is an HTTP endpoint that answers POST /api/v2/alerts as told and
// keeps what it got, decoded strictly as Alertmanager's postableAlerts.
type peer struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int
	body   string
	header map[string]string // set on every answer
	got    [][]Alert
	auth   []string
}

func newPeer(t *testing.T, status int, body string) *peer {
	t.Helper()
	p := &peer{status: status, body: body}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != APIPath || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "not an alerts post: "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var alerts []Alert
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&alerts); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.got = append(p.got, alerts)
		p.auth = append(p.auth, r.Header.Get("Authorization"))
		for k, v := range p.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(p.status)
		io.WriteString(w, p.body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) posts() [][]Alert {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]Alert(nil), p.got...)
}

func failedEvent(key, op string, at time.Time) notify.Event {
	return notify.Event{
		ID: "ev-" + key, Kind: notify.OperationFailed, Key: key, App: "shop", Environment: "production",
		OccurredAt: at, Summary: op + " failed: RuntimeException: Database connection lost",
		Operation: &notify.Operation{ID: "42", Name: op, Type: "sync", ExecutedAt: at},
		Errors: []notify.Error{{
			Exception: "RuntimeException", Message: "Database connection lost",
			Trace: "#0 /app/database/operations/x.php(12): handle()\n#1 {main}", CreatedAt: at,
		}},
	}
}

func recoveredEvent(key, op string, at time.Time) notify.Event {
	return notify.Event{
		ID: "rec-" + key, Kind: notify.OperationRecovered, Key: key, App: "shop", Environment: "production",
		OccurredAt: at, Summary: op + " recovered",
		Operation: &notify.Operation{ID: "42", Name: op, Type: "sync", ExecutedAt: at},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none: valid
	}{
		{"loopback http needs no key", Config{URLs: []string{"http://127.0.0.1:9093", "http://localhost:9094", "http://[::1]:9095"}}, nil},
		{"https anywhere", Config{URLs: []string{"https://am.example.com/alertmanager"}}, nil},
		{"private http with allow_http", Config{URLs: []string{"http://10.0.0.5:9093"}, AllowHTTP: true}, nil},
		{"private http without allow_http says why and how", Config{URLs: []string{"http://10.0.0.5:9093"}},
			[]string{"urls[0]", "private network", "allow_http: true"}},
		{"no urls", Config{}, []string{"urls: required"}},
		{"password in the URL", Config{URLs: []string{"https://u:hunter22@am.example.com"}}, []string{"urls[0]", "basic_auth"}},
		{"same Alertmanager twice", Config{URLs: []string{"http://127.0.0.1:9093", "http://127.0.0.1:9093/api/v2/alerts"}}, []string{"urls[1]", "twice"}},
		{"other scheme", Config{URLs: []string{"ftp://am"}}, []string{"scheme must be http or https"}},
		{"own label", Config{URLs: []string{"http://127.0.0.1:9093"}, Labels: map[string]string{"severity": "page"}}, []string{"labels.severity", "seqwatch sets severity"}},
		{"reserved label", Config{URLs: []string{"http://127.0.0.1:9093"}, Labels: map[string]string{"__x": "1"}}, []string{"labels.__x", "reserved"}},
		{"empty label value", Config{URLs: []string{"http://127.0.0.1:9093"}, Labels: map[string]string{"team": ""}}, []string{"labels.team", "empty value"}},
		{"basic auth and bearer token", Config{URLs: []string{"http://127.0.0.1:9093"}, BasicAuth: &BasicAuth{Username: "u", Password: "hunter22"}, BearerToken: "tok-123456"},
			[]string{"not both"}},
		{"basic auth without password", Config{URLs: []string{"http://127.0.0.1:9093"}, BasicAuth: &BasicAuth{Username: "u"}}, []string{"password_file"}},
		{"ends_after shorter than a tick could be", Config{URLs: []string{"http://127.0.0.1:9093"}, EndsAfter: 10 * time.Second}, []string{"ends_after", "at least 1m"}},
		{"negative timeout", Config{URLs: []string{"http://127.0.0.1:9093"}, Timeout: -time.Second}, []string{"timeout: must be positive"}},
		{"bad generator_url", Config{URLs: []string{"http://127.0.0.1:9093"}, GeneratorURL: "/status"}, []string{"generator_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if cfg.Timeout != DefaultTimeout {
					t.Errorf("timeout default not filled in: %s", cfg.Timeout)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tt.cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range []string{"hunter22", "tok-123456"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret: %q", err)
				}
			}
		})
	}
}

func TestEndpointAppendsTheAPIPath(t *testing.T) {
	tests := map[string]string{
		"http://127.0.0.1:9093":                          "http://127.0.0.1:9093/api/v2/alerts",
		"http://127.0.0.1:9093/":                         "http://127.0.0.1:9093/api/v2/alerts",
		"https://example.com/alertmanager/":              "https://example.com/alertmanager/api/v2/alerts",
		"https://example.com/alertmanager/api/v2/alerts": "https://example.com/alertmanager/api/v2/alerts",
	}
	for in, want := range tests {
		if got := endpoint(in); got != want {
			t.Errorf("endpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEventsBecomeAlertsWithLabelsAndAnnotations(t *testing.T) {
	now := baseTime()
	at := now.Add(-time.Hour)
	stuckOp := &notify.Operation{ID: "7", Name: "2024_02_01_000000_Slow", ExecutedAt: at, RunningFor: time.Hour}
	tests := []struct {
		name       string
		event      notify.Event
		labels     map[string]string
		annotation map[string]string
		firing     bool
	}{
		{"failed operation is critical", failedEvent("operation.failed/Op/42", "Op", at),
			map[string]string{"alertname": AlertOperationFailed, "app": "shop", "environment": "production", "operation": "Op", "severity": "critical", "team": "payments"},
			map[string]string{"exception": "RuntimeException", "message": "Database connection lost", "trace": "#0 /app/database/operations/x.php(12): handle()\n#1 {main}"}, true},
		{"recovery resolves the same alert", recoveredEvent("operation.failed/Op/42", "Op", at),
			map[string]string{"alertname": AlertOperationFailed, "app": "shop", "environment": "production", "operation": "Op", "severity": "critical", "team": "payments"},
			map[string]string{"summary": "Op recovered"}, false},
		{"stuck operation is a warning", notify.Event{Kind: notify.OperationStuck, Key: "operation.stuck/x/7", App: "shop", OccurredAt: at, Summary: "slow", Operation: stuckOp},
			map[string]string{"alertname": AlertOperationStuck, "app": "shop", "operation": "2024_02_01_000000_Slow", "severity": "warning", "team": "payments"},
			map[string]string{"summary": "slow"}, true},
		{"pending pile-up", notify.Event{Kind: notify.PendingThreshold, Key: "pending", App: "shop", OccurredAt: at, Summary: "12 pending", Pending: &notify.PendingCount{Count: 12, Threshold: 10}},
			map[string]string{"alertname": AlertPendingPileUp, "app": "shop", "severity": "warning", "team": "payments"},
			map[string]string{"pending": "12 (threshold 10)"}, true},
		{"deferred exhausted names its operation", notify.Event{Kind: notify.DeferredFailed, Key: "deferred/3", App: "shop", OccurredAt: at, Summary: "gave up",
			Deferred: &notify.DeferredError{ID: "3", Operation: "SendMail", Attempts: 3, MaxAttempts: 3, LastError: "SMTP down"}},
			map[string]string{"alertname": AlertDeferredExhausted, "app": "shop", "operation": "SendMail", "severity": "critical", "team": "payments"},
			map[string]string{"message": "SMTP down", "attempts": "3 of 3"}, true},
		{"unreachable source", notify.Event{Kind: notify.SourceUnreachable, Key: "source", App: "shop", OccurredAt: at, Summary: "cannot read shop", Source: "connection refused"},
			map[string]string{"alertname": AlertSourceUnreachable, "app": "shop", "severity": "critical", "team": "payments"},
			map[string]string{"message": "connection refused"}, true},
		{"a missing discovery directory is not the database", notify.Event{Kind: notify.SourceUnreachable, Key: notify.FilesKeyPrefix + "/srv/shop/database/operations", App: "shop", OccurredAt: at, Summary: "no directory", Source: "no such directory"},
			map[string]string{"alertname": AlertDirectoryMissing, "app": "shop", "severity": "critical", "team": "payments"},
			map[string]string{"message": "no such directory"}, true},
		{"rolled-back operation is a warning", notify.Event{Kind: notify.OperationRolledBack, Key: "operation.rolled_back/Op/9", App: "shop", OccurredAt: at,
			Summary: "Op was rolled back after Next failed", Operation: &notify.Operation{ID: "9", Name: "Op", ExecutedAt: at, RolledBackAt: &at},
			Cause: &notify.Operation{ID: "10", Name: "Next", ExecutedAt: at, FailedAt: &at}},
			map[string]string{"alertname": AlertOperationRolledBack, "app": "shop", "operation": "Op", "severity": "warning", "team": "payments"},
			map[string]string{"summary": "Op was rolled back after Next failed"}, true},
		{"deferred operations stuck in processing", notify.Event{Kind: notify.DeferredStuck, Key: "deferred.stuck", App: "shop", OccurredAt: at, Summary: "2 deferred operations in processing"},
			map[string]string{"alertname": AlertDeferredStuck, "app": "shop", "severity": "warning", "team": "payments"},
			map[string]string{"summary": "2 deferred operations in processing"}, true},
		{"deferred operations overdue", notify.Event{Kind: notify.DeferredOverdue, Key: "deferred.overdue", App: "shop", OccurredAt: at, Summary: "5 deferred operations pending"},
			map[string]string{"alertname": AlertDeferredOverdue, "app": "shop", "severity": "warning", "team": "payments"},
			map[string]string{"summary": "5 deferred operations pending"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPeer(t, http.StatusOK, "")
			n, err := New(Config{URLs: []string{p.srv.URL}, Labels: map[string]string{"team": "payments"}, GeneratorURL: "https://seqwatch.example.com/"}, nil, fixed(now), nil)
			if err != nil {
				t.Fatal(err)
			}
			if retry, err := n.Notify(context.Background(), []notify.Event{tt.event}); err != nil {
				t.Fatalf("Notify: retry=%v %v", retry, err)
			}
			posts := p.posts()
			if len(posts) != 1 || len(posts[0]) != 1 {
				t.Fatalf("want one post of one alert, got %+v", posts)
			}
			a := posts[0][0]
			if fmt.Sprint(a.Labels) != fmt.Sprint(tt.labels) {
				t.Errorf("labels = %v, want %v", a.Labels, tt.labels)
			}
			for k, v := range tt.annotation {
				if a.Annotations[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, a.Annotations[k], v)
				}
			}
			if a.GeneratorURL != "https://seqwatch.example.com/" {
				t.Errorf("generatorURL = %q", a.GeneratorURL)
			}
			wantEnd := rfc3339(now.Add(DefaultEndsAfter))
			if tt.firing {
				if a.StartsAt != rfc3339(at) || a.EndsAt != wantEnd {
					t.Errorf("firing alert: startsAt %s endsAt %s, want %s and %s", a.StartsAt, a.EndsAt, rfc3339(at), wantEnd)
				}
			} else if a.EndsAt != rfc3339(at) {
				t.Errorf("resolving alert: endsAt %s, want the recovery's time %s", a.EndsAt, rfc3339(at))
			}
		})
	}
}

func TestAnnotationsStayWithinLimits(t *testing.T) {
	var trace strings.Builder
	for i := range 500 {
		fmt.Fprintf(&trace, "#%d /var/www/shop/vendor/laravel/framework/src/Illuminate/Pipeline/Pipeline.php(%d): Illuminate\\Pipeline\\Pipeline->handle()\n", i, i)
	}
	ev := failedEvent("k", "Op", baseTime())
	ev.Summary = strings.Repeat("ü", 3000)
	ev.Errors[0].Message = strings.Repeat("message \u200b\x1b[31m ", 2000)
	ev.Errors[0].Trace = trace.String()
	ev.Errors[0].Exception = strings.Repeat("E", 2000)
	a := annotations(ev)
	limits := map[string]int{"summary": maxSummary, "message": maxMessage, "trace": maxTrace, "exception": maxException}
	for k, max := range limits {
		v := a[k]
		if v == "" || len(v) > max || !utf8.ValidString(v) {
			t.Errorf("%s: %d bytes (limit %d), valid UTF-8 %v", k, len(v), max, utf8.ValidString(v))
		}
	}
	if strings.ContainsAny(a["message"], "\x1b\u200b") {
		t.Errorf("message keeps control or invisible characters: %q", a["message"][:80])
	}
	if !strings.Contains(a["message"], "more bytes)") {
		t.Errorf("cut message has no marker: %q", a["message"][len(a["message"])-60:])
	}
	lines := strings.Split(a["trace"], "\n")
	last := lines[len(lines)-1]
	if want := fmt.Sprintf("… (%d more frames)", 500-(len(lines)-1)); last != want {
		t.Errorf("trace ends %q, want %q", last, want)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "#") || !strings.HasSuffix(l, "->handle()") {
			t.Errorf("trace excerpt cut inside a frame: %q", l)
		}
	}
}

func TestDeliveryAcrossReplicas(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int
		delivered bool
		retry     bool
	}{
		{"one replica down, the other takes it", []int{http.StatusServiceUnavailable, http.StatusOK}, true, false},
		{"every replica down is retried", []int{http.StatusServiceUnavailable, http.StatusBadGateway}, false, true},
		{"429 is retried", []int{http.StatusTooManyRequests}, false, true},
		{"one refuses for good, one down: retried", []int{http.StatusBadRequest, http.StatusServiceUnavailable}, false, true},
		{"every replica refuses for good: a dead letter", []int{http.StatusBadRequest, http.StatusUnauthorized}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var urls []string
			for _, code := range tt.answers {
				urls = append(urls, newPeer(t, code, `"refused"`).srv.URL)
			}
			n, err := New(Config{URLs: urls}, nil, fixed(baseTime()), nil)
			if err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("k", "Op", baseTime())})
			if (err == nil) != tt.delivered || retry != tt.retry {
				t.Fatalf("Notify = retry %v, err %v; want delivered %v retry %v", retry, err, tt.delivered, tt.retry)
			}
		})
	}
}

// An Alertmanager's Retry-After (Alertmanager itself sends none, but a
// proxy in front of it may) is honoured in seconds and as an HTTP date,
// capped at notify.MaxRetryAfter with a log line; with several replicas the
// longest wait asked for holds, since every request goes to each.
func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	date := baseTime().Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name   string
		after  []string // each replica's Retry-After ("": none)
		want   time.Duration
		asked  bool
		capped bool
	}{
		{"seconds", []string{"20"}, 20 * time.Second, true, false},
		{"an HTTP date", []string{date}, 90 * time.Second, true, false},
		{"years of seconds are capped", []string{"99999999"}, notify.MaxRetryAfter, true, true},
		{"the longest of the replicas", []string{"5", "", "40"}, 40 * time.Second, true, false},
		{"none", []string{""}, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var urls []string
			for _, v := range tt.after {
				p := newPeer(t, http.StatusServiceUnavailable, `"overloaded"`)
				if v != "" {
					p.header = map[string]string{"Retry-After": v}
				}
				urls = append(urls, p.srv.URL)
			}
			var logs bytes.Buffer
			n, err := New(Config{URLs: urls}, nil, fixed(baseTime()), slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("k", "Op", baseTime())})
			after, ok := notify.RetryAfter(err)
			if !retry || ok != tt.asked || after != tt.want {
				t.Fatalf("Notify = %v, %v; RetryAfter %s, %v; want retry after %s (%v)", retry, err, after, ok, tt.want, tt.asked)
			}
			if got := strings.Contains(logs.String(), "retrying at the cap"); got != tt.capped {
				t.Errorf("cap logged = %v, want %v: %s", got, tt.capped, logs.String())
			}
		})
	}
}

func TestTransportErrorIsRetriedAndNamesTheURL(t *testing.T) {
	p := newPeer(t, http.StatusOK, "")
	dead := p.srv.URL
	p.srv.Close()
	n, err := New(Config{URLs: []string{dead}, Timeout: 2 * time.Second}, nil, fixed(baseTime()), nil)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("k", "Op", baseTime())})
	if !retry || err == nil || !strings.Contains(err.Error(), dead) {
		t.Fatalf("Notify = %v, %v; want a retry naming %s", retry, err, dead)
	}
}

func TestCredentialsAreSentAndNeverShown(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		header string
		secret string
	}{
		{"bearer token", Config{BearerToken: "tok-s3cr3t-value"}, "Bearer tok-s3cr3t-value", "tok-s3cr3t-value"},
		{"basic auth", Config{BasicAuth: &BasicAuth{Username: "seqwatch", Password: "pw-s3cr3t-value"}}, "Basic c2Vxd2F0Y2g6cHctczNjcjN0LXZhbHVl", "pw-s3cr3t-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The peer refuses, echoing the credential, as a careless proxy might.
			p := newPeer(t, http.StatusForbidden, "bad credentials "+tt.secret)
			cfg := tt.cfg
			cfg.URLs = []string{p.srv.URL}
			var logs bytes.Buffer
			n, err := New(cfg, nil, fixed(baseTime()), slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("k", "Op", baseTime())})
			if retry || err == nil {
				t.Fatalf("Notify = %v, %v; want a refusal for good", retry, err)
			}
			if p.auth[0] != tt.header {
				t.Errorf("Authorization = %q, want %q", p.auth[0], tt.header)
			}
			if strings.Contains(err.Error()+logs.String(), tt.secret) {
				t.Errorf("secret shown: %v %s", err, logs.String())
			}
		})
	}
}

func TestResendKeepsOpenProblemsFiringAndResolvesVanishedOnes(t *testing.T) {
	p := newPeer(t, http.StatusOK, "")
	now := baseTime()
	clock := func() time.Time { return now }
	n, err := New(Config{URLs: []string{p.srv.URL}, EndsAfter: 4 * time.Minute}, nil, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := failedEvent("operation.failed/A/1", "A", now.Add(-time.Hour))
	b := failedEvent("operation.failed/B/2", "B", now.Add(-time.Hour))
	if _, err := n.Notify(ctx, []notify.Event{a, b}); err != nil {
		t.Fatal(err)
	}
	// The state keeps open problems without traces: the resend must still
	// carry the trace excerpt the first post had.
	briefA, briefB := a, b
	briefA.Errors = []notify.Error{{Exception: "RuntimeException", Message: "Database connection lost"}}
	briefB.Errors = briefA.Errors

	type want struct {
		firing, resolved []string // operation labels
	}
	ticks := []struct {
		name   string
		open   []notify.Event
		untold map[string]bool
		want   want
	}{
		{"both open: both posted again, endsAt ahead", []notify.Event{briefA, briefB}, nil, want{firing: []string{"A", "B"}}},
		{"B untold (its event waits in the outbox): not posted, not resolved", []notify.Event{briefA, briefB}, map[string]bool{b.Key: true}, want{firing: []string{"A"}}},
		{"B untold for another tick: still not resolved", []notify.Event{briefA, briefB}, map[string]bool{b.Key: true}, want{firing: []string{"A"}}},
		{"B closed silently: not resolved yet, its event may come", []notify.Event{briefA}, nil, want{firing: []string{"A"}}},
		{"B still gone: resolved now", []notify.Event{briefA}, nil, want{firing: []string{"A"}, resolved: []string{"B"}}},
		{"nothing new to resolve", []notify.Event{briefA}, nil, want{firing: []string{"A"}}},
	}
	for _, tk := range ticks {
		now = now.Add(time.Minute)
		before := len(p.posts())
		if err := n.Resend(ctx, tk.open, tk.untold); err != nil {
			t.Fatalf("%s: %v", tk.name, err)
		}
		posts := p.posts()
		if len(posts) != before+1 {
			t.Fatalf("%s: %d posts, want one", tk.name, len(posts)-before)
		}
		var got want
		for _, al := range posts[len(posts)-1] {
			end, _ := time.Parse(time.RFC3339Nano, al.EndsAt)
			if end.After(now) {
				got.firing = append(got.firing, al.Labels["operation"])
				if !end.Equal(now.Add(4*time.Minute)) || al.Annotations["trace"] == "" {
					t.Errorf("%s: firing %s ends %s (want %s), trace %q", tk.name, al.Labels["operation"], al.EndsAt, now.Add(4*time.Minute), al.Annotations["trace"])
				}
			} else {
				got.resolved = append(got.resolved, al.Labels["operation"])
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tk.want) {
			t.Errorf("%s: got %+v, want %+v", tk.name, got, tk.want)
		}
	}
}

func TestRecoveryOfOneRowKeepsTheOperationFiringWhileAnotherRowIsOpen(t *testing.T) {
	p := newPeer(t, http.StatusOK, "")
	now := baseTime()
	n, err := New(Config{URLs: []string{p.srv.URL}}, nil, fixed(now), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := failedEvent("operation.failed/Op/1", "Op", now.Add(-2*time.Hour))
	second := failedEvent("operation.failed/Op/2", "Op", now.Add(-time.Hour))
	if err := n.Resend(ctx, []notify.Event{first, second}, nil); err != nil {
		t.Fatal(err)
	}
	posts := len(p.posts())
	if _, err := n.Notify(ctx, []notify.Event{recoveredEvent(first.Key, "Op", now)}); err != nil {
		t.Fatal(err)
	}
	if got := len(p.posts()); got != posts {
		t.Fatalf("a recovery was posted (%d posts) although row 2 of the same operation is still open", got-posts)
	}
	if _, err := n.Notify(ctx, []notify.Event{recoveredEvent(second.Key, "Op", now)}); err != nil {
		t.Fatal(err)
	}
	all := p.posts()
	if len(all) != posts+1 || all[len(all)-1][0].EndsAt != rfc3339(now) {
		t.Fatalf("the last recovery did not resolve the alert: %+v", all[posts:])
	}
}

func TestDigestAndReminderPostTheirItems(t *testing.T) {
	p := newPeer(t, http.StatusOK, "")
	n, err := New(Config{URLs: []string{p.srv.URL}}, nil, fixed(baseTime()), nil)
	if err != nil {
		t.Fatal(err)
	}
	items := []notify.Event{failedEvent("k1", "A", baseTime()), failedEvent("k2", "B", baseTime())}
	for _, kind := range []notify.Kind{notify.Digest, notify.Reminder} {
		before := len(p.posts())
		if _, err := n.Notify(context.Background(), []notify.Event{{ID: "d", Kind: kind, Key: "digest", Items: items}}); err != nil {
			t.Fatal(err)
		}
		posts := p.posts()
		if len(posts) != before+1 || len(posts[before]) != 2 {
			t.Fatalf("%s: want one post of two alerts, got %+v", kind, posts[before:])
		}
	}
	before := len(p.posts())
	if _, err := n.Notify(context.Background(), []notify.Event{{ID: "r", Kind: notify.Reminder, Key: "reminder"}}); err != nil || len(p.posts()) != before {
		t.Fatalf("an empty reminder was posted (%v)", err)
	}
}
