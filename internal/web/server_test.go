package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/metrics"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/internal/web"
)

var t0 = time.Date(2026, 3, 14, 12, 10, 0, 0, time.UTC)

// hostile is text from the database written to break the page.
const hostile = `<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'"> <!channel> <@U123> & "quotes"`

// sampleApp is a CRITICAL application with one failing operation whose
// message and trace are hostile (markup, and control and bidi characters).
func sampleApp(now time.Time) web.AppStatus {
	return web.AppStatus{
		Name: "shop", Environment: "production", Verdict: "CRITICAL",
		Summary:    "1 failed operation (2024_01_13_120000_FailedOperation: RuntimeException: Database connection lost)",
		LastReadAt: now.Add(-2 * time.Second), LastSuccessfulReadAt: now.Add(-2 * time.Second),
		Failing: []web.Failure{{
			ID: "42", Name: "2024_01_13_120000_FailedOperation", Type: "sync", FailedAt: now.Add(-3 * time.Hour),
			Errors: []web.ErrorView{{
				Exception: `Illuminate\Database\QueryException`, Message: "Database connection lost " + hostile + controls,
				Trace: "#0 /var/www/shop/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825)\n#1 " + hostile, CreatedAt: now.Add(-3 * time.Hour),
			}},
		}},
		InProgress:        []web.Running{{ID: "43", Name: "2024_02_01_090000_ReindexSearch", Type: "async", ExecutedAt: now.Add(-70 * time.Minute), RunningForSeconds: 4200, Stuck: true}},
		Pending:           web.Pending{Count: 12, Threshold: 10, Names: []string{"2024_03_01_000000_Backfill"}},
		DeferredExhausted: []web.Deferred{{ID: "7", Operation: "SendInvoices", Attempts: 5, MaxAttempts: 5, LastError: "SMTP timeout " + hostile}},
		Events: []web.EventView{{ID: "ev-1", Kind: "operation.failed", Key: "operation.failed/x/42", Summary: "2024_01_13_120000_FailedOperation failed: " + hostile, OccurredAt: now.Add(-3 * time.Hour),
			Channels: []web.ChannelResult{{Channel: "slack-ops", Result: web.ResultDelivered, Attempts: 1}, {Channel: "hook", Result: web.ResultRetrying, Attempts: 3, LastError: "503 Service Unavailable"}}}},
		Channels: []web.ChannelState{{Name: "slack-ops"}, {Name: "hook", Outbox: 1}},
	}
}

type fixture struct {
	srv   *web.Server
	clock *testkit.Clock
	board *web.Board
	live  *web.Liveness
	base  string
}

func start(t *testing.T, cfg web.Config, scrub func(string) string) *fixture {
	t.Helper()
	c := testkit.NewClock(t0)
	f := &fixture{clock: c, board: web.NewBoard(c.Now), live: web.NewLiveness(c.Now)}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	m := metrics.New("test")
	m.Pending("shop", 12)
	srv, err := web.Listen(web.Options{Config: cfg, Board: f.board, Liveness: f.live, Metrics: m.Handler(5 * time.Second), Scrub: scrub, Now: c.Now, Refresh: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	f.srv, f.base = srv, "http://"+srv.Addr()
	return f
}

type answer struct {
	code int
	body string
	hdr  http.Header
}

func get(t *testing.T, url, user, pass string) answer {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header}
}

func TestBasicAuthGuardsEveryDataPath(t *testing.T) {
	f := start(t, web.Config{Username: "ops", Password: "correct horse"}, nil)
	f.board.Set(sampleApp(t0))
	f.live.StateLoaded()
	f.live.TickStarted(time.Minute)
	f.live.TickEnded()
	tests := []struct {
		name, path, user, pass string
		want                   int
	}{
		{"page without credentials", "/", "", "", 401},
		{"API without credentials", "/api/v1/status", "", "", 401},
		{"metrics without credentials", "/metrics", "", "", 401},
		{"page with a wrong password", "/", "ops", "wrong", 401},
		{"page with a wrong user", "/", "admin", "correct horse", 401},
		{"page with credentials", "/", "ops", "correct horse", 200},
		{"API with credentials", "/api/v1/status", "ops", "correct horse", 200},
		{"metrics with credentials", "/metrics", "ops", "correct horse", 200},
		{"liveness is open to probes", "/healthz", "", "", 200},
		{"readiness is open to probes", "/readyz", "", "", 200},
		{"unknown path behind auth", "/nope", "", "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := get(t, f.base+tc.path, tc.user, tc.pass)
			if a.code != tc.want {
				t.Fatalf("GET %s: %d, want %d\n%s", tc.path, a.code, tc.want, a.body)
			}
			if tc.want == 401 {
				if a.hdr.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				for _, data := range []string{"shop", "FailedOperation", "seqwatch_"} {
					if strings.Contains(a.body, data) {
						t.Errorf("401 body carries data %q: %s", data, a.body)
					}
				}
			}
		})
	}
}

