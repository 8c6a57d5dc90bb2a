package observe_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/runner"
	"github.com/seqwatch/seqwatch/internal/runner/runnertest"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/notify/webhook"
)

// These tests run the daemon in process, with its observer, and look at
// it from outside: its listener, its heartbeat, its page in a real
// browser and a real Prometheus scraping it.

const (
	httpPassword   = "listener-pass-5521"
	heartbeatToken = "hb-token-9e1f0c"
	// hookSecret signs the webhooks; the receiver verifies with it.
	hookSecret = "observe-test-signing-secret-41c2"
	// hookToken is in the webhook's path, as real webhook URLs carry one.
	hookToken = "tok-77"
	hookPath  = "/hooks/" + hookToken
)

const consoleChannel = "  - name: console\n    console: {}\n"

func hookChannel(url string) string {
	return fmt.Sprintf("  - name: hook\n    webhook:\n      url: %q\n      allow_http: true\n      secrets: [%q]\n", url, hookSecret)
}

// daemonConf is the configuration of the application at app named shop,
// its state at statePath, with extra top-level keys and one channel.
func daemonConf(app, statePath, extra, channel string) string {
	return fmt.Sprintf("app: %s\nname: shop\nenvironment: test\n%sstate:\n  path: %s\nchannels:\n%s", app, extra, statePath, channel)
}

