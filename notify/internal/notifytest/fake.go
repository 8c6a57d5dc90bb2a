package notifytest

import (
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Receiver is the part every channel's fake receiver shares: an httptest
// server on loopback, closed when the test ends; the answer the test chose
// for the requests to come (A, the channel's own enumeration); and the
// messages it accepted (M), all behind one lock that is held while a
// request is served. A channel's fake embeds it and keeps in its own
// handler what its service checks, refuses and answers.
type Receiver[A, M any] struct {
	T      *testing.T
	Server *httptest.Server

	mu     sync.Mutex
	answer A
	got    []M
}

// Start serves each request with serve, under the receiver's lock, until
// the test ends.
func (r *Receiver[A, M]) Start(t *testing.T, serve http.HandlerFunc) {
	r.T = t
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		serve(w, req)
	}))
	t.Cleanup(r.Server.Close)
}

// SetAnswer makes the receiver answer the requests to come with a.
func (r *Receiver[A, M]) SetAnswer(a A) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = a
}

// Accepted returns the messages the receiver has accepted, in order.
func (r *Receiver[A, M]) Accepted() []M {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]M(nil), r.got...)
}

// Do runs fn under the receiver's lock, for the state a fake keeps
// besides (a thread it deletes, a setting it changes).
func (r *Receiver[A, M]) Do(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn()
}

// Answer is the answer the test chose. Only a handler calls it: it
// runs under the lock.
func (r *Receiver[A, M]) Answer() A { return r.answer }

// Keep records m as accepted. Only a handler calls it: it runs under the
// lock.
func (r *Receiver[A, M]) Keep(m M) { r.got = append(r.got, m) }

// Kept is how many messages the receiver has accepted. Only a handler
// calls it: it runs under the lock.
func (r *Receiver[A, M]) Kept() int { return len(r.got) }

// JSONBody checks that req says it carries JSON and reads its body. A
// body that cannot be read is a test error, and ok is false: the handler
// then answers nothing more.
func (r *Receiver[A, M]) JSONBody(req *http.Request) (body []byte, ok bool) {
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/json" {
		r.T.Errorf("Content-Type %q, want application/json", req.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.T.Errorf("reading the body: %v", err)
		return nil, false
	}
	return body, true
}
