package heartbeat_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/heartbeat"
)

// receiver is a real HTTP monitor on loopback that records the pings.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string // "METHOD path?query body"
	// hold, when not nil, is waited on before answering.
	hold   chan struct{}
	status int
	seen   chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: 200, seen: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		line := req.Method + " " + req.URL.RequestURI()
		if len(body) > 0 {
			line += " " + string(body)
		}
		r.mu.Lock()
		r.got = append(r.got, line)
		hold, status := r.hold, r.status
		r.mu.Unlock()
		r.seen <- struct{}{}
		if hold != nil {
			select {
			case <-hold:
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) pings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// results collects what the pinger reports.
type results struct {
	mu  sync.Mutex
	got []string
	ch  chan string
}

func newResults() *results { return &results{ch: make(chan string, 100)} }

func (r *results) record(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
	r.ch <- s
}

// wait returns the next n results, failing after a generous deadline.
func (r *results) wait(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case s := <-r.ch:
			out = append(out, s)
		case <-deadline:
			t.Fatalf("got %d results %v, want %d", len(out), out, n)
		}
	}
	return out
}

func quietLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func TestPingsFollowTheHealthchecksConvention(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		sendStart bool
		calls     func(p *heartbeat.Pinger)
		want      []string
	}{
		{"success is a GET of the URL", "/ping/abc", false, func(p *heartbeat.Pinger) { p.Success() }, []string{"GET /ping/abc"}},
		{"failure is a POST to URL/fail with the reason", "/ping/abc", false, func(p *heartbeat.Pinger) {
			p.Fail("cannot connect to 127.0.0.1:5432\nconnection refused")
		}, []string{"POST /ping/abc/fail cannot connect to 127.0.0.1:5432 connection refused"}},
		{"start is sent only with send_start", "/ping/abc/", true, func(p *heartbeat.Pinger) { p.Start(); p.Success() }, []string{"GET /ping/abc/start", "GET /ping/abc/"}},
		{"start is not sent without send_start", "/ping/abc", false, func(p *heartbeat.Pinger) { p.Start(); p.Success() }, []string{"GET /ping/abc"}},
		{"a query string is kept", "/api/push/XyZ?status=up", false, func(p *heartbeat.Pinger) { p.Fail("x") }, []string{"POST /api/push/XyZ/fail?status=up x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t)
			res := newResults()
			var log bytes.Buffer
			p, err := heartbeat.New(heartbeat.Config{URL: rcv.srv.URL + tc.path, SendStart: tc.sendStart, Timeout: 5 * time.Second}, rcv.srv.Client(), quietLogger(&log), res.record)
			if err != nil {
				t.Fatal(err)
			}
			tc.calls(p)
			got := res.wait(t, len(tc.want))
			p.Close()
			for _, r := range got {
				if r != heartbeat.ResultOK {
					t.Errorf("result %q, want ok (log: %s)", r, log.String())
				}
			}
			if g := strings.Join(rcv.pings(), "\n"); g != strings.Join(tc.want, "\n") {
				t.Errorf("pings:\n%s\nwant:\n%s", g, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestASlowMonitorNeverDelaysTheTick(t *testing.T) {
	rcv := newReceiver(t)
	rcv.hold = make(chan struct{})
	res := newResults()
	var log bytes.Buffer
	p, err := heartbeat.New(heartbeat.Config{URL: rcv.srv.URL + "/ping/slow", Timeout: time.Minute}, rcv.srv.Client(), quietLogger(&log), res.record)
	if err != nil {
		t.Fatal(err)
	}
	p.Success()
	<-rcv.seen // the first ping is now held by the monitor
	// Ten ticks' worth of pings while the monitor hangs: each call returns
	// at once; the queue keeps three and the rest are dropped.
	start := time.Now()
	for range 10 {
		p.Success()
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("ten pings to a hung monitor took %s: the caller was blocked", d)
	}
	dropped := res.wait(t, 7)
	for _, r := range dropped {
		if r != heartbeat.ResultDropped {
			t.Fatalf("results while the monitor hangs: %v, want 7 x dropped", dropped)
		}
	}
	close(rcv.hold)
	ok := res.wait(t, 4)
	for _, r := range ok {
		if r != heartbeat.ResultOK {
			t.Fatalf("results after the monitor answered: %v, want 4 x ok", ok)
		}
	}
	p.Close()
	if !strings.Contains(log.String(), "heartbeat dropped") {
		t.Errorf("no warning logged for dropped pings:\n%s", log.String())
	}
}

func TestAPingThatHangsEndsAtItsTimeout(t *testing.T) {
	rcv := newReceiver(t)
	rcv.hold = make(chan struct{})
	defer close(rcv.hold)
	res := newResults()
	var log bytes.Buffer
	p, err := heartbeat.New(heartbeat.Config{URL: rcv.srv.URL + "/ping/hang", Timeout: 300 * time.Millisecond}, rcv.srv.Client(), quietLogger(&log), res.record)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Fail("x")
	if got := res.wait(t, 1); got[0] != heartbeat.ResultError {
		t.Fatalf("result %v, want error", got)
	}
	if !strings.Contains(log.String(), "no answer within 300ms") {
		t.Errorf("log does not say the ping timed out:\n%s", log.String())
	}
}

func TestFailedPingsAreCountedAndNeverLogTheURL(t *testing.T) {
	rcv := newReceiver(t)
	rcv.status = http.StatusNotFound
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()
	tests := []struct {
		name, url, wantLog string
	}{
		{"the monitor answers 404", rcv.srv.URL + "/ping/sekrit-uuid-1234", "404 Not Found"},
		{"nothing listens", "http://" + deadAddr + "/ping/sekrit-uuid-1234", "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := newResults()
			var log bytes.Buffer
			p, err := heartbeat.New(heartbeat.Config{URL: tc.url, Timeout: 5 * time.Second}, &http.Client{}, quietLogger(&log), res.record)
			if err != nil {
				t.Fatal(err)
			}
			p.Success()
			if got := res.wait(t, 1); got[0] != heartbeat.ResultError {
				t.Fatalf("result %v, want error", got)
			}
			p.Close()
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log does not say %q:\n%s", tc.wantLog, log.String())
			}
			if strings.Contains(log.String(), "sekrit-uuid") {
				t.Errorf("log carries the ping URL:\n%s", log.String())
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name    string
		cfg     heartbeat.Config
		wantErr string
	}{
		{"https anywhere", heartbeat.Config{URL: "https://hc-ping.com/sekrit-uuid"}, ""},
		{"plain http to loopback", heartbeat.Config{URL: "http://127.0.0.1:3001/api/push/sekrit-uuid"}, ""},
		{"plain http to localhost", heartbeat.Config{URL: "http://localhost/ping/sekrit-uuid"}, ""},
		{"plain http to IPv6 loopback", heartbeat.Config{URL: "http://[::1]:8000/ping/sekrit-uuid"}, ""},
		{"plain http elsewhere", heartbeat.Config{URL: "http://kuma.internal/api/push/sekrit-uuid"}, "set heartbeat.allow_http: true"},
		{"plain http elsewhere, allowed", heartbeat.Config{URL: "http://kuma.internal/api/push/sekrit-uuid", AllowHTTP: true}, ""},
		{"not a URL", heartbeat.Config{URL: "hc-ping.com/sekrit-uuid"}, "not an absolute URL"},
		{"another scheme", heartbeat.Config{URL: "ftp://hc-ping.com/sekrit-uuid"}, `got scheme "ftp"`},
		{"credentials in the URL", heartbeat.Config{URL: "https://user:sekrit-uuid@hc-ping.com/x"}, "must not carry a user name"},
		{"negative timeout", heartbeat.Config{URL: "https://hc-ping.com/sekrit-uuid", Timeout: -time.Second}, "heartbeat.timeout: must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), "sekrit-uuid"):
				t.Fatalf("error quotes the URL: %v", err)
			}
		})
	}
}

func TestReasonIsOneShortLine(t *testing.T) {
	rcv := newReceiver(t)
	res := newResults()
	var log bytes.Buffer
	p, err := heartbeat.New(heartbeat.Config{URL: rcv.srv.URL + "/p"}, rcv.srv.Client(), quietLogger(&log), res.record)
	if err != nil {
		t.Fatal(err)
	}
	p.Fail("line one\r\nline\ttwo\x00" + strings.Repeat("ü", 300))
	res.wait(t, 1)
	p.Close()
	got := strings.TrimPrefix(rcv.pings()[0], "POST /p/fail ")
	if len(got) > heartbeat.MaxReason || !strings.HasPrefix(got, "line one line two ü") || !strings.HasSuffix(got, "ü...") {
		t.Fatalf("reason (%d bytes): %q", len(got), got)
	}
}