func TestHealthzIs503WhenATickOverrunsItsDeadline(t *testing.T) {
	f := start(t, web.Config{}, nil)
	steps := []struct {
		name       string
		do         func()
		want       int
		wantReason string
	}{
		{"before the first tick", func() {}, 200, "has not started"},
		{"a tick within its deadline", func() { f.live.TickStarted(30 * time.Second); f.clock.Add(29 * time.Second) }, 200, "a tick is running"},
		{"the tick past its deadline", func() { f.clock.Add(2 * time.Second) }, 503, "wedged: a tick has been running for 31s, past its deadline of 30s"},
		{"the tick ends", func() { f.live.TickEnded() }, 200, "running"},
		// Several applications tick side by side: one wedged tick is
		// enough, whatever the others do.
		{"two applications within their deadlines", func() {
			f.live.AppTickStarted("shop", 30*time.Second)
			f.clock.Add(20 * time.Second)
			f.live.AppTickStarted("blog", 30*time.Second)
		}, 200, "a tick is running"},
		{"one application past its deadline while the other ticks on", func() {
			f.clock.Add(11 * time.Second)
			f.live.AppTickEnded("blog")
			f.live.AppTickStarted("blog", 30*time.Second)
		}, 503, "wedged: a tick has been running for 31s"},
		{"the wedged application's tick ends", func() { f.live.AppTickEnded("shop") }, 200, "a tick is running"},
	}
	for _, s := range steps {
		s.do()
		a := get(t, f.base+"/healthz", "", "")
		var r web.HealthReport
		if err := json.Unmarshal([]byte(a.body), &r); err != nil {
			t.Fatalf("%s: body is not JSON: %v\n%s", s.name, err, a.body)
		}
		if a.code != s.want || !strings.Contains(r.Reason, s.wantReason) {
			t.Errorf("%s: %d %q, want %d and a reason with %q", s.name, a.code, r.Reason, s.want, s.wantReason)
		}
		if ct := a.hdr.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", s.name, ct)
		}
	}
}

func TestReadyzWaitsForTheStateAndTheFirstRead(t *testing.T) {
	f := start(t, web.Config{}, nil)
	steps := []struct {
		name       string
		do         func()
		want       int
		wantReason string
	}{
		{"at start", func() {}, 503, "state is not loaded"},
		{"state loaded", f.live.StateLoaded, 503, "first read is not done"},
		{"first read running", func() { f.live.TickStarted(time.Minute) }, 503, "first read is not done"},
		{"first read done", f.live.TickEnded, 200, "first read is done"},
	}
	for _, s := range steps {
		s.do()
		a := get(t, f.base+"/readyz", "", "")
		if a.code != s.want || !strings.Contains(a.body, s.wantReason) {
			t.Errorf("%s: %d %s, want %d with %q", s.name, a.code, a.body, s.want, s.wantReason)
		}
	}
}

