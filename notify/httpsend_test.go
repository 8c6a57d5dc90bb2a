package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// TestHTTPSenderAppliesTheSharedRulesToEveryStatus: one table of what each
// answer means for every HTTP channel.
func TestHTTPSenderAppliesTheSharedRulesToEveryStatus(t *testing.T) {
	now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		gone       []int
		bodyAfter  func([]byte) (time.Duration, bool)
		wantRetry  bool
		wantErr    bool
		wantGone   bool
		wantAfter  time.Duration
		wantAfterO bool
		wantCapLog bool
	}{
		{name: "2xx is done", status: 202},
		{name: "400 is permanent", status: 400, body: "bad", wantErr: true},
		{name: "404 is permanent", status: 404, wantErr: true},
		{name: "404 disables where the service says so", status: 404, gone: []int{404}, wantErr: true, wantGone: true},
		{name: "410 disables", status: 410, wantErr: true, wantGone: true},
		{name: "408 retries", status: 408, wantRetry: true, wantErr: true},
		{name: "425 retries", status: 425, wantRetry: true, wantErr: true},
		{name: "500 retries", status: 500, wantRetry: true, wantErr: true},
		{name: "429 with seconds waits them", status: 429, header: map[string]string{"Retry-After": "20"}, wantRetry: true, wantErr: true, wantAfter: 20 * time.Second, wantAfterO: true},
		{name: "503 with a date waits until it", status: 503, header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, wantRetry: true, wantErr: true, wantAfter: 90 * time.Second, wantAfterO: true},
		{name: "a past date means at once", status: 503, header: map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, wantRetry: true, wantErr: true, wantAfter: 0, wantAfterO: true},
		{name: "a huge Retry-After is capped and logged", status: 429, header: map[string]string{"Retry-After": "99999999"}, wantRetry: true, wantErr: true, wantAfter: notify.MaxRetryAfter, wantAfterO: true, wantCapLog: true},
		{name: "an overflowing Retry-After is capped", status: 429, header: map[string]string{"Retry-After": "99999999999999999999999"}, wantRetry: true, wantErr: true, wantAfter: notify.MaxRetryAfter, wantAfterO: true, wantCapLog: true},
		{name: "a negative Retry-After is ignored", status: 429, header: map[string]string{"Retry-After": "-5"}, wantRetry: true, wantErr: true},
		{name: "garbage Retry-After is ignored", status: 429, header: map[string]string{"Retry-After": "soon"}, wantRetry: true, wantErr: true},
		{name: "a body's retry_after comes first", status: 429, header: map[string]string{"Retry-After": "50"}, body: `{"retry_after": 1.5}`,
			bodyAfter: func([]byte) (time.Duration, bool) { return 1500 * time.Millisecond, true }, wantRetry: true, wantErr: true, wantAfter: 1500 * time.Millisecond, wantAfterO: true},
		{name: "a permanent refusal ignores Retry-After", status: 403, header: map[string]string{"Retry-After": "5"}, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			defer srv.Close()
			var logs bytes.Buffer
			s := &notify.HTTPSender{Channel: "test", Client: srv.Client(), Now: func() time.Time { return now },
				Logger: slog.New(slog.NewTextHandler(&logs, nil)), Gone: c.gone, BodyRetryAfter: c.bodyAfter}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, strings.NewReader("{}"))
			a, retry, err := s.Do(req, "POST evt_1", 0)
			if a == nil || a.Status != c.status {
				t.Fatalf("answer %+v, want status %d", a, c.status)
			}
			if retry != c.wantRetry || (err != nil) != c.wantErr {
				t.Fatalf("retry=%v err=%v, want retry=%v err=%v", retry, err, c.wantRetry, c.wantErr)
			}
			if got := errors.Is(err, notify.ErrDisabled); got != c.wantGone {
				t.Errorf("disabled=%v, want %v (%v)", got, c.wantGone, err)
			}
			after, ok := notify.RetryAfter(err)
			if ok != c.wantAfterO || after != c.wantAfter {
				t.Errorf("retry after %s (%v), want %s (%v)", after, ok, c.wantAfter, c.wantAfterO)
			}
			if got := strings.Contains(logs.String(), "cap="); got != c.wantCapLog {
				t.Errorf("cap logged=%v, want %v: %s", got, c.wantCapLog, logs.String())
			}
		})
	}
}

