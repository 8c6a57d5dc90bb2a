package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quietApp is the demo application without its failures: check says OK.
func quietApp(t *testing.T) string {
	t.Helper()
	dir, db := sqliteApp(t, demoNow)
	for _, q := range []string{`DELETE FROM operation_errors`, `DELETE FROM operations WHERE failed_at IS NOT NULL`, `DELETE FROM deferred_operations`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "seqwatch.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateNamesEachBadApplicationEntry(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"duplicate names", "apps:\n  - name: shop\n    database: {url: sqlite:///a.sqlite}\n  - name: shop\n    database: {url: sqlite:///b.sqlite}\n",
			[]string{`line 4: apps[1].name: application name "shop" is already used by apps[0]`}},
		{"neither app nor database.url", "apps:\n  - name: shop\n    environment: production\n",
			[]string{`line 2: apps[0]: application "shop" has neither app (the Laravel application root) nor database.url: set one`}},
		{"no name", "apps:\n  - app: /srv/shop\n", []string{"apps[0].name: every application needs a name"}},
		{"a name that cannot label perfdata", "apps:\n  - name: my shop\n    app: /srv/shop\n", []string{`apps[0].name: "my shop": use letters, digits, _ and - only`}},
		{"two entries reading the same database", "apps:\n  - name: a\n    database: {url: sqlite:///same.sqlite}\n  - name: b\n    database: {url: sqlite:///same.sqlite}\n",
			[]string{`apps[1]: application "b" reads the same database and files as apps[0]: remove one of them`}},
		{"app at the top level beside apps", "app: /srv/shop\napps:\n  - name: a\n    app: /srv/a\n",
			[]string{"line 1: app: with apps: each application sets its own app; move it into its entry under apps"}},
		{"a bad override names its entry", "apps:\n  - name: a\n    app: /srv/a\n    thresholds:\n      max_pending: -1\n    schedule: every minute\n",
			[]string{"line 5: apps[0].thresholds.max_pending: must be 0 (off) or more (got -1)", "line 6: apps[0].schedule:"}},
		{"a lease no longer than a tick", "schedule: \"@every 1m\"\nstate: {postgres: \"postgres://x@127.0.0.1/s\", lease: 1m}\napps:\n  - name: a\n    app: /srv/a\n",
			[]string{`state.lease: must be longer than a tick and its deadline (1m30s for "a"), or the sender would change at every tick (got 1m0s)`}},
		{"a negative concurrency", "concurrency: -2\napps:\n  - name: a\n    app: /srv/a\n",
			[]string{"line 1: concurrency: must be 1 or more, or 0 for the default (got -2)"}},
		{"an unknown key in an entry", "apps:\n  - name: a\n    app: /srv/a\n    thresholds:\n      max_pendin: 3\n",
			[]string{`line 5: unknown key "max_pendin"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeConfig(t, t.TempDir(), c.yaml)
			r := runCmd(t, nil, "validate", "--config", p)
			if r.code != 1 {
				t.Fatalf("validate: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			mustContain(t, "validate", r.stdout+r.stderr, c.want...)
		})
	}
	_ = dir
}

func TestCheckOverSeveralApplicationsPrintsTheWorstWithPerfdataPerApplication(t *testing.T) {
	dir := t.TempDir()
	shop, _ := sqliteApp(t, demoNow)
	blog := quietApp(t)
	p := writeConfig(t, dir, "apps:\n  - name: shop\n    app: "+shop+"\n  - name: blog\n    app: "+blog+
		"\n  - name: api\n    database: {url: sqlite://"+filepath.Join(dir, "missing.sqlite")+"}\n")
	r := runCmd(t, nil, "check", "--config", p)
	if r.code != 2 || r.stderr != "" || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("check: exit %d, want 2 and one line\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "check", r.stdout, "SEQWATCH CRITICAL - 3 applications, 2 with problems", "shop CRITICAL: 1 failed operation",
		"api UNKNOWN: ", "OK: blog", "| shop_failed=1 ", "blog_failed=0", "blog_pending=")
	if strings.Contains(r.stdout, "api_failed") {
		t.Errorf("an unreadable application has perfdata: %s", r.stdout)
	}

	t.Run("--name picks one application", func(t *testing.T) {
		r := runCmd(t, nil, "check", "--config", p, "--name", "blog")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "SEQWATCH OK - ") || strings.Contains(r.stdout, "blog_") {
			t.Fatalf("check --name blog: exit %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("an unknown --name is UNKNOWN naming the choices", func(t *testing.T) {
		r := runCmd(t, nil, "check", "--config", p, "--name", "shpo")
		if r.code != 3 {
			t.Fatalf("exit %d", r.code)
		}
		mustContain(t, "check", r.stdout, `SEQWATCH UNKNOWN - `, `no application named "shpo" (it has "shop", "blog", "api")`)
	})
	t.Run("--json has one verdict per application", func(t *testing.T) {
		r := runCmd(t, nil, "check", "--config", p, "--json")
		var mv struct {
			Status string `json:"status"`
			Code   int    `json:"code"`
			Apps   []struct {
				Name string `json:"name"`
				Code int    `json:"code"`
			} `json:"apps"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &mv); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		if mv.Status != "CRITICAL" || mv.Code != 2 || len(mv.Apps) != 3 || mv.Apps[1].Name != "blog" || mv.Apps[1].Code != 0 {
			t.Errorf("json verdict %+v", mv)
		}
	})
	t.Run("status needs --name", func(t *testing.T) {
		r := runCmd(t, nil, "status", "--config", p)
		if r.code != 1 {
			t.Fatalf("exit %d", r.code)
		}
		mustContain(t, "status", r.stderr, `has 3 applications ("shop", "blog", "api"): pick one with --name`)
		r = runCmd(t, nil, "status", "--config", p, "--name", "shop", "--failed")
		if r.code != 0 {
			t.Fatalf("status --name shop: exit %d\n%s", r.code, r.stderr)
		}
		mustContain(t, "status --name shop", r.stdout, "2024_01_13_120000_FailedOperation")
	})
}

