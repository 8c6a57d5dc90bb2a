package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/web"
)

// muteBook is a Muter that keeps mutes in memory, so the handlers'
// answers can be checked apart from the daemon's state file (the daemon's
// own test, TestMuteThroughTheListener, covers that).
type muteBook struct {
	mu    sync.Mutex
	mutes map[string]web.Mute
	n     int
}

func (b *muteBook) Mute(_ context.Context, r web.MuteRequest) (web.Mute, error) {
	d, err := time.ParseDuration(r.For)
	if err != nil || d > time.Hour {
		return web.Mute{}, &web.InputError{Msg: "a mute of " + r.For + " is longer than mute_max (1h0m0s)"}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	m := web.Mute{ID: fmt.Sprintf("mut_%d", b.n), Reason: r.Reason, Until: t0.Add(d), By: "api"}
	b.mutes[m.ID] = m
	return m, nil
}

func (b *muteBook) Unmute(_ context.Context, id string) (web.Mute, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.mutes[id]
	if !ok {
		return web.Mute{}, fmt.Errorf("%w: %s", web.ErrNoMute, id)
	}
	delete(b.mutes, id)
	return m, nil
}

func TestMuteHandlers(t *testing.T) {
	book := &muteBook{mutes: map[string]web.Mute{}}
	c := testkit.NewClock(t0)
	srv, err := web.Listen(web.Options{
		Config: web.Config{Listen: "127.0.0.1:0", Username: "ops", Password: "pw-1234"},
		Mutes:  book, Now: c.Now,
		Scrub: func(s string) string { return strings.ReplaceAll(s, "pw-1234", "[redacted]") },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	base := "http://" + srv.Addr()
	do := func(method, path, user, ctype, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if user != "" {
			req.SetBasicAuth(user, "pw-1234")
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name, method, path, user, ctype, body string
		code                                  int
		want                                  string
	}{
		{"POST without credentials", "POST", "/api/v1/mutes", "", "application/json", `{"for":"10m"}`, 401, "unauthorized"},
		{"POST of a mute", "POST", "/api/v1/mutes", "ops", "application/json", `{"for":"10m","reason":"deploy pw-1234"}`, 201, `"reason": "deploy [redacted]"`},
		{"POST of a mute too long", "POST", "/api/v1/mutes", "ops", "application/json", `{"for":"3h"}`, 400, "longer than mute_max"},
		{"POST of an unknown field", "POST", "/api/v1/mutes", "ops", "application/json", `{"for":"10m","until":"tomorrow"}`, 400, "the body is not a mute"},
		{"POST of a form", "POST", "/api/v1/mutes", "ops", "application/x-www-form-urlencoded", "for=10m", 415, "send the mute as JSON"},
		{"POST of no body", "POST", "/api/v1/mutes", "ops", "application/json", "", 400, "the body is not a mute"},
		{"GET of the mutes path", "GET", "/api/v1/mutes", "ops", "", "", 405, ""},
		{"DELETE without credentials", "DELETE", "/api/v1/mutes/mut_1", "", "", "", 401, "unauthorized"},
		{"DELETE of the mute", "DELETE", "/api/v1/mutes/mut_1", "ops", "", "", 200, `"id": "mut_1"`},
		{"DELETE of it again", "DELETE", "/api/v1/mutes/mut_1", "ops", "", "", 404, "no such mute: mut_1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(tc.method, tc.path, tc.user, tc.ctype, tc.body)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("%s %s: %d %s, want %d with %q", tc.method, tc.path, code, body, tc.code, tc.want)
			}
			if strings.Contains(body, "pw-1234") {
				t.Errorf("the answer shows the password: %s", body)
			}
			if code >= 400 && code != 405 {
				var e struct {
					Error string `json:"error"`
				}
				if code != 401 && (json.Unmarshal([]byte(body), &e) != nil || e.Error == "") {
					t.Errorf("error answer is not {\"error\": ...}: %s", body)
				}
			}
		})
	}
}

// Without a Muter (no daemon behind the listener) the paths answer 404.
func TestMuteHandlersWithoutAMuter(t *testing.T) {
	srv, err := web.Listen(web.Options{Config: web.Config{Listen: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	defer srv.Shutdown(context.Background())
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Post("http://"+srv.Addr()+"/api/v1/mutes", "application/json", strings.NewReader(`{"for":"10m"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST without a Muter: %d", resp.StatusCode)
	}
}

// An event held by a mute and sent later is one entry, not two.
func TestAMutedEventIsUpdatedInPlaceWhenSent(t *testing.T) {
	var l web.EventLog
	l.Add(web.EventView{ID: "evt_a", Kind: "operation.failed", Muted: true}, nil)
	l.Add(web.EventView{ID: "evt_b", Kind: "operation.failed", Muted: true}, nil)
	l.Add(web.EventView{ID: "evt_a", Kind: "operation.failed"}, []string{"hook"})
	got := l.Recent()
	if len(got) != 2 || got[1].ID != "evt_a" || got[1].Muted || len(got[1].Channels) != 1 || got[1].Channels[0].Result != web.ResultQueued || !got[0].Muted {
		t.Errorf("events after the release: %+v", got)
	}
}

// Mutes show on the page with their reason, escaped, and muted events are
// marked.
func TestThePageShowsMutesAndMutedEvents(t *testing.T) {
	c := testkit.NewClock(t0)
	board := web.NewBoard(c.Now)
	app := web.AppStatus{Name: "shop", Verdict: "CRITICAL",
		Events: []web.EventView{{ID: "evt_a", Kind: "operation.failed", Summary: "held back", OccurredAt: t0, Muted: true}},
		Mutes:  []web.Mute{{ID: "mut_1", Reason: "deploy " + hostile, Until: t0.Add(15 * time.Minute), By: "cli", KeepUnreachable: true}},
	}
	board.Set(app)
	srv, err := web.Listen(web.Options{Config: web.Config{Listen: "127.0.0.1:0"}, Board: board, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	defer srv.Shutdown(context.Background())
	a := get(t, "http://"+srv.Addr()+"/", "", "")
	for _, want := range []string{"mut_1", "deploy &lt;script&gt;", "still sent", "not sent (muted)", `<strong class="mutedev">muted</strong>`} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(a.body, "<script>document") {
		t.Error("the mute's reason is not escaped")
	}
	board.SetMutes("shop", nil)
	if st := board.Status(); len(st.Apps[0].Mutes) != 0 || st.Apps[0].Mutes == nil {
		t.Errorf("after SetMutes(nil): %#v", st.Apps[0].Mutes)
	}
}