func TestATakenAddressIsAnErrorNamingIt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = web.Listen(web.Options{Config: web.Config{Listen: ln.Addr().String()}})
	if err == nil {
		t.Fatal("listening on a taken address succeeded")
	}
	want := "http.listen: " + ln.Addr().String() + " is already in use by another process"
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	// What to do about it is the command's to say (it knows its flags):
	// the error gives it the system's reason.
	var le *web.ListenError
	if !errors.As(err, &le) || !errors.Is(err, syscall.EADDRINUSE) || le.Addr != ln.Addr().String() {
		t.Errorf("error %#v is not a ListenError for EADDRINUSE at %s", err, ln.Addr())
	}
	if regexp.MustCompile(`(^|[\s(])--?[a-z]`).MatchString(err.Error()) || strings.Contains(err.Error(), "seqwatch.yaml") {
		t.Errorf("error %q names a flag or the configuration file", err)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  web.Config
		want string
	}{
		{"default", web.Config{}, ""},
		{"address", web.Config{Listen: "127.0.0.1:9477"}, ""},
		{"port only", web.Config{Listen: ":9477"}, ""},
		{"no port", web.Config{Listen: "127.0.0.1"}, "http.listen: must be host:port"},
		{"port out of range", web.Config{Listen: "127.0.0.1:99999"}, "http.listen: the port must be a number up to 65535"},
		{"port by name", web.Config{Listen: "127.0.0.1:http"}, "http.listen: the port must be a number"},
		{"any free port", web.Config{Listen: "127.0.0.1:0"}, ""},
		{"user without password", web.Config{Username: "ops"}, "http.password: username is set but no password"},
		{"password without user", web.Config{Password: "sekrit-pw"}, "http.username: a password is set"},
		{"colon in user", web.Config{Username: "a:b", Password: "sekrit-pw"}, "must not contain a colon"},
		{"refresh too often", web.Config{Refresh: 100 * time.Millisecond}, "http.refresh: must be 1s or more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "sekrit-pw") {
				t.Fatalf("error quotes the password: %v", err)
			}
		})
	}
}

func TestAPortWithoutAHostBindsLoopback(t *testing.T) {
	if got := web.Address(":9477"); got != "127.0.0.1:9477" {
		t.Fatalf("Address(:9477) = %s", got)
	}
	if got := web.Address("0.0.0.0:9477"); got != "0.0.0.0:9477" {
		t.Fatalf("Address(0.0.0.0:9477) = %s", got)
	}
}

func TestAPIServesVersionedDocument(t *testing.T) {
	f := start(t, web.Config{}, nil)
	f.board.Set(web.AppStatus{Name: "empty"}) // nothing read yet
	f.board.Set(sampleApp(t0))
	a := get(t, f.base+"/api/v1/status", "", "")
	if a.code != 200 || a.hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", a.code, a.hdr.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(a.body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != float64(1) || doc["generated_at"] != t0.Format(time.RFC3339) {
		t.Fatalf("version/generated_at: %v %v", doc["version"], doc["generated_at"])
	}
	apps := doc["apps"].([]any)
	empty := apps[0].(map[string]any)
	if empty["verdict"] != "UNKNOWN" {
		t.Errorf("an app never read has verdict %v, want UNKNOWN", empty["verdict"])
	}
	for _, list := range []string{"notices", "failing", "in_progress", "scheduled", "deferred_exhausted", "events", "mutes", "channels"} {
		if v, ok := empty[list].([]any); !ok || len(v) != 0 {
			t.Errorf("%s of an empty app is %#v, want []", list, empty[list])
		}
	}
	var st web.Status
	if err := json.Unmarshal([]byte(a.body), &st); err != nil {
		t.Fatal(err)
	}
	shop := st.Apps[1]
	// The markup round-trips; the control and bidi characters are cleaned
	// away (text.Clean), as on the page.
	if want := "Database connection lost " + hostile + text.Clean(controls); shop.Failing[0].Errors[0].Message != want {
		t.Errorf("message did not round-trip: %q, want %q", shop.Failing[0].Errors[0].Message, want)
	}
	if !shop.Pending.Over() || shop.Events[0].Channels[1].Result != "retrying" || !shop.InProgress[0].Stuck {
		t.Errorf("document: %+v", shop)
	}
	// encoding/json escapes <, > and &: the document is safe even if a
	// browser is tricked into reading it as HTML.
	if strings.Contains(a.body, "<script") {
		t.Error("the JSON carries a raw <script")
	}
}