func TestRunWatchesEachApplicationWithItsOwnState(t *testing.T) {
	dir := t.TempDir()
	shop, _ := sqliteApp(t, demoNow)
	blog := quietApp(t)
	p := writeConfig(t, dir, "on_first_run: digest\nstate: {path: "+filepath.Join(dir, "state.json")+"}\nchannels:\n  - name: out\n    console: {}\napps:\n  - name: shop\n    app: "+shop+
		"\n    environment: production\n  - name: blog\n    app: "+blog+"\n    environment: staging\n")
	r := runCmd(t, nil, "run", "--once", "--config", p)
	if r.code != 0 {
		t.Fatalf("run --once: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "console", r.stdout, "digest  shop (production)")
	if strings.Contains(r.stdout, "blog") {
		t.Errorf("the quiet application sent something:\n%s", r.stdout)
	}
	for _, name := range []string{"shop", "blog"} {
		st := readState(t, filepath.Join(dir, "state."+name+".json"))
		if !st.Initialized {
			t.Errorf("%s's state was not written", name)
		}
	}
	if st := readState(t, filepath.Join(dir, "state.shop.json")); len(st.Open) == 0 {
		t.Error("shop's failures are not open in its own state")
	}
	if st := readState(t, filepath.Join(dir, "state.blog.json")); len(st.Open) != 0 {
		t.Error("blog's state holds problems")
	}
	t.Run("outbox and mute need --name", func(t *testing.T) {
		r := runCmd(t, nil, "outbox", "list", "--config", p)
		mustContain(t, "outbox list", r.stderr, "pick one with --name")
		r = runCmd(t, nil, "outbox", "list", "--config", p, "--name", "blog")
		if r.code != 0 {
			t.Errorf("outbox list --name blog: exit %d\n%s", r.code, r.stderr)
		}
		r = runCmd(t, nil, "mute", "--config", p, "--for", "10m")
		mustContain(t, "mute", r.stderr, "pick one with --name")
		r = runCmd(t, nil, "mute", "--config", p, "--for", "10m", "--name", "shop", "--reason", "deploy")
		if r.code != 0 {
			t.Fatalf("mute --name shop: exit %d\n%s", r.code, r.stderr)
		}
		if st := readState(t, filepath.Join(dir, "state.shop.json")); len(st.Mutes) != 1 {
			t.Errorf("shop's state has %d mutes, want 1", len(st.Mutes))
		}
	})
}

// The daemon's failed reads carry the advice status and check give, in
// the configuration file's terms: in its log and in source.unreachable.
func TestDaemonReadFailuresSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	app, _ := sqliteApp(t, demoNow)
	if err := os.Remove(filepath.Join(app, "database", "database.sqlite")); err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, dir, "app: "+app+"\nthresholds: {unreachable_after: 1}\nstate: {path: "+filepath.Join(dir, "state.json")+"}\nchannels:\n  - name: out\n    console: {}\n")
	r := runCmd(t, nil, "run", "--once", "--config", p)
	if r.code != 1 {
		t.Fatalf("run --once: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "log", r.stderr, "cannot read the application", "does not exist: check DB_DATABASE")
	mustContain(t, "alert", r.stdout, "source.unreachable", "check DB_DATABASE")
}

// A monitoring host runs check without the daemon's environment: a
// state.postgres it cannot resolve does not matter to check, and outbox
// says the state is in that database instead of reading a file.
func TestStateDatabaseURLIsNeededOnlyWhereTheStateIsUsed(t *testing.T) {
	dir := t.TempDir()
	app := quietApp(t)
	p := writeConfig(t, dir, "app: "+app+"\nstate: {postgres: \"${SEQWATCH_STATE_URL}\", path: "+filepath.Join(dir, "state.json")+"}\n")
	if r := runCmd(t, nil, "check", "--config", p); r.code != 0 {
		t.Fatalf("check without SEQWATCH_STATE_URL: exit %d\n%s", r.code, r.stdout)
	}
	r := runCmd(t, nil, "outbox", "list", "--config", p)
	if r.code != 1 {
		t.Fatalf("outbox list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "outbox list", r.stderr, "state.postgres is empty here")
	if r := runCmd(t, nil, "run", "--once", "--config", p); r.code != 1 || !strings.Contains(r.stderr, "SEQWATCH_STATE_URL is not set") {
		t.Errorf("run --once: exit %d, want the unset variable named\n%s", r.code, r.stderr)
	}
}

// One daemon, several applications, one listener: the page's API lists
// each application with its verdict, and the metrics carry each one's
// app label (promtool and a real Prometheus check the format elsewhere).
func TestTheListenerShowsEveryApplication(t *testing.T) {
	dir := t.TempDir()
	shop, _ := sqliteApp(t, time.Now())
	blog := quietApp(t)
	p := writeConfig(t, dir, "on_first_run: silent\nstate: {path: "+filepath.Join(dir, "state.json")+"}\nchannels:\n  - name: out\n    console: {}\napps:\n  - name: shop\n    app: "+shop+
		"\n    environment: production\n  - name: blog\n    app: "+blog+"\n    environment: staging\n")
	d := startSeqwatch(t, "run", "--config", p, "--listen", "127.0.0.1:0", "--log-level", "debug")
	line, _ := d.waitLine(0, "HTTP listener started")
	_, addr, _ := strings.Cut(line, "addr=")
	addr, _, _ = strings.Cut(addr, " ")
	d.waitLine(0, `msg="tick done" app=shop `)
	d.waitLine(0, `msg="tick done" app=blog `)

	a := httpGet(t, "http://"+addr+"/api/v1/status", "", "")
	var st struct {
		Apps []struct {
			Name, Environment, Verdict string
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(a.body), &st); err != nil {
		t.Fatalf("%v: %s", err, a.body)
	}
	got := map[string]string{}
	for _, app := range st.Apps {
		got[app.Name] = app.Environment + " " + app.Verdict
	}
	if len(st.Apps) != 2 || got["shop"] != "production CRITICAL" || got["blog"] != "staging OK" {
		t.Errorf("the API shows %v, want shop (production, CRITICAL) and blog (staging, OK)", got)
	}
	m := httpGet(t, "http://"+addr+"/metrics", "", "")
	mustContain(t, "metrics", m.body, `app="shop"`, `app="blog"`)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(); code != 0 {
		t.Errorf("exit %d\n%s", code, d.stderr())
	}
}

// SIGHUP with several applications: a reordered list reloads (each
// application by its name); a new application needs a restart, and the
// running configuration stays.
func TestReloadWithSeveralApplications(t *testing.T) {
	dir := t.TempDir()
	shop, _ := sqliteApp(t, time.Now())
	blog := quietApp(t)
	conf := func(apps string) {
		body := "on_first_run: silent\nstate: {path: " + filepath.Join(dir, "state.json") + "}\nchannels:\n  - name: out\n    console: {}\napps:\n" + apps
		if err := os.WriteFile(filepath.Join(dir, "seqwatch.yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	shopEntry := "  - name: shop\n    app: " + shop + "\n"
	blogEntry := "  - name: blog\n    app: " + blog + "\n"
	conf(shopEntry + blogEntry)
	d := startSeqwatch(t, "run", "--config", filepath.Join(dir, "seqwatch.yaml"), "--log-level", "debug")
	_, n := d.waitLine(0, `msg="tick done" app=shop `)
	_, m := d.waitLine(0, `msg="tick done" app=blog `)
	n = max(n, m)

	conf(blogEntry + "    thresholds: {max_pending: 1}\n" + shopEntry)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	_, n = d.waitLine(n, "configuration reloaded")

	conf(shopEntry + blogEntry + "  - name: extra\n    database: {url: \"sqlite://" + filepath.Join(dir, "x.sqlite") + "\"}\n")
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line, _ := d.waitLine(n, "reload failed; keeping the previous configuration")
	if !strings.Contains(line, `application \"extra\" is new: adding applications needs a restart`) {
		t.Errorf("the refused reload does not say why: %s", line)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(); code != 0 {
		t.Errorf("exit %d\n%s", code, d.stderr())
	}
}
