package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/mutes"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/web"
)

// A mute made by seqwatch mute holds alerts back; when it ends, the
// problem still open is sent once and the one that opened and closed
// inside it never is; the expired mute removes itself.
func TestMuteHoldsAlertsUntilItEnds(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	r := s.run(t, "mute", "--for", "15m", "--reason", "deploy 4812")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(id, "mut_") {
		t.Fatalf("mute: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "mute's message", r.stderr, "muted shop until", "next tick")

	s.fail(t, "still failing after the deploy")
	const passing = "2024_01_15_140000_WarmCaches"
	insertFailure(t, s.db, passing, s.clock.Now().Add(-2*time.Minute), "RuntimeException", "failed once during the deploy")
	s.clock.Add(time.Minute)
	if r := s.run(t); r.code != 0 || s.hook.count() != 0 {
		t.Fatalf("muted tick: exit %d, %d requests\n%s", r.code, s.hook.count(), r.stderr)
	}
	if st := readState(t, s.statePath); len(st.Held) != 2 || len(st.Open) != 2 {
		t.Fatalf("while muted: %d held, %d open, want both failures recorded and held", len(st.Held), len(st.Open))
	}
	insertCompleted(t, s.db, passing, s.clock.Now())
	s.clock.Add(time.Minute)
	if r := s.run(t); r.code != 0 || s.hook.count() != 0 {
		t.Fatalf("muted tick after a recovery: exit %d, %d requests\n%s", r.code, s.hook.count(), r.stderr)
	}

	r = s.run(t, "mute", "--list", "--json")
	var l mutes.List
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || r.code != 0 || len(l.Mutes) != 1 || l.Mutes[0].ID != id || l.Mutes[0].Reason != "deploy 4812" {
		t.Fatalf("mute --list --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}

	s.clock.Add(13 * time.Minute) // the mute's end
	if r := s.run(t); r.code != 0 {
		t.Fatalf("tick at the mute's end: exit %d\n%s", r.code, r.stderr)
	}
	got := s.hook.requests()
	if len(got) != 1 || got[0].Payload.Event != "operation.failed" || got[0].Payload.Errors[0].Message != "still failing after the deploy" {
		t.Fatalf("at the mute's end: %d requests %v, want the failure still open, once", len(got), kindsOf(got))
	}
	st := readState(t, s.statePath)
	if len(st.Mutes) != 0 || len(st.Held) != 0 {
		t.Errorf("after the mute: %d mutes, %d held, want none", len(st.Mutes), len(st.Held))
	}
	s.clock.Add(time.Minute)
	if r := s.run(t); r.code != 0 || s.hook.count() != 1 {
		t.Errorf("the tick after: exit %d, %d requests, want nothing more", r.code, s.hook.count())
	}
	if r := s.run(t, "mute", "--list"); r.code != 0 || !strings.Contains(r.stdout, "Mutes in force: 0") {
		t.Errorf("mute --list after the mute ended: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func kindsOf(rs []hookRequest) []string {
	var ks []string
	for _, r := range rs {
		ks = append(ks, r.Payload.Event)
	}
	return ks
}

func TestMuteRefusesBadRequests(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	short := filepath.Join(s.dir, "short.yaml")
	conf := s.conf
	body := conf.yaml() + "mute_max: 1h\n"
	if err := os.WriteFile(short, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"longer than the default mute_max", []string{"mute", "--config", s.cfg, "--for", "25h"}, 1, []string{"a mute of 25h0m0s is longer than mute_max (24h0m0s)", "raise mute_max in " + s.cfg}},
		{"longer than a configured mute_max", []string{"mute", "--config", short, "--for", "90m"}, 1, []string{"longer than mute_max (1h0m0s)"}},
		{"another application's name", []string{"mute", "--config", s.cfg, "--for", "10m", "--name", "billing"}, 1, []string{`watches "shop", not "billing"`}},
		{"no duration", []string{"mute", "--config", s.cfg}, 2, []string{"--for DURATION is required"}},
		{"a negative duration", []string{"mute", "--config", s.cfg, "--for", "-1h"}, 2, []string{"--for must be a positive duration such as 15m (got -1h0m0s)"}},
		{"unmute an unknown id", []string{"unmute", "--config", s.cfg, "mut_0000"}, 1, []string{"no mute mut_0000", "seqwatch mute --list"}},
		{"unmute a maintenance window", []string{"unmute", "--config", s.cfg, "maintenance[0]"}, 1, []string{"is a maintenance window"}},
		{"unmute without ids", []string{"unmute", "--config", s.cfg}, 2, []string{"give the ids to remove"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runAt(t, s.clock.Now(), tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			mustContain(t, "stderr", r.stderr, tc.want...)
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && tc.code == 1 {
				t.Errorf("more than one sentence:\n%s", r.stderr)
			}
		})
	}
	if st := readState(t, s.statePath); len(st.Mutes) != 0 {
		t.Errorf("a refused mute was stored: %+v", st.Mutes)
	}
	// The right name is accepted: scripts can say which app now.
	if r := runAt(t, s.clock.Now(), "mute", "--config", s.cfg, "--for", "10m", "--name", "shop"); r.code != 0 {
		t.Errorf("mute --name shop: exit %d\n%s", r.code, r.stderr)
	}
}

func TestValidateChecksMaintenanceWindows(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"malformed cron", "maintenance:\n  - schedule: \"0 3 * SUN\"\n    duration: 2h\n", []string{`line 3: maintenance[0].schedule: "0 3 * SUN" is not a cron expression`}},
		{"bad day name, second window", "maintenance:\n  - schedule: \"0 3 * * SUN\"\n    duration: 2h\n  - reason: backups\n    schedule: \"0 4 * * FUNDAY\"\n    duration: 1h\n", []string{`line 6: maintenance[1].schedule: "0 4 * * FUNDAY" is not a cron expression`}},
		{"no duration", "maintenance:\n  - schedule: \"0 3 * * SUN\"\n", []string{"line 3: maintenance[0].duration: give how long each window lasts"}},
		{"zero mute_max", "mute_max: 0s\n", []string{"line 2: mute_max: must be a positive duration"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "seqwatch.yaml")
			if err := os.WriteFile(p, []byte("app: "+dir+"\n"+tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runAt(t, time.Now(), "validate", "--config", p)
			if r.code == 0 {
				t.Fatalf("validate accepted it:\n%s%s", r.stdout, r.stderr)
			}
			mustContain(t, "validate output", r.stdout+r.stderr, tc.want...)
		})
	}
}

// A maintenance window holds alerts in the daemon like a mute, and lets
// source.unreachable through with unmute_unreachable.
func TestMaintenanceWindowInTheDaemon(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	// demoNow is a known instant; the window starts at its hour, for 2h.
	start := s.clock.Now().UTC().Truncate(time.Hour)
	conf := s.conf.yaml() + fmt.Sprintf("maintenance:\n  - schedule: \"CRON_TZ=UTC 0 %d * * *\"\n    duration: 2h\n    reason: nightly backup\n    unmute_unreachable: true\n", start.Hour())
	if err := os.WriteFile(s.cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.fail(t, "during the backup")
	s.clock.Add(time.Minute)
	if r := s.run(t); r.code != 0 || s.hook.count() != 0 {
		t.Fatalf("tick inside the window: exit %d, %d requests\n%s", r.code, s.hook.count(), r.stderr)
	}
	r := s.run(t, "mute", "--list", "--json")
	var l mutes.List
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || len(l.Mutes) != 1 || l.Mutes[0].ID != "maintenance[0]" || !l.Mutes[0].Until.Equal(start.Add(2*time.Hour)) || !l.Maintenance[0].Active {
		t.Fatalf("mute --list inside the window: %v\n%s%s", err, r.stdout, r.stderr)
	}
	s.clock.Add(start.Add(2 * time.Hour).Sub(s.clock.Now()))
	if r := s.run(t); r.code != 0 || s.hook.count() != 1 {
		t.Fatalf("tick at the window's end: exit %d, %d requests, want the failure once\n%s", r.code, s.hook.count(), r.stderr)
	}
}

// seqwatch mute and unmute beside a running daemon process: the daemon
// holds the alert from its next tick, and sends it once unmuted.
func TestMuteBesideARunningDaemon(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	app, db := sqliteApp(t, now)
	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	cfg := daemonConf{app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "silent", schedule: "@every 1s",
		channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
	p := startSeqwatch(t, "run", "--config", cfg)
	_, next := p.waitLine(0, "first check done")

	m := runSeqwatch(t, "mute", "--config", cfg, "--for", "10m", "--reason", "deploy 4812")
	id := strings.TrimSpace(m.stdout)
	if m.code != 0 || !strings.HasPrefix(id, "mut_") {
		t.Fatalf("mute beside the daemon: exit %d\n%s%s", m.code, m.stdout, m.stderr)
	}
	insertFailure(t, db, "2024_01_15_130000_NotifyUsers", now.Add(-time.Minute), "RuntimeException", "during the deploy")
	_, next = p.waitLine(next, "event muted")
	if n := hook.count(); n != 0 {
		t.Fatalf("%d requests while muted", n)
	}
	l := runSeqwatch(t, "mute", "--list", "--config", cfg)
	mustContain(t, "mute --list beside the daemon", l.stdout, id, "deploy 4812")

	if r := runSeqwatch(t, "unmute", "--config", cfg, id); r.code != 0 {
		t.Fatalf("unmute beside the daemon: exit %d\n%s", r.code, r.stderr)
	}
	p.waitLine(next, "held_by_mute=true")
	p.waitLine(next, "msg=delivered")
	got := hook.requests()
	if len(got) != 1 || got[0].Payload.Event != "operation.failed" {
		t.Errorf("after unmute: %v, want the held failure once", kindsOf(got))
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("SIGTERM: exit %d\n%s", code, p.stderr())
	}
	if st := readState(t, filepath.Join(dir, "state.json")); len(st.Mutes) != 0 || len(st.Held) != 0 {
		t.Errorf("state after unmute: %d mutes, %d held", len(st.Mutes), len(st.Held))
	}
}

func httpDo(t *testing.T, method, url, user, pass, body string) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return httpAnswer{body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpAnswer{resp.StatusCode, string(b)}
}

// POST and DELETE /api/v1/mutes against the daemon's real listener, with
// its basic auth: without credentials nothing is muted and nothing shown.
func TestMuteThroughTheListener(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	app, db := sqliteApp(t, now)
	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "http-password")
	if err := os.WriteFile(pwFile, []byte(httpPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(dir, "state.json")
	conf := daemonConf{app: app, statePath: statePath, firstRun: "silent", schedule: "@every 1s",
		channels: []string{hookChannel("hook", hook.url())}}.yaml()
	conf += fmt.Sprintf("http:\n  username: ops\n  password_file: %s\nmute_max: 2h\n", pwFile)
	cfgPath := filepath.Join(dir, "seqwatch.yaml")
	if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	base := "http://" + addr
	logs := startSeqwatchInProcess(t, "--config", cfgPath, "--listen", addr)
	testkit.Eventually(t, 30*time.Second, "the first tick", func() (bool, string) {
		return strings.Contains(logs.String(), "first check done"), logs.String()
	})

	const body = `{"for":"10m","reason":"deploy 4812"}`
	for _, creds := range [][2]string{{"", ""}, {"ops", "wrong"}} {
		a := httpDo(t, "POST", base+"/api/v1/mutes", creds[0], creds[1], body)
		if a.code != 401 || strings.Contains(a.body, "mut_") || strings.Contains(a.body, "shop") {
			t.Errorf("POST without valid credentials (user %q): %d %s", creds[0], a.code, a.body)
		}
	}
	if st := readState(t, statePath); len(st.Mutes) != 0 {
		t.Fatalf("a POST without credentials muted: %+v", st.Mutes)
	}
	if a := httpDo(t, "POST", base+"/api/v1/mutes", "ops", httpPassword, `{"for":"3h"}`); a.code != 400 || !strings.Contains(a.body, "longer than mute_max (2h0m0s)") {
		t.Errorf("POST of a mute longer than mute_max: %d %s", a.code, a.body)
	}
	if a := httpDo(t, "POST", base+"/api/v1/mutes", "ops", httpPassword, `{"for":"10m","name":"billing"}`); a.code != 400 {
		t.Errorf("POST for another application: %d %s", a.code, a.body)
	}
	a := httpDo(t, "POST", base+"/api/v1/mutes", "ops", httpPassword, body)
	var m web.Mute
	if err := json.Unmarshal([]byte(a.body), &m); a.code != 201 || err != nil || !strings.HasPrefix(m.ID, "mut_") || m.Reason != "deploy 4812" || m.By != "api" {
		t.Fatalf("POST with credentials: %d %s", a.code, a.body)
	}
	var st web.Status
	if err := json.Unmarshal([]byte(httpGet(t, base+"/api/v1/status", "ops", httpPassword).body), &st); err != nil || len(st.Apps) != 1 ||
		len(st.Apps[0].Mutes) != 1 || st.Apps[0].Mutes[0].ID != m.ID {
		t.Fatalf("/api/v1/status right after the POST: %v %+v", err, st)
	}

	insertFailure(t, db, "2024_01_15_130000_NotifyUsers", now.Add(-time.Minute), "RuntimeException", "during the deploy")
	testkit.Eventually(t, 30*time.Second, "the failure held and shown as muted", func() (bool, string) {
		a := httpGet(t, base+"/api/v1/status", "ops", httpPassword)
		st = web.Status{}
		if json.Unmarshal([]byte(a.body), &st) != nil || len(st.Apps) != 1 {
			return false, a.body
		}
		for _, ev := range st.Apps[0].Events {
			if ev.Kind == "operation.failed" && ev.Muted && len(ev.Channels) == 0 {
				return true, ""
			}
		}
		return false, a.body
	})
	if n := hook.count(); n != 0 {
		t.Errorf("%d requests while muted", n)
	}
	page := httpGet(t, base+"/", "ops", httpPassword)
	mustContain(t, "the status page", page.body, "deploy 4812", m.ID, "muted")
	metrics := httpGet(t, base+"/metrics", "ops", httpPassword)
	mustContain(t, "the scrape", metrics.body, `seqwatch_mutes_active{app="shop"} 1`, `seqwatch_muted_events_total{app="shop"} 1`)

	if a := httpDo(t, "DELETE", base+"/api/v1/mutes/"+m.ID, "", "", ""); a.code != 401 {
		t.Errorf("DELETE without credentials: %d %s", a.code, a.body)
	}
	if a := httpDo(t, "DELETE", base+"/api/v1/mutes/"+m.ID, "ops", httpPassword, ""); a.code != 200 {
		t.Fatalf("DELETE with credentials: %d %s", a.code, a.body)
	}
	if a := httpDo(t, "DELETE", base+"/api/v1/mutes/"+m.ID, "ops", httpPassword, ""); a.code != 404 {
		t.Errorf("DELETE of a removed mute: %d %s", a.code, a.body)
	}
	testkit.Eventually(t, 30*time.Second, "the held failure delivered once unmuted", func() (bool, string) {
		return hook.count() == 1, logs.String()
	})
}
