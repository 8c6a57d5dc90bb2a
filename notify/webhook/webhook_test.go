package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// Tokens that must never show up in an error or a log line.
const (
	pathToken  = "T0KEN-in-the-path-8f3a"
	queryToken = "Q-token-in-the-query-77c1"
)

func secretA() string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte("secret-A-0123456789abcdefghij"))
}
func secretB() string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte("secret-B-0123456789abcdefghij"))
}

// baseTime is the injected clock of every test.
func baseTime() time.Time { return time.Date(2024, 1, 15, 13, 0, 0, 0, time.UTC) }

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// answer is what the receiver replies to one request.
type answer struct {
	status int
	header map[string]string
	body   string
}

// delivery is one request as the receiver saw it.
type delivery struct {
	header  http.Header
	body    []byte
	payload Payload
}

// receiver is a webhook endpoint that does what a careful real one does:
// it accepts only POSTed JSON, verifies the Standard Webhooks signature
// against the secrets it knows (answering 401 when none matches) and decodes
// the body strictly into the version 1 schema (answering 400 otherwise).
type receiver struct {
	srv     *httptest.Server
	secrets []string
	now     time.Time

	mu      sync.Mutex
	got     []delivery
	answers []answer
	bad     []string // why requests were refused
}

func newReceiver(t *testing.T, tls bool, secrets []string, answers ...answer) *receiver {
	t.Helper()
	r := &receiver{secrets: secrets, now: baseTime(), answers: answers}
	if tls {
		r.srv = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	} else {
		r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) refuse(w http.ResponseWriter, code int, why string) {
	r.mu.Lock()
	r.bad = append(r.bad, why)
	r.mu.Unlock()
	http.Error(w, why, code)
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		r.refuse(w, http.StatusMethodNotAllowed, "method "+req.Method)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		r.refuse(w, http.StatusUnsupportedMediaType, "content type "+ct)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.refuse(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(r.secrets) > 0 {
		ok := false
		var errs []error
		for _, s := range r.secrets {
			err := Verify(s, req.Header, body, r.now, 0)
			if err == nil {
				ok = true
				break
			}
			errs = append(errs, err)
		}
		if !ok {
			r.mu.Lock()
			r.got = append(r.got, delivery{header: req.Header.Clone(), body: body})
			r.mu.Unlock()
			r.refuse(w, http.StatusUnauthorized, errors.Join(errs...).Error())
			return
		}
	}
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || !utf8.Valid(body) {
		r.refuse(w, http.StatusBadRequest, fmt.Sprintf("body: %v", err))
		return
	}
	if p.Version != 1 || p.ID != req.Header.Get("webhook-id") {
		r.refuse(w, http.StatusBadRequest, "version or id mismatch")
		return
	}

	r.mu.Lock()
	r.got = append(r.got, delivery{header: req.Header.Clone(), body: body, payload: p})
	a := answer{status: http.StatusNoContent}
	if len(r.answers) > 0 {
		a = r.answers[0]
		if len(r.answers) > 1 {
			r.answers = r.answers[1:]
		}
	}
	r.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func (r *receiver) refusals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

func (r *receiver) url() notify.Secret {
	return notify.Secret(r.srv.URL + "/hooks/" + pathToken + "?token=" + queryToken)
}

// newNotifier returns a Notifier for r signing with secrets at now.
func newNotifier(t *testing.T, r *receiver, secrets []string, now time.Time, logger *slog.Logger, edit ...func(*Config)) *Notifier {
	t.Helper()
	cfg := Config{URL: r.url(), AllowHTTP: strings.HasPrefix(r.srv.URL, "http://")}
	for _, s := range secrets {
		cfg.Secrets = append(cfg.Secrets, notify.Secret(s))
	}
	for _, e := range edit {
		e(&cfg)
	}
	n, err := New(cfg, r.srv.Client(), fixed(now), logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func failedEvent(id string) notify.Event {
	cet := time.FixedZone("CET", 3600)
	executed := time.Date(2024, 1, 13, 12, 0, 0, 0, cet)
	failed := executed.Add(3 * time.Second)
	return notify.Event{
		ID:          id,
		Kind:        notify.OperationFailed,
		Key:         "operation.failed/2024_01_13_120000_FailedOperation/42",
		App:         "shop",
		Environment: "production",
		OccurredAt:  failed,
		Summary:     "2024_01_13_120000_FailedOperation failed: Connection refused",
		Operation: &notify.Operation{
			ID: "42", Name: "2024_01_13_120000_FailedOperation", Type: "sync",
			ExecutedAt: executed, FailedAt: &failed,
		},
		Errors: []notify.Error{{
			Exception: `Illuminate\Database\QueryException`,
			Message:   "SQLSTATE[08006] Connection refused",
			Trace:     "#0 /app/Foo.php(12): Foo->bar()\n#1 {main}",
			Context:   `{"file":"/app/Foo.php","line":12,"code":0}`,
			CreatedAt: failed,
		}},
	}
}

func TestSignedEventArrivesAndVerifies(t *testing.T) {
	r := newReceiver(t, true, []string{secretA()})
	n := newNotifier(t, r, []string{secretA()}, baseTime(), nil, func(c *Config) {
		c.Headers = map[string]string{"Authorization": "Bearer receiver-token", "X-Team": "ops"}
	})
	ev := failedEvent("01HN0000000000000000000001")

	retry, err := n.Notify(context.Background(), []notify.Event{ev})
	if err != nil || retry {
		t.Fatalf("Notify = %v, %v; want delivered (refusals: %q)", retry, err, r.refusals())
	}
	got := r.deliveries()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	d := got[0]
	for name, want := range map[string]string{
		"webhook-id":        ev.ID,
		"webhook-timestamp": strconv.FormatInt(baseTime().Unix(), 10),
		"Content-Type":      "application/json",
		"Authorization":     "Bearer receiver-token",
		"X-Team":            "ops",
		"User-Agent":        "seqwatch-webhook",
	} {
		if v := d.header.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
	if sig := d.header.Get("webhook-signature"); !strings.HasPrefix(sig, "v1,") || strings.Contains(sig, " ") {
		t.Errorf("webhook-signature = %q, want one v1 signature", sig)
	}

	p := d.payload
	if p.Event != "operation.failed" || p.ID != ev.ID || p.Key != ev.Key || p.App != "shop" ||
		p.Environment != "production" || p.Summary != ev.Summary {
		t.Errorf("payload header fields = %+v", p)
	}
	if p.OccurredAt == nil || !p.OccurredAt.Equal(ev.OccurredAt) {
		t.Errorf("occurred_at = %v, want %v", p.OccurredAt, ev.OccurredAt)
	}
	if op := p.Operation; op == nil || op.ID != "42" || op.Name != ev.Operation.Name || op.Type != "sync" ||
		op.FailedAt == nil || op.CompletedAt != nil || op.RunningForSeconds != nil {
		t.Errorf("operation = %+v", p.Operation)
	}
	if len(p.Errors) != 1 || p.Errors[0].Exception != ev.Errors[0].Exception || p.Errors[0].Trace != ev.Errors[0].Trace ||
		p.Errors[0].Context != ev.Errors[0].Context || p.Errors[0].TraceFrames != 2 || p.Errors[0].TraceBytes != len(ev.Errors[0].Trace) {
		t.Errorf("errors = %+v", p.Errors)
	}
	if p.Pending != nil || p.Deferred != nil || p.Source != nil || p.Events == nil || len(p.Events) != 0 {
		t.Errorf("optional parts = pending %v deferred %v source %v events %v; want null, null, null, []",
			p.Pending, p.Deferred, p.Source, p.Events)
	}
	// The times keep the application's offset, as RFC 3339.
	if !bytes.Contains(d.body, []byte(`"occurred_at":"2024-01-13T12:00:03+01:00"`)) {
		t.Errorf("body lacks RFC 3339 occurred_at: %s", d.body)
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "single.json.golden"), d.body, update)
}

func TestDigestGolden(t *testing.T) {
	r := newReceiver(t, true, nil)
	n := newNotifier(t, r, nil, baseTime(), nil)
	stuck := notify.Event{
		ID: "01HN0000000000000000000002", Kind: notify.OperationStuck, Key: "operation.stuck/7",
		App: "shop", Environment: "production", OccurredAt: baseTime(), Summary: "stuck for 1h30m",
		Operation: &notify.Operation{ID: "7", Name: "2024_01_15_110000_Async", Type: "async",
			ExecutedAt: baseTime().Add(-90 * time.Minute), RunningFor: 90 * time.Minute},
	}
	pending := notify.Event{
		ID: "01HN0000000000000000000003", Kind: notify.PendingThreshold, Key: "pending.threshold",
		App: "shop", Environment: "production", OccurredAt: baseTime(), Summary: "12 pending",
		Pending: &notify.PendingCount{Count: 12, Threshold: 10, Names: []string{"2024_01_15_120000_A"}},
	}
	deferred := notify.Event{
		ID: "01HN0000000000000000000004", Kind: notify.DeferredFailed, Key: "deferred.failed/9",
		App: "shop", Environment: "staging", OccurredAt: baseTime(), Summary: "deferred gave up",
		Deferred: &notify.DeferredError{ID: "9", Operation: "SendMail", Attempts: 3, MaxAttempts: 3, LastError: "timeout"},
	}
	source := notify.Event{
		ID: "01HN0000000000000000000005", Kind: notify.SourceUnreachable, Key: "source.unreachable",
		App: "shop", OccurredAt: baseTime(), Summary: "database unreachable",
		Source: "dial tcp 10.0.0.5:5432: connect: connection refused",
	}
	events := []notify.Event{failedEvent("01HN0000000000000000000001"), stuck, pending, deferred, source}
	if retry, err := n.Notify(context.Background(), events); err != nil || retry {
		t.Fatalf("Notify = %v, %v (refusals %q)", retry, err, r.refusals())
	}
	d := r.deliveries()[0]
	p := d.payload
	ids := []string{events[0].ID, stuck.ID, pending.ID, deferred.ID, source.ID}
	if p.Event != "digest" || p.ID != DigestID(ids) || p.App != "shop" || p.Environment != "" || len(p.Events) != 5 {
		t.Errorf("digest = event %q id %q app %q env %q events %d", p.Event, p.ID, p.App, p.Environment, len(p.Events))
	}
	if want := "5 events: 1 deferred.failed, 1 operation.failed, 1 operation.stuck, 1 pending.threshold, 1 source.unreachable"; p.Summary != want {
		t.Errorf("summary = %q, want %q", p.Summary, want)
	}
	if rf := p.Events[1].Operation.RunningForSeconds; rf == nil || *rf != 5400 {
		t.Errorf("running_for_seconds = %v, want 5400", rf)
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "digest.json.golden"), d.body, update)
}

func TestVerify(t *testing.T) {
	r := newReceiver(t, true, nil)
	n := newNotifier(t, r, []string{secretA(), secretB()}, baseTime(), nil)
	if _, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")}); err != nil {
		t.Fatal(err)
	}
	d := r.deliveries()[0]
	tampered := bytes.Clone(d.body)
	tampered[len(tampered)/2] ^= 0x01
	onlyFirst := d.header.Clone()
	onlyFirst.Set("webhook-signature", strings.Fields(d.header.Get("webhook-signature"))[0])
	noID := d.header.Clone()
	noID.Del("webhook-id")
	otherID := d.header.Clone()
	otherID.Set("webhook-id", "evt_2")
	junkFirst := d.header.Clone()
	junkFirst.Set("webhook-signature", "v1a,abc v1,!!!notbase64 "+d.header.Get("webhook-signature"))
	raw := "a plain shared string"
	rawN := newNotifier(t, r, []string{raw}, baseTime(), nil)
	if _, err := rawN.Notify(context.Background(), []notify.Event{failedEvent("evt_raw")}); err != nil {
		t.Fatal(err)
	}
	rawD := r.deliveries()[1]
	rawHeader := rawD.header

	tests := []struct {
		name    string
		secret  string
		header  http.Header
		body    []byte
		now     time.Time
		wantErr error
	}{
		{"a signed event verifies", secretA(), d.header, d.body, baseTime(), nil},
		{"rotation: the second secret verifies too", secretB(), d.header, d.body, baseTime(), nil},
		{"the first of two signatures alone verifies", secretA(), onlyFirst, d.body, baseTime(), nil},
		{"the second secret does not match the first signature alone", secretB(), onlyFirst, d.body, baseTime(), ErrInvalidSignature},
		{"unknown schemes and bad base64 are skipped", secretB(), junkFirst, d.body, baseTime(), nil},
		{"a changed byte in the body fails", secretA(), d.header, tampered, baseTime(), ErrInvalidSignature},
		{"a different webhook-id fails", secretA(), otherID, d.body, baseTime(), ErrInvalidSignature},
		{"an unknown secret fails", "whsec_" + base64.StdEncoding.EncodeToString([]byte("other")), d.header, d.body, baseTime(), ErrInvalidSignature},
		{"a timestamp 10 minutes old fails", secretA(), d.header, d.body, baseTime().Add(10 * time.Minute), ErrInvalidTimestamp},
		{"a timestamp 10 minutes ahead fails", secretA(), d.header, d.body, baseTime().Add(-10 * time.Minute), ErrInvalidTimestamp},
		{"a timestamp 4 minutes old passes", secretA(), d.header, d.body, baseTime().Add(4 * time.Minute), nil},
		{"a missing webhook-id fails", secretA(), noID, d.body, baseTime(), ErrMissingHeader},
		{"a raw secret verifies as itself", raw, rawHeader, rawD.body, baseTime(), nil},
		{"a raw secret equals its whsec_ form", "whsec_" + base64.StdEncoding.EncodeToString([]byte(raw)), rawHeader, rawD.body, baseTime(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, 0)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSigningEndToEnd(t *testing.T) {
	tests := []struct {
		name            string
		senderSecrets   []string
		receiverSecrets []string
		senderNow       time.Time
		wantDelivered   bool
	}{
		{"one secret verifies", []string{secretA()}, []string{secretA()}, baseTime(), true},
		{"rotation: a receiver with only the old secret verifies", []string{secretA(), secretB()}, []string{secretA()}, baseTime(), true},
		{"rotation: a receiver with only the new secret verifies", []string{secretA(), secretB()}, []string{secretB()}, baseTime(), true},
		{"a wrong secret is refused", []string{secretB()}, []string{secretA()}, baseTime(), false},
		{"a stale timestamp is refused", []string{secretA()}, []string{secretA()}, baseTime().Add(-10 * time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, true, tt.receiverSecrets)
			n := newNotifier(t, r, tt.senderSecrets, tt.senderNow, nil)
			retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")})
			if tt.wantDelivered {
				if err != nil {
					t.Fatalf("Notify = %v (refusals %q)", err, r.refusals())
				}
				if n := len(strings.Fields(r.deliveries()[0].header.Get("webhook-signature"))); n != len(tt.senderSecrets) {
					t.Errorf("%d signatures, want %d", n, len(tt.senderSecrets))
				}
				return
			}
			if err == nil || retry || !strings.Contains(err.Error(), "401") {
				t.Fatalf("Notify = %v, %v; want a 401 refusal without retry", retry, err)
			}
		})
	}
}

func TestRetriesKeepTheirID(t *testing.T) {
	t.Run("the same event sent twice carries the same webhook-id and body", func(t *testing.T) {
		r := newReceiver(t, true, []string{secretA()}, answer{status: 500}, answer{status: 200})
		ev := failedEvent("evt_retry")
		n1 := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
		if retry, err := n1.Notify(context.Background(), []notify.Event{ev}); !retry || err == nil {
			t.Fatalf("first attempt = %v, %v; want a retryable error", retry, err)
		}
		// The retry may come from a restarted daemon, a minute later.
		n2 := newNotifier(t, r, []string{secretA()}, baseTime().Add(time.Minute), nil)
		r.now = baseTime().Add(time.Minute)
		if retry, err := n2.Notify(context.Background(), []notify.Event{ev}); retry || err != nil {
			t.Fatalf("second attempt = %v, %v", retry, err)
		}
		got := r.deliveries()
		if len(got) != 2 {
			t.Fatalf("%d deliveries, want 2", len(got))
		}
		if a, b := got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"); a != "evt_retry" || a != b {
			t.Errorf("webhook-ids %q, %q; want evt_retry twice", a, b)
		}
		if !bytes.Equal(got[0].body, got[1].body) {
			t.Error("the retried body differs")
		}
		if got[0].header.Get("webhook-timestamp") == got[1].header.Get("webhook-timestamp") {
			t.Error("the retry reused the old timestamp")
		}
	})
	t.Run("a digest of the same events has the same id in any order", func(t *testing.T) {
		r := newReceiver(t, true, []string{secretA()})
		n := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
		a, b, c := failedEvent("evt_a"), failedEvent("evt_b"), failedEvent("evt_c")
		for _, batch := range [][]notify.Event{{a, b, c}, {c, a, b}} {
			if _, err := n.Notify(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
		}
		got := r.deliveries()
		id0, id1 := got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id")
		if id0 != id1 || id0 != DigestID([]string{"evt_a", "evt_b", "evt_c"}) {
			t.Errorf("digest ids %q, %q", id0, id1)
		}
		if !strings.HasPrefix(id0, "dig_") || len(id0) != 4+64 {
			t.Errorf("digest id %q, want dig_ and 64 hex digits", id0)
		}
		if other := DigestID([]string{"evt_a", "evt_b"}); other == id0 {
			t.Error("a different batch has the same id")
		}
		if got[1].payload.Events[0].ID != "evt_c" {
			t.Error("digest members are not in the order given")
		}
	})
}

func TestResponses(t *testing.T) {
	httpDate := baseTime().Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name       string
		answer     answer
		wantRetry  bool
		wantErr    bool
		wantAfter  time.Duration // 0: no RetryAfterError
		wantInText string
	}{
		{"200 is delivered", answer{status: 200}, false, false, 0, ""},
		{"202 is delivered", answer{status: 202}, false, false, 0, ""},
		{"429 with Retry-After seconds", answer{status: 429, header: map[string]string{"Retry-After": "7"}}, true, true, 7 * time.Second, "429 Too Many Requests"},
		{"429 with Retry-After as an HTTP date", answer{status: 429, header: map[string]string{"Retry-After": httpDate}}, true, true, 90 * time.Second, "429"},
		{"429 without Retry-After", answer{status: 429}, true, true, 0, "429"},
		{"500 is retried", answer{status: 500, body: "boom"}, true, true, 0, "500 Internal Server Error: boom"},
		{"503 honours Retry-After", answer{status: 503, header: map[string]string{"Retry-After": "30"}}, true, true, 30 * time.Second, "503"},
		{"408 is retried", answer{status: 408}, true, true, 0, "408"},
		{"400 is not retried", answer{status: 400, body: `{"error":"bad payload"}`}, false, true, 0, `400 Bad Request: {"error":"bad payload"}`},
		{"404 is not retried", answer{status: 404}, false, true, 0, "404"},
		{"304 is not retried", answer{status: 304}, false, true, 0, "304"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, true, []string{secretA()}, tt.answer)
			n := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
			retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")})
			if retry != tt.wantRetry || (err != nil) != tt.wantErr {
				t.Fatalf("Notify = %v, %v; want retry=%v err=%v", retry, err, tt.wantRetry, tt.wantErr)
			}
			after, ok := notify.RetryAfter(err)
			if tt.wantAfter != 0 && (!ok || after != tt.wantAfter) {
				t.Errorf("RetryAfter = %v, %v; want %v", after, ok, tt.wantAfter)
			}
			if tt.wantAfter == 0 && ok {
				t.Errorf("unexpected RetryAfter %v", after)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantInText) {
				t.Errorf("error %q lacks %q", err, tt.wantInText)
			}
			if got := len(r.deliveries()); got != 1 {
				t.Errorf("%d requests, want 1", got)
			}
		})
	}
}

// A 410 Gone says the endpoint is gone for good: ErrDisabled, no retry.
// The Notifier keeps no mark of its own: the daemon records the channel as
// disabled in its state, where a changed configuration or seqwatch outbox
// enable clears it, and a mark here would outlive seqwatch outbox enable.
func TestGoneIsDisabledWithoutRetry(t *testing.T) {
	r := newReceiver(t, true, []string{secretA()}, answer{status: 410, body: "gone"}, answer{status: 200})
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	n := newNotifier(t, r, []string{secretA()}, baseTime(), logger)

	retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")})
	if retry || !errors.Is(err, notify.ErrDisabled) || !strings.Contains(err.Error(), "410 Gone") {
		t.Fatalf("first call = %v, %v; want no retry and ErrDisabled naming the 410", retry, err)
	}
	if _, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_2")}); err != nil {
		t.Fatalf("once the endpoint is back (seqwatch outbox enable): %v", err)
	}
	if got := len(r.deliveries()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	if logs.Len() != 0 {
		t.Errorf("the channel logged %q: what happens after a 410 is the daemon's to say", logs.String())
	}
}

// A Retry-After is honoured in seconds and as an HTTP date, and capped at
// notify.MaxRetryAfter, with a log line: Retry-After: 99999999 must not
// park the channel until 2030.
func TestRetryAfterIsCappedAndLogged(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        time.Duration
		capped      bool
	}{
		{"seconds", "20", 20 * time.Second, false},
		{"an HTTP date", baseTime().Add(100 * time.Second).Format(http.TimeFormat), 100 * time.Second, false},
		{"years of seconds", "99999999", notify.MaxRetryAfter, true},
		{"a date years ahead", baseTime().AddDate(4, 0, 0).Format(http.TimeFormat), notify.MaxRetryAfter, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, true, nil, answer{status: 429, header: map[string]string{"Retry-After": tc.value}})
			var logs bytes.Buffer
			n := newNotifier(t, r, nil, baseTime(), slog.New(slog.NewTextHandler(&logs, nil)))
			retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")})
			after, ok := notify.RetryAfter(err)
			if !retry || !ok || after != tc.want {
				t.Fatalf("Notify = %v, %v; RetryAfter %s, %v; want retry after %s", retry, err, after, ok, tc.want)
			}
			if got := strings.Contains(logs.String(), "retrying at the cap"); got != tc.capped {
				t.Errorf("cap logged = %v, want %v: %s", got, tc.capped, logs.String())
			}
		})
	}
}