func TestThePageShowsHostileTextAsText(t *testing.T) {
	f := start(t, web.Config{}, nil)
	f.board.Set(sampleApp(t0))
	a := get(t, f.base+"/", "", "")
	if a.code != 200 || !strings.HasPrefix(a.hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", a.code, a.hdr.Get("Content-Type"))
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="1">`,
		"2024_01_13_120000_FailedOperation",
		`&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;`,
		`&lt;img src=x onerror=`,
		`&lt;!channel&gt;`,
		"<details><summary>Trace</summary>",
		"12 pending, threshold 10: over the threshold",
		`<span class="result-retrying">retrying</span> (3 attempts)`,
		"No active mutes.",
		`<strong class="err">stuck</strong>`,
		"1h 10m",
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", "<img", "<!channel>"} {
		if strings.Contains(a.body, bad) {
			t.Errorf("page carries raw %s", bad)
		}
	}
	if csp := a.hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

func TestNoSecretInAnyResponse(t *testing.T) {
	secrets := []string{"correct horse", "hooks.slack.com/services/T000/B000/sekrit", "db-pass-7781"}
	// The daemon's scrubber (cmd/seqwatch pageScrubber) does this.
	scrub := func(s string) string { return text.RedactAs(s, "[redacted]", secrets...) }
	f := start(t, web.Config{Username: "ops", Password: "correct horse"}, scrub)
	app := sampleApp(t0)
	app.ReadError = "cannot connect to pgsql://shop:db-pass-7781@db:5432/shop"
	app.Events[0].Channels[1].LastError = `Post "https://hooks.slack.com/services/T000/B000/sekrit": dial tcp: i/o timeout`
	app.Failing[0].Errors[0].Message = "password db-pass-7781 rejected"
	f.board.Set(app)
	f.live.StateLoaded()
	f.live.TickStarted(time.Second)
	f.clock.Add(time.Hour)
	for _, path := range []string{"/", "/api/v1/status", "/metrics", "/healthz", "/readyz"} {
		for _, creds := range [][2]string{{"", ""}, {"ops", "correct horse"}} {
			a := get(t, f.base+path, creds[0], creds[1])
			for _, sec := range secrets {
				if strings.Contains(a.body, sec) {
					t.Errorf("GET %s (user %q) shows a secret: %q", path, creds[0], sec)
				}
			}
		}
	}
	if a := get(t, f.base+"/", "ops", "correct horse"); !strings.Contains(a.body, "[redacted]") {
		t.Error("the page does not show where a secret was removed")
	}
}

func TestShutdownFreesTheAddress(t *testing.T) {
	f := start(t, web.Config{}, nil)
	addr := f.srv.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("address still taken after Shutdown: %v", err)
	}
	ln.Close()
}

func TestEventLogKeepsTheLastFiftyNewestFirst(t *testing.T) {
	var l web.EventLog
	for i := range 60 {
		l.Add(web.EventView{ID: string(rune('A'+i%26)) + string(rune('0'+i/26)), Summary: "e"}, []string{"slack", "mail"})
	}
	l.Update("H2", "slack", web.ResultDelivered, 1, "")   // i=59
	l.Update("A0", "slack", web.ResultDelivered, 1, "")   // dropped: ignored
	l.Update("H2", "hook", web.ResultDead, 1, "410 Gone") // a channel not queued before
	got := l.Recent()
	if len(got) != web.MaxEvents || got[0].ID != "H2" || got[49].ID != "K0" {
		t.Fatalf("%d events, first %s, last %s", len(got), got[0].ID, got[len(got)-1].ID)
	}
	want := []web.ChannelResult{{Channel: "slack", Result: "delivered", Attempts: 1}, {Channel: "mail", Result: "queued"}, {Channel: "hook", Result: "dead", Attempts: 1, LastError: "410 Gone"}}
	if len(got[0].Channels) != 3 || got[0].Channels[0] != want[0] || got[0].Channels[1] != want[1] || got[0].Channels[2] != want[2] {
		t.Fatalf("channels %+v", got[0].Channels)
	}
}