// TestHTTPSenderNeverPrintsTheURLOrASecret: a transport error and a peer
// that echoes the token both come out redacted.
func TestHTTPSenderNeverPrintsTheURLOrASecret(t *testing.T) {
	const token = "xoxb-very-secret-token-123"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		_, _ = w.Write([]byte("invalid token " + token + "\x1b[31m\r\nmore"))
	}))
	defer echo.Close()
	s := &notify.HTTPSender{Channel: "test", Client: echo.Client(), Secrets: []string{token}}
	req, _ := http.NewRequest(http.MethodPost, echo.URL+"/bot"+token+"/sendMessage", nil)
	_, _, err := s.Do(req, "POST sendMessage", 0)
	if err == nil || strings.Contains(err.Error(), token) || strings.ContainsAny(err.Error(), "\x1b\r\n") {
		t.Fatalf("error %q: want a refusal without the token or control characters", err)
	}
	if !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("error %q does not say the status", err)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL + "/bot" + token + "/sendMessage"
	dead.Close()
	req, _ = http.NewRequest(http.MethodPost, url, nil)
	_, retry, err := s.Do(req, "POST sendMessage", 0)
	if err == nil || !retry {
		t.Fatalf("retry=%v err=%v: want a retryable transport error", retry, err)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "/bot") {
		t.Fatalf("transport error %q names the URL or the token", err)
	}
}

// TestHTTPSenderBoundsEachRequest: a peer that never answers costs one
// Timeout, then a retryable error.
func TestHTTPSenderBoundsEachRequest(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := &notify.HTTPSender{Channel: "test", Client: srv.Client(), Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	_, retry, err := s.Do(req, "POST x", 0)
	if err == nil || !retry || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("retry=%v err=%v: want a retryable deadline error", retry, err)
	}
	if !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("error %q does not say the bound", err)
	}
}

func TestValidateURL(t *testing.T) {
	cases := []struct {
		raw, allow string
		ok         bool
	}{
		{"https://hooks.example.com/x", "", true},
		{"http://127.0.0.1:8080/x", "", true},
		{"http://[::1]:8080/x", "", true},
		{"http://hooks.example.com/x", "", false},
		{"http://hooks.example.com/x", "allow", true},
		{"ftp://hooks.example.com/x", "", false},
		{"https:///x", "", false},
		{"https://user:pa55@hooks.example.com/x", "", false},
		{"", "", false},
		{"https://exa mple.com/%zz", "", false},
	}
	for _, c := range cases {
		err := notify.ValidateURL(c.raw, c.allow != "", "https://host/path")
		if (err == nil) != c.ok {
			t.Errorf("ValidateURL(%q, %v) = %v, want ok=%v", c.raw, c.allow, err, c.ok)
		}
		if err != nil && (strings.Contains(err.Error(), "pa55") || strings.Contains(err.Error(), "hooks.example.com")) {
			t.Errorf("ValidateURL(%q) error %q quotes the URL", c.raw, err)
		}
	}
}

// TestURLSecretsCoverEveryPartThatCarriesACredential: a peer echoing the
// token of a Discord URL or the sig of a Teams Workflows URL is redacted.
func TestURLSecretsCoverEveryPartThatCarriesACredential(t *testing.T) {
	cases := []struct{ raw, echoed string }{
		{"https://discord.com/api/webhooks/123456/SECRETtokenVALUE", "unknown webhook SECRETtokenVALUE"},
		{"https://discord.com/api/webhooks/123456/SECRETtokenVALUE", "path /api/webhooks/123456/SECRETtokenVALUE"},
		{"https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGvalue0123456789", "bad sig SIGvalue0123456789"},
		{"https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEYvalue123&token=TOKENvalue456", "token TOKENvalue456 expired"},
		{"https://ntfy.sh/shop-alerts-7f3a", "topic shop-alerts-7f3a"},
	}
	for _, c := range cases {
		s := &notify.HTTPSender{Channel: "test", Secrets: notify.URLSecrets(c.raw)}
		got := s.Snippet([]byte(c.echoed))
		if !strings.Contains(got, "<redacted>") {
			t.Errorf("URLSecrets(%q): %q came out as %q", c.raw, c.echoed, got)
		}
	}
	// An ordinary word of the path stays, or every error would be garbled.
	s := &notify.HTTPSender{Channel: "test", Secrets: notify.URLSecrets("https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEYvalue123")}
	if got := s.Snippet([]byte("too many messages")); got != "too many messages" {
		t.Errorf("a short path word was redacted: %q", got)
	}
}

