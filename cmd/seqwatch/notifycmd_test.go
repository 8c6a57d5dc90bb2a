package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNotifyTestReportsEachChannel(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	good := newHookReceiver(t, func() time.Time { return time.Now() })
	bad := newHookReceiver(t, func() time.Time { return time.Now() })
	bad.respond(func(_ int, w http.ResponseWriter, _ *http.Request) int {
		w.WriteHeader(http.StatusNotFound)
		return http.StatusNotFound
	})
	dir := t.TempDir()
	cfg := daemonConf{app: dir, statePath: dir + "/state.json", channels: []string{
		hookChannel("good-hook", good.url()), hookChannel("gone-hook", bad.url()),
	}}.write(t, dir)

	r := runAt(t, now, "notify", "test", "--config", cfg)
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (one channel failed)\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout, "good-hook", "ok", "gone-hook", "FAILED")
	mustContain(t, "stderr", r.stderr, "1 of 2 channel(s) failed the test")
	reqs := good.requests()
	if len(reqs) != 1 || reqs[0].Payload.Event != "test" {
		t.Fatalf("the good receiver got %d requests: %+v", len(reqs), reqs)
	}
	if strings.Contains(r.stdout+r.stderr, "tok-42") {
		t.Error("the webhook URL's token was printed")
	}

	r = runAt(t, now, "notify", "test", "--config", cfg, "--channel", "good-hook")
	if r.code != 0 || strings.Contains(r.stdout, "gone-hook") {
		t.Errorf("--channel good-hook: exit %d\n%s", r.code, r.stdout)
	}
	if r := runAt(t, now, "notify", "test", "--config", cfg, "--channel", "nope"); r.code != 1 || !strings.Contains(r.stderr, `no channel named "nope"`) {
		t.Errorf("unknown channel: exit %d %q", r.code, r.stderr)
	}
}