func TestTransportErrorsAreRetried(t *testing.T) {
	t.Run("a closed receiver", func(t *testing.T) {
		r := newReceiver(t, true, nil)
		n := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
		r.srv.Close()
		retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")})
		if !retry || err == nil {
			t.Fatalf("Notify = %v, %v; want a retryable error", retry, err)
		}
		assertClean(t, err.Error())
	})
	t.Run("a receiver slower than the timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		cfg := Config{URL: notify.Secret(srv.URL + "/hooks/" + pathToken), Timeout: 20 * time.Millisecond}
		n, err := New(cfg, srv.Client(), fixed(baseTime()), nil)
		if err != nil {
			t.Fatal(err)
		}
		retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")})
		if !retry || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Notify = %v, %v; want retry and DeadlineExceeded", retry, err)
		}
		assertClean(t, err.Error())
	})
}

// assertClean fails if text contains the URL tokens or any secret.
func assertClean(t *testing.T, text string) {
	t.Helper()
	for _, s := range []string{pathToken, queryToken, secretA(), secretB(),
		strings.TrimPrefix(secretA(), "whsec_"), "secret-A-0123", "Bearer receiver-token"} {
		if strings.Contains(text, s) {
			t.Errorf("%q leaks %q", text, s)
		}
	}
}