// TestHTTPSenderDoesNotFollowRedirects: a client that follows a 302 turns
// the POST into a GET, which the peer may answer 200 without taking the
// alert; the redirect is a refusal that says what to do instead.
func TestHTTPSenderDoesNotFollowRedirects(t *testing.T) {
	var mu sync.Mutex
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	s := &notify.HTTPSender{Channel: "test", Client: srv.Client()}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/old", strings.NewReader("{}"))
	a, retry, err := s.Do(req, "POST evt_1", 0)
	if err == nil || retry || a == nil || a.Status != http.StatusFound {
		t.Fatalf("answer %+v, retry=%v, err=%v: want the 302 as a refusal", a, retry, err)
	}
	if !strings.Contains(err.Error(), "302 Found") || !strings.Contains(err.Error(), "configure the address it points to") {
		t.Errorf("error %q does not say what to do", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(methods) != 1 {
		t.Errorf("requests %v, want the POST alone", methods)
	}
	if srv.Client().CheckRedirect != nil {
		t.Error("the caller's client was changed")
	}
}

// TestHTTPSenderWithoutAChannelNameStartsWithTheRequest: a channel that
// names itself around several answers gives no Channel.
func TestHTTPSenderWithoutAChannelNameStartsWithTheRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s := &notify.HTTPSender{Client: srv.Client()}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	_, _, err := s.Do(req, "http://am-1:9093", 0)
	if err == nil || err.Error() != "http://am-1:9093: answered 503 Service Unavailable" {
		t.Fatalf("error %q", err)
	}
}

// TestSafeErrorKeepsWhatWrapsATransportError: the URL goes, the context
// that wraps it stays, and errors.Is still reaches the cause.
func TestSafeErrorKeepsWhatWrapsATransportError(t *testing.T) {
	const token = "tok-0123456789"
	ue := &url.Error{Op: "Post", URL: "https://api.example.com/bot" + token + "/send", Err: context.DeadlineExceeded}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ue, "context deadline exceeded"},
		{fmt.Errorf("posting the alert: %w", ue), "posting the alert: context deadline exceeded"},
		{fmt.Errorf("token %s refused", token), "token <redacted> refused"},
	} {
		got := notify.SafeError(tc.err, token)
		if got.Error() != tc.want {
			t.Errorf("SafeError(%q) = %q, want %q", tc.err, got, tc.want)
		}
		if errors.Is(tc.err, context.DeadlineExceeded) && !errors.Is(got, context.DeadlineExceeded) {
			t.Errorf("SafeError(%q) lost the cause", tc.err)
		}
	}
}

// TestHTTPSenderCountsA2xxWhoseBodyBreaksOffAsDelivered: the peer answers
// 200 with a Content-Length, sends part of the body and cuts the
// connection. It has taken the request, so a retry would hand it the same
// event again under the same id: Do reports it delivered, logs the read
// error, and gives the channel what arrived and why the rest did not.
func TestHTTPSenderCountsA2xxWhoseBodyBreaksOffAsDelivered(t *testing.T) {
	const sent = `{"ok":tr`
	for _, tc := range []struct {
		name     string
		keep     int
		wantBody string
	}{
		{name: "a channel that keeps the body", keep: 4 << 10, wantBody: sent},
		{name: "a channel that needs no body", keep: 0, wantBody: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			requests := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests++
				mu.Unlock()
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				defer conn.Close()
				// The whole header and part of the promised 64 bytes, then the
				// connection goes (Close: a FIN after what was written).
				_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n%s", sent)
				_ = buf.Flush()
			}))
			defer srv.Close()
			var logs bytes.Buffer
			s := &notify.HTTPSender{Channel: "test", Client: srv.Client(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
			a, retry, err := s.Do(req, "POST evt_1", tc.keep)
			if err != nil || retry {
				t.Fatalf("retry=%v err=%v: want it delivered (the peer answered 200)", retry, err)
			}
			if a == nil || a.Status != http.StatusOK {
				t.Fatalf("answer %+v, want the 200", a)
			}
			if !errors.Is(a.BodyErr, io.ErrUnexpectedEOF) {
				t.Errorf("BodyErr = %v, want the cut body's unexpected EOF", a.BodyErr)
			}
			if string(a.Body) != tc.wantBody {
				t.Errorf("Body = %q, want %q (what arrived)", a.Body, tc.wantBody)
			}
			for _, want := range []string{"level=WARN", "counted as delivered", "channel_type=test", `request="POST evt_1"`, "status=200", "unexpected EOF"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log lacks %q: %s", want, logs.String())
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if requests != 1 {
				t.Errorf("the peer got %d requests, want 1", requests)
			}
		})
	}
}
