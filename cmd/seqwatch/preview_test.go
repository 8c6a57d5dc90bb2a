package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// templatedHook is a webhook channel whose body template writes the
// document's text.
func templatedHook(name, url string) string {
	return hookChannel(name, url) + "    templates:\n      default:\n        body: \"{{.Kind}} in {{.App}}: {{.Summary}}{{range .Items}} [{{.Kind}}]{{end}}\"\n"
}

func TestNotifyPreviewShowsEachRequestAndSendsNothing(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	hook := newHookReceiver(t, func() time.Time { return now })
	dir := t.TempDir()
	cfg := daemonConf{app: dir, statePath: dir + "/state.json", channels: []string{templatedHook("hook", hook.url()), consoleChannel}}.write(t, dir)

	r := runAt(t, now, "notify", "preview", "--config", cfg, "--event", "pending.threshold")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout,
		"== console: 1 request for 1 event(s)", "== pending.threshold  shop (test)",
		"== hook: 1 request for 1 event(s)", "POST "+strings.TrimSuffix(hook.url(), "/hooks/tok-42")+"/<redacted>", "Webhook-Signature: v1,",
		`"event": "pending.threshold"`, `"text": "pending.threshold in shop: 12 operations pending (threshold 10)"`)
	if strings.Contains(r.stdout, "tok-42") || strings.Contains(r.stdout, hookSecret) {
		t.Errorf("the preview shows a secret:\n%s", r.stdout)
	}
	if n := len(hook.requests()); n != 0 {
		t.Errorf("the preview sent %d request(s)", n)
	}
	if r := runAt(t, now, "notify", "preview", "--config", cfg, "--channel", "hook", "--raw"); r.code != 0 || strings.Contains(r.stdout, "== console") ||
		!strings.Contains(r.stdout, `{"version":1,"event":"operation.failed"`) {
		t.Errorf("--channel hook --raw: exit %d\n%s", r.code, r.stdout)
	}
}

func TestNotifyPreviewOfCurrentProblems(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	app, db := sqliteApp(t, now)
	insertFailure(t, db, "2026_03_14_140000_ChargeCards", now.Add(-time.Hour), "RuntimeException", "<!channel> card gateway down")
	hook := newHookReceiver(t, func() time.Time { return now })
	dir := t.TempDir()
	cfg := daemonConf{app: app, statePath: dir + "/state.json", channels: []string{templatedHook("hook", hook.url())}}.write(t, dir)

	r := runAt(t, now, "notify", "preview", "--config", cfg, "--current")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout, "2026_03_14_140000_ChargeCards", `"message": "<!channel> card gateway down"`, `"text": "digest in shop:  [operation.failed]`)
	if n := len(hook.requests()); n != 0 {
		t.Errorf("the preview sent %d request(s)", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err == nil {
		t.Error("the preview wrote the state")
	}
}

func TestNotifyPreviewRefusals(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	good := daemonConf{app: dir, statePath: dir + "/state.json", channels: []string{consoleChannel}}.write(t, dir)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--event", "operation.exploded"}, 2, `--event "operation.exploded" is not an event kind`},
		{[]string{"--event", "test", "--current"}, 2, "not both"},
		{[]string{"--channel", "nope"}, 1, `no channel named "nope"`},
	} {
		r := runAt(t, now, append([]string{"notify", "preview", "--config", good}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, r.code, r.stderr)
		}
	}
	if r := runAt(t, now, "notify", "preview", "--config", good, "--event", "list"); r.code != 0 || !strings.Contains(r.stdout, "source.unreachable\n") {
		t.Errorf("--event list: %d %q", r.code, r.stdout)
	}
	bad := filepath.Join(dir, "bad.yaml")
	yaml := strings.Replace(daemonConfYAML(t, good), "    console: {}\n", "    console: {}\n    templates:\n      operation.failed: {title: \"{{.Nope}}\"}\n", 1)
	if err := os.WriteFile(bad, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runAt(t, now, "notify", "preview", "--config", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "channels[0].templates.operation.failed.title: template line 1, column 2: at <.Nope>: there is no field Nope here") {
		t.Errorf("a bad template: exit %d, stderr %q", r.code, r.stderr)
	}
}

func daemonConfYAML(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