func TestNoSecretInErrors(t *testing.T) {
	// A receiver that echoes the request line and the signature in its
	// error page, as some frameworks do.
	echo := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "no route for POST %s (query %s) signed %s auth %s secret %s",
			r.URL.Path, r.URL.RawQuery, r.Header.Get("webhook-signature"), r.Header.Get("Authorization"), secretA())
	}))
	t.Cleanup(echo.Close)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := Config{
		URL:     notify.Secret(echo.URL + "/hooks/" + pathToken + "?token=" + queryToken),
		Secrets: []notify.Secret{notify.Secret(secretA())},
		Headers: map[string]string{"Authorization": "Bearer receiver-token"},
	}
	n, err := New(cfg, echo.Client(), fixed(baseTime()), logger)
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")})
	if err == nil {
		t.Fatal("want an error")
	}
	t.Logf("echoing receiver: %v", err)
	assertClean(t, err.Error())
	// Headers is a plain map[string]string (see the report): print the
	// Config without it.
	printed := cfg
	printed.Headers = nil
	assertClean(t, fmt.Sprintf("%v %+v %#v", printed, printed, printed))

	gone := newReceiver(t, true, nil, answer{status: 410, body: "/hooks/" + pathToken})
	gn := newNotifier(t, gone, []string{secretA()}, baseTime(), logger)
	_, err = gn.Notify(context.Background(), []notify.Event{failedEvent("evt_1")})
	assertClean(t, err.Error())
	assertClean(t, logs.String())

	for _, c := range []Config{
		{URL: notify.Secret("http://example.com/hooks/" + pathToken + "?token=" + queryToken)},
		{URL: notify.Secret("ftp://example.com/hooks/" + pathToken)},
		{URL: notify.Secret("https://example.com/hooks/%zz" + pathToken)},
		{URL: notify.Secret("https://example.com/" + pathToken), Secrets: []notify.Secret{notify.Secret("whsec_" + pathToken + "!!")}},
		{URL: notify.Secret("https://example.com/" + pathToken), Headers: map[string]string{"Authorization": "Bearer receiver-token\r\n"}},
	} {
		err := c.Validate()
		if err == nil {
			t.Fatalf("Validate accepted %v", c)
		}
		assertClean(t, err.Error())
		_, err = New(c, nil, nil, nil)
		assertClean(t, err.Error())
	}
}