// writeConf writes conf as dir/seqwatch.yaml and returns its path.
func writeConf(t *testing.T, dir, conf string) string {
	t.Helper()
	p := filepath.Join(dir, "seqwatch.yaml")
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newHookReceiver is a webhook receiver as a real one is written: it
// verifies the Standard Webhooks signature with webhook.Verify and
// answers 200; a request it cannot verify fails the test.
func newHookReceiver(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return
		}
		if r.URL.Path != hookPath || r.Method != http.MethodPost {
			t.Errorf("webhook receiver: %s %s", r.Method, r.URL.Path)
			http.Error(w, "rejected", http.StatusNotFound)
			return
		}
		if err := webhook.Verify(hookSecret, r.Header, body, time.Now(), 0); err != nil {
			t.Errorf("webhook receiver: signature: %v", err)
			http.Error(w, "rejected", http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// pingReceiver is a healthchecks.io-style monitor on loopback.
type pingReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

func newPingReceiver(t *testing.T) *pingReceiver {
	p := &pingReceiver{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.got = append(p.got, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(body)))
		p.mu.Unlock()
		fmt.Fprintln(w, "OK")
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pingReceiver) pings() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

// The daemon with a listener and a heartbeat, seen from outside: a real
// Prometheus, promtool, Chromium and a heartbeat receiver.
func TestRunListenerEndToEnd(t *testing.T) {
	start := time.Now()
	app, db := runnertest.SQLiteApp(t, start)
	hook := newHookReceiver(t)
	ping := newPingReceiver(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "http-password")
	if err := os.WriteFile(pwFile, []byte(httpPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := daemonConf(app, filepath.Join(dir, "state.json"), "schedule: \"@every 1s\"\nthresholds:\n  max_pending: 1\n", hookChannel(hook.URL+hookPath))
	conf += fmt.Sprintf("http:\n  username: ops\n  password_file: %s\n  refresh: 2s\nheartbeat:\n  url: %s/ping/%s\n  timeout: 5s\n", pwFile, ping.srv.URL, heartbeatToken)
	cfgPath := filepath.Join(dir, "seqwatch.yaml")
	if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := testkit.FreeAddr(t)
	base := "http://" + addr

	logs := runnertest.StartDaemon(t, cfgPath, addr)

	testkit.Eventually(t, 30*time.Second, "/readyz", func() (bool, string) {
		a := runnertest.Get(t, base+"/readyz", "", "")
		return a.Code == 200, fmt.Sprintf("%d %s\n%s", a.Code, a.Body, logs.String())
	})

	t.Run("401 without credentials, and no data", func(t *testing.T) {
		for _, p := range []string{"/", "/api/v1/status", "/metrics"} {
			a := runnertest.Get(t, base+p, "", "")
			if a.Code != 401 || strings.Contains(a.Body, "shop") || strings.Contains(a.Body, "seqwatch_") {
				t.Errorf("GET %s without credentials: %d %s", p, a.Code, a.Body)
			}
			if a := runnertest.Get(t, base+p, "ops", "wrong"); a.Code != 401 {
				t.Errorf("GET %s with a wrong password: %d", p, a.Code)
			}
		}
	})

	t.Run("the API shows what the daemon read and sent", func(t *testing.T) {
		var st web.Status
		testkit.Eventually(t, 30*time.Second, "an event delivered to hook", func() (bool, string) {
			a := runnertest.Get(t, base+"/api/v1/status", "ops", httpPassword)
			st = web.Status{}
			if err := json.Unmarshal([]byte(a.Body), &st); err != nil || len(st.Apps) != 1 {
				return false, a.Body
			}
			for _, ev := range st.Apps[0].Events {
				for _, c := range ev.Channels {
					if c.Channel == "hook" && c.Result == web.ResultDelivered {
						return true, ""
					}
				}
			}
			return false, a.Body
		})
		a := st.Apps[0]
		if st.Version != 1 || a.Name != "shop" || a.Verdict != "CRITICAL" || len(a.Failing) == 0 || a.LastReadAt.IsZero() || a.Pending.Threshold != 1 {
			t.Errorf("status: %+v", st)
		}
		if len(a.Channels) != 1 || a.Channels[0].Name != "hook" || a.Mutes == nil {
			t.Errorf("channels %+v, mutes %v", a.Channels, a.Mutes)
		}
	})

	t.Run("promtool check metrics passes on a scrape of the daemon", func(t *testing.T) {
		promtool := testkit.RequireBinary(t, "promtool")
		a := runnertest.Get(t, base+"/metrics", "ops", httpPassword)
		for _, want := range []string{`seqwatch_reads_total{app="shop"}`, `seqwatch_deliveries_total{channel="hook",result="delivered"}`, `seqwatch_open_problems{app="shop",kind="failing"}`, `seqwatch_heartbeats_total{result="ok"}`, "go_goroutines", "process_resident_memory_bytes"} {
			if !strings.Contains(a.Body, want) {
				t.Errorf("the scrape lacks %s", want)
			}
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(a.Body)
		if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	})

	t.Run("a real Prometheus scrapes the daemon", func(t *testing.T) {
		prom := testkit.StartPrometheus(t, addr, "ops", httpPassword)
		labels, v := testkit.QueryPrometheus(t, prom, `seqwatch_last_successful_read_timestamp_seconds{app="shop"}`, 60*time.Second)
		var got float64
		fmt.Sscan(v, &got)
		if labels["instance"] != addr || got < float64(start.Unix()) {
			t.Fatalf("last successful read %s (%v), want a time after %d from %s", v, labels, start.Unix(), addr)
		}
		if _, v := testkit.QueryPrometheus(t, prom, `sum(seqwatch_deliveries_total{result="delivered"})`, 10*time.Second); v == "0" {
			t.Errorf("delivered = %s", v)
		}
	})

	t.Run("the heartbeat pings after the ticks", func(t *testing.T) {
		testkit.Eventually(t, 10*time.Second, "a success ping", func() (bool, string) {
			for _, p := range ping.pings() {
				if p == "GET /ping/"+heartbeatToken {
					return true, ""
				}
			}
			return false, strings.Join(ping.pings(), "\n")
		})
	})

	t.Run("the page shows a new failure without a reload", func(t *testing.T) {
		ctx := browserTab(t)
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+httpPassword))
		if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var consoleErrs []string
		messages := chromedp.Console(ctx)
		go func() {
			for m, err := range messages {
				if err != nil {
					return
				}
				if m.Type == chromedp.ConsoleException || m.Type == "error" {
					mu.Lock()
					consoleErrs = append(consoleErrs, m.String())
					mu.Unlock()
				}
			}
		}()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("table.failing"))); err != nil {
			t.Fatal(err)
		}
		hostile := `<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'"> <!channel>`
		runnertest.InsertFailure(t, db, "2024_06_01_000000_NewlyBroken", time.Now().UTC(), "LogicException", "broken again "+hostile)
		// The page refreshes itself (http.refresh: 2s); the daemon ticks
		// every second. No reload from the test.
		testkit.Eventually(t, 30*time.Second, "the new failure on the page", func() (bool, string) {
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			return err == nil && strings.Contains(text, "2024_06_01_000000_NewlyBroken") && strings.Contains(text, "broken again "+hostile),
				fmt.Sprintf("%v; the page says:\n%s\nthe daemon logged:\n%s", err, text, logs.String())
		})
		title, err := chromedp.Run(ctx, chromedp.Title())
		if err != nil {
			t.Fatal(err)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("script, img").length`))
		if err != nil || n != 0 || strings.Contains(title, "pwned") {
			t.Errorf("the data ran or made elements: %d script/img, title %q, %v", n, title, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(consoleErrs) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(consoleErrs, "\n"))
		}
	})

	t.Run("no secret in any response", func(t *testing.T) {
		secrets := []string{httpPassword, heartbeatToken, hookSecret, hookToken}
		for _, p := range []string{"/", "/api/v1/status", "/metrics", "/healthz", "/readyz", "/nope"} {
			for _, creds := range [][2]string{{"", ""}, {"ops", httpPassword}} {
				a := runnertest.Get(t, base+p, creds[0], creds[1])
				for _, s := range secrets {
					if strings.Contains(a.Body, s) {
						t.Errorf("GET %s (user %q) shows the secret %q", p, creds[0], s)
					}
				}
			}
		}
	})
}

// browserTab starts a real headless Chromium with a fresh profile.
func browserTab(t *testing.T) context.Context {
	t.Helper()
	bin := testkit.RequireBinary(t, "chromium")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

func TestRunOncePingsTheHeartbeatBeforeExiting(t *testing.T) {
	tests := []struct {
		name     string
		breakDB  bool
		wantPing string
	}{
		{"a good read pings the URL", false, "GET /ping/" + heartbeatToken},
		{"a failed read pings URL/fail with the reason", true, "POST /ping/" + heartbeatToken + "/fail "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			app, _ := runnertest.SQLiteApp(t, now)
			if tc.breakDB {
				if err := os.Remove(filepath.Join(app, "database", "database.sqlite")); err != nil {
					t.Fatal(err)
				}
			}
			ping := newPingReceiver(t)
			dir := t.TempDir()
			conf := daemonConf(app, filepath.Join(dir, "state.json"), "on_first_run: silent\n", consoleChannel)
			conf += fmt.Sprintf("heartbeat:\n  url: %s/ping/%s\n  send_start: true\n", ping.srv.URL, heartbeatToken)
			p := filepath.Join(dir, "seqwatch.yaml")
			if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			logs, err := runnertest.RunOnce(t, p)
			got := ping.pings()
			if len(got) != 2 || got[0] != "GET /ping/"+heartbeatToken+"/start" || !strings.HasPrefix(got[1], tc.wantPing) {
				t.Fatalf("pings %q, want start then %q (%v)\n%s", got, tc.wantPing, err, logs)
			}
			if tc.breakDB && !strings.Contains(got[1], "does not exist") {
				t.Errorf("the fail ping does not say why: %q", got[1])
			}
		})
	}
}

// A listen address another process holds stops the daemon with one
// sentence naming it, never a stack dump.
func TestObserverRefusesATakenListenAddress(t *testing.T) {
	app, _ := runnertest.SQLiteApp(t, time.Now())
	dir := t.TempDir()
	cfgPath := writeConf(t, dir, daemonConf(app, filepath.Join(dir, "state.json"), "", consoleChannel))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := config.LoadValid(t.Context(), cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := runner.NewObserver(cfg, ln.Addr().String(), "test", time.Now, runnertest.Logger(io.Discard), &text.SecretSet{})
	if err == nil {
		obs.Close()
		t.Fatal("the observer listened on a taken address")
	}
	if want := "http.listen: " + ln.Addr().String() + " is already in use by another process"; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "goroutine ") {
		t.Fatalf("error %q, want one sentence with %q", err, want)
	}
}

// /healthz says 503 while a tick is stuck past its deadline on a table a
// deploy has locked, and 200 again once the tick ends.
func TestHealthzIs503WhileATickIsStuckOnALockedTable(t *testing.T) {
	srv := dbtest.NewPostgresServer(t)
	db := srv.NewDatabase(t)
	dbtest.CreateSchema(t, db, dbtest.Schema{})
	app := t.TempDir()
	dbtest.WriteApp(t, app, db, dbtest.AppFiles{Operations: []string{"2024_01_15_130000_NotifyUsers"}})
	db.InsertOps(t, dbtest.Schema{}, dbtest.Op{Name: "2024_01_15_130000_NotifyUsers", ExecutedAt: "2024-01-15 13:00:00", CompletedAt: "2024-01-15 13:00:05"})

	dir := t.TempDir()
	cfgPath := writeConf(t, dir, daemonConf(app, filepath.Join(dir, "state.json"), "on_first_run: silent\nschedule: \"@every 10m\"\ntick_timeout: 2m\n", consoleChannel))
	cfg, err := config.LoadValid(t.Context(), cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	clock := testkit.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC))
	var logs testkit.Logs
	logger := runnertest.Logger(&logs)
	obs, err := runner.NewObserver(cfg, "127.0.0.1:0", "test", clock.Now, logger, &text.SecretSet{})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	d, _ := runnertest.App(t, cfgPath, runner.Deps{Now: clock.Now, Sleep: runnertest.NoSleep, Stdout: io.Discard, Logger: logger}, func(dd *daemon.Deps) { dd.Observer = obs })
	obs.StateLoaded()
	base := "http://" + obs.Addr()
	health := func() (int, web.HealthReport) {
		a := runnertest.Get(t, base+"/healthz", "", "")
		var r web.HealthReport
		if err := json.Unmarshal([]byte(a.Body), &r); err != nil {
			t.Fatalf("/healthz body is not JSON: %v: %s", err, a.Body)
		}
		return a.Code, r
	}

	if err := d.Tick(context.Background()); err != nil {
		t.Fatalf("first tick: %v\n%s", err, logs.String())
	}
	if code, r := health(); code != 200 {
		t.Fatalf("/healthz after a good tick: %d %+v", code, r)
	}

	// A deploy's migration holds the operations table.
	locker, release := db.LockTable(t, "operations")
	tickDone := make(chan error, 1)
	go func() { tickDone <- d.Tick(context.Background()) }()
	testkit.Eventually(t, 30*time.Second, "the tick waiting on the lock", func() (bool, string) {
		var waiting int
		err := locker.QueryRow(`select count(*) from pg_locks where not granted and relation = 'operations'::regclass`).Scan(&waiting)
		return err == nil && waiting > 0, fmt.Sprint(waiting, err)
	})
	if code, r := health(); code != 200 || r.Reason != "a tick is running" {
		t.Fatalf("/healthz while the tick is within its deadline: %d %+v", code, r)
	}
	clock.Add(d.MaxTick() + time.Second)
	code, r := health()
	if code != 503 || r.Status != "failing" || !strings.Contains(r.Reason, "the tick loop is wedged") || !strings.Contains(r.Reason, "past its deadline") {
		t.Fatalf("/healthz with the tick stuck past its deadline: %d %+v", code, r)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tickDone:
	case <-time.After(30 * time.Second):
		t.Fatal("the tick did not end after the lock was released")
	}
	if code, r := health(); code != 200 {
		t.Fatalf("/healthz after the tick ended: %d %+v", code, r)
	}
}
