package notifytest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
)

// CutBodyServer answers every request with status and the start of a
// body promised longer (Content-Length), then closes the connection: a
// service that took the request and whose answer broke off. Requests
// counts what reached it.
type CutBodyServer struct {
	*httptest.Server
	Requests atomic.Int32
}

// NewCutBodyServer starts a CutBodyServer that sends partial of a body it
// says is 4 KiB long; it is closed at the end of the test.
func NewCutBodyServer(t *testing.T, status int, partial string) *CutBodyServer {
	t.Helper()
	s := &CutBodyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n%s", status, http.StatusText(status), partial)
		_ = buf.Flush()
	}))
	t.Cleanup(s.Close)
	return s
}

// CheckSentOnce fails the test unless n, a notifier that sends to s, sends
// a failure in one request and says it was sent (no error, no retry): the
// service answered before its answer broke off.
func (s *CutBodyServer) CheckSentOnce(t *testing.T, n notify.Notifier) {
	t.Helper()
	retry, err := n.Notify(context.Background(), []notify.Event{Failure("shop/op")})
	if err != nil || retry {
		t.Fatalf("Notify: retry=%v err=%v, want it sent (the service answered 200)", retry, err)
	}
	if got := s.Requests.Load(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}