func TestValidate(t *testing.T) {
	const good = "https://hooks.example.com/in/abc"
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for valid
	}{
		{"https is accepted", Config{URL: good}, ""},
		{"http is refused off loopback", Config{URL: "http://hooks.example.com:9000/hook"}, "url: plain http to a host that is not a loopback address; use an https:// address, or set allow_http: true"},
		{"http to loopback is accepted", Config{URL: "http://127.0.0.1:9000/hook"}, ""},
		{"http is accepted with allow_http", Config{URL: "http://hooks.example.com:9000/hook", AllowHTTP: true}, ""},
		{"another scheme is refused even with allow_http", Config{URL: "ftp://h/x", AllowHTTP: true}, `url: scheme must be http or https (got "ftp")`},
		{"a password in the url is refused", Config{URL: "https://user:pa55word@hooks.example.com/in"}, "url: carries a user name or password; remove it from the URL"},
		{"a missing url", Config{}, "url: required"},
		{"a url without host", Config{URL: "https:///path"}, "url: has no host"},
		{"a relative url", Config{URL: "hooks.example.com/in"}, `url: scheme must be http or https (got "")`},
		{"whsec_ and raw secrets are accepted", Config{URL: good, Secrets: []notify.Secret{notify.Secret(secretA()), "plain"}}, ""},
		{"unpadded base64 is accepted", Config{URL: good, Secrets: []notify.Secret{"whsec_YWJjZA"}}, ""},
		{"bad base64 after whsec_", Config{URL: good, Secrets: []notify.Secret{notify.Secret(secretA()), "whsec_???"}}, "secrets[1]: the part after whsec_ is not valid base64"},
		{"an empty secret", Config{URL: good, Secrets: []notify.Secret{""}}, "secrets[0]: empty"},
		{"extra headers are accepted", Config{URL: good, Headers: map[string]string{"Authorization": "Bearer x", "User-Agent": "mine"}}, ""},
		{"webhook-id may not be overridden", Config{URL: good, Headers: map[string]string{"webhook-id": "x"}}, "headers.webhook-id: reserved"},
		{"webhook-signature may not be overridden", Config{URL: good, Headers: map[string]string{"Webhook-Signature": "x"}}, "headers.Webhook-Signature: reserved"},
		{"webhook-timestamp may not be overridden", Config{URL: good, Headers: map[string]string{"WEBHOOK-TIMESTAMP": "x"}}, "reserved"},
		{"Content-Type may not be overridden", Config{URL: good, Headers: map[string]string{"content-type": "text/plain"}}, "headers.content-type: reserved"},
		{"Host may not be overridden", Config{URL: good, Headers: map[string]string{"Host": "evil"}}, "headers.Host: reserved"},
		{"a header value with CRLF", Config{URL: good, Headers: map[string]string{"X-A": "a\r\nX-B: b"}}, "headers.X-A: value contains a line break"},
		{"a header name with a space", Config{URL: good, Headers: map[string]string{"X A": "a"}}, `headers: "X A" is not a valid header name`},
		{"a negative timeout", Config{URL: good, Timeout: -time.Second}, "timeout: must be positive (got -1s)"},
		{"all problems at once", Config{URL: "http://h/", Timeout: -1}, "timeout:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("the timeout defaults to 10s", func(t *testing.T) {
		c := Config{URL: good}
		if err := c.Validate(); err != nil || c.Timeout != 10*time.Second {
			t.Fatalf("Validate = %v, timeout %v", err, c.Timeout)
		}
	})
}

func TestConfigFromYAML(t *testing.T) {
	src := `
url: https://hooks.example.com/in/abc?token=xyz
allow_http: false
secrets:
  - whsec_c2VjcmV0LUEtMDEyMzQ1Njc4OWFiY2RlZmdoaWo=
  - a plain secret
headers:
  Authorization: Bearer x
timeout: 3s
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.URL.Reveal() != "https://hooks.example.com/in/abc?token=xyz" || len(c.Secrets) != 2 ||
		c.Secrets[1].Reveal() != "a plain secret" || c.Headers["Authorization"] != "Bearer x" || c.Timeout != 3*time.Second {
		t.Errorf("decoded %#v", c)
	}
}

func TestPlainHTTPWithAllowHTTP(t *testing.T) {
	r := newReceiver(t, false, nil)
	n := newNotifier(t, r, nil, baseTime(), nil)
	if _, err := n.Notify(context.Background(), []notify.Event{failedEvent("evt_1")}); err != nil {
		t.Fatal(err)
	}
	h := r.deliveries()[0].header
	if h.Get("webhook-id") != "evt_1" || h.Get("webhook-timestamp") == "" || h.Get("webhook-signature") != "" {
		t.Errorf("without secrets: id %q timestamp %q signature %q; want id and timestamp, no signature",
			h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"))
	}
}

func TestHostileTextIsCarriedIntact(t *testing.T) {
	r := newReceiver(t, true, []string{secretA()})
	n := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
	frame := "#0 /app/Foo.php(12): Foo->bar('<script>')\n"
	trace := strings.Repeat(frame, 1<<20/len(frame)+1) // just over 1 MB
	ev := failedEvent("evt_hostile")
	ev.Summary = "<!channel> @here *bold* failed"
	ev.Errors[0].Message = "line one\r\nX-Injected: yes\r\n\r\n{\"json\": true}"
	ev.Errors[0].Exception = "Bad\xff\xfeClass"
	ev.Errors[0].Trace = trace
	ev.Errors[0].Context = `{"sql":"select '\u0000'"}`

	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatalf("Notify: %v (refusals %q)", err, r.refusals())
	}
	d := r.deliveries()[0]
	if !json.Valid(d.body) || !utf8.Valid(d.body) {
		t.Fatal("body is not valid UTF-8 JSON")
	}
	if d.header.Get("X-Injected") != "" {
		t.Error("text leaked into the headers")
	}
	e := d.payload.Errors[0]
	if d.payload.Summary != ev.Summary {
		t.Errorf("summary = %q", d.payload.Summary)
	}
	if e.Message != ev.Errors[0].Message {
		t.Errorf("message = %q", e.Message)
	}
	if e.Exception != "Bad\uFFFD\uFFFDClass" {
		t.Errorf("exception = %q, want invalid bytes as U+FFFD", e.Exception)
	}
	if e.Trace != trace || len(e.Trace) < 1<<20 {
		t.Errorf("trace: %d bytes arrived, %d sent", len(e.Trace), len(trace))
	}
	if e.Context != ev.Errors[0].Context {
		t.Errorf("context = %q", e.Context)
	}
}

func TestLargeDigestIsOneRequest(t *testing.T) {
	r := newReceiver(t, true, []string{secretA()})
	n := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
	events := make([]notify.Event, 1000)
	ids := make([]string, len(events))
	for i := range events {
		events[i] = failedEvent(fmt.Sprintf("evt_%04d", i))
		events[i].OccurredAt = baseTime().Add(time.Duration(i) * time.Second)
		ids[i] = events[i].ID
	}
	if retry, err := n.Notify(context.Background(), events); err != nil || retry {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	got := r.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	p := got[0].payload
	if p.Event != "digest" || p.ID != DigestID(ids) || len(p.Events) != 1000 || p.Events[999].ID != "evt_0999" {
		t.Errorf("digest: event %q id %q members %d", p.Event, p.ID, len(p.Events))
	}
	if p.OccurredAt == nil || !p.OccurredAt.Equal(events[999].OccurredAt) {
		t.Errorf("occurred_at = %v, want the newest member's", p.OccurredAt)
	}
	if p.Summary != "1000 events: 1000 operation.failed" {
		t.Errorf("summary = %q", p.Summary)
	}
}

func TestNothingToSend(t *testing.T) {
	r := newReceiver(t, true, nil)
	n := newNotifier(t, r, nil, baseTime(), nil)
	t.Run("no events makes no request", func(t *testing.T) {
		if retry, err := n.Notify(context.Background(), nil); retry || err != nil {
			t.Fatalf("Notify = %v, %v", retry, err)
		}
	})
	t.Run("an event without an id is refused without retry", func(t *testing.T) {
		retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("")})
		if retry || err == nil {
			t.Fatalf("Notify = %v, %v", retry, err)
		}
	})
	t.Run("a reminder lists its items under events", func(t *testing.T) {
		rem := notify.Event{ID: "rem_1", Kind: notify.Reminder, App: "shop", OccurredAt: baseTime(),
			Summary: "still failing", Items: []notify.Event{failedEvent("evt_1")}}
		if _, err := n.Notify(context.Background(), []notify.Event{rem}); err != nil {
			t.Fatal(err)
		}
		p := r.deliveries()[0].payload
		if p.Event != "reminder" || p.ID != "rem_1" || len(p.Events) != 1 || p.Events[0].Operation == nil {
			t.Errorf("reminder = %+v", p)
		}
	})
	if got := len(r.deliveries()); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

// Events as the daemon's state builds them, from a failure whose trace has
// 9,187 frames and then its recovery: the failure's document carries the
// first frames and says how long the whole trace was; the recovery's
// operation has a completed_at.
func TestStateEventsCarryWholeTraceCountsAndCompletedAt(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	executed := time.Date(2024, 1, 13, 12, 0, 0, 0, cet)
	failed := executed.Add(3 * time.Second)
	var tb strings.Builder
	for i := range 9186 {
		fmt.Fprintf(&tb, "#%d /app/vendor/laravel/framework/src/Foo%d.php(%d): Foo->bar()\n", i, i, i+10)
	}
	tb.WriteString("#9186 {main}")
	trace := tb.String()
	f := check.Failure{
		Attempt: check.Attempt{ID: "42", Name: "2024_01_13_120000_FailedOperation", Type: "sync", State: "failed", ExecutedAt: executed, FailedAt: &failed},
		Errors: []check.ErrorRecord{{
			ID: "7", Exception: `Illuminate\Database\QueryException`, Message: "SQLSTATE[08006] Connection refused",
			Trace: trace, Context: `{"file":"/app/Foo.php","line":12}`, CreatedAt: &failed,
		}},
	}
	st := state.New()
	st.Initialized = true
	evs, _ := alerting.Evaluate(st, check.Assess(&check.Snapshot{App: "shop", Environment: "production", TakenAt: failed, Failing: []check.Failure{f}}, check.Thresholds{}), failed, alerting.Policy{})
	done := executed.Add(time.Hour)
	recovered, _ := alerting.Evaluate(st, check.Assess(&check.Snapshot{App: "shop", Environment: "production", TakenAt: done,
		LastCompleted: map[string]time.Time{f.Name: done}}, check.Thresholds{}), done, alerting.Policy{})
	evs = append(evs, recovered...)
	if len(evs) != 2 || evs[0].Kind != notify.OperationFailed || evs[1].Kind != notify.OperationRecovered {
		t.Fatalf("events %+v, want operation.failed and operation.recovered", evs)
	}

	r := newReceiver(t, true, nil)
	n := newNotifier(t, r, nil, baseTime(), nil)
	for i, id := range []string{"01HN0000000000000000000001", "01HN0000000000000000000002"} {
		evs[i].ID = id // the state's ids are random
		if _, err := n.Notify(context.Background(), evs[i:i+1]); err != nil {
			t.Fatalf("Notify %s: %v (refusals %q)", evs[i].Kind, err, r.refusals())
		}
	}
	got := r.deliveries()
	e := got[0].payload.Errors[0]
	if e.TraceFrames != 9187 || e.TraceBytes != len(trace) {
		t.Errorf("trace_frames %d, trace_bytes %d; want 9187 and %d", e.TraceFrames, e.TraceBytes, len(trace))
	}
	if len(e.Trace) > 16<<10 || !strings.HasPrefix(trace, e.Trace) || !strings.HasPrefix(trace[len(e.Trace):], "\n#") {
		t.Errorf("trace of %d bytes is not the whole first frames of the recorded trace", len(e.Trace))
	}
	op := got[1].payload.Operation
	if op == nil || op.CompletedAt == nil || !op.CompletedAt.Equal(done) {
		t.Errorf("operation.recovered operation = %+v, want completed_at %v", op, done)
	}
	testkit.GoldenJSON(t, filepath.Join("testdata", "recovered.json.golden"), got[1].body, update)
}
