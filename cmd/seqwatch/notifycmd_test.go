package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
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

// chatReceiver answers as one chat service does to a message it took, and
// records what reached it.
type chatReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newChatReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *chatReceiver {
	c := &chatReceiver{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.mu.Lock()
		c.reqs = append(c.reqs, r)
		c.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *chatReceiver) requests() []*http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*http.Request(nil), c.reqs...)
}

// seqwatch notify test reaches Discord, Teams, Google Chat and ntfy
// through the registry, each with its secret from a *_file key, and
// reports each as ok; the secrets are never printed.
func TestNotifyTestSendsThroughTheChatChannels(t *testing.T) {
	discordHook := newChatReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/webhooks/123456789012345678/discordTOKEN" || r.URL.Query().Get("wait") != "true" {
			http.Error(w, `{"message": "Unknown Webhook", "code": 10015}`, http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, `{"id": "700000000000000001", "channel_id": "900000000000000000"}`)
	})
	workflow := newChatReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sig") != "teamsSIG" {
			http.Error(w, `{"error": {"code": "DirectApiAuthorizationRequired"}}`, http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	chat := newChatReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "gchatTOKEN" {
			http.Error(w, `{"error": {"code": 403, "status": "PERMISSION_DENIED"}}`, http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, `{"name": "spaces/A/messages/M1", "thread": {"name": "spaces/A/threads/T1"}}`)
	})
	phone := newChatReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tk_ntfyTOKEN" {
			http.Error(w, `{"code": 40101, "http": 401, "error": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `{"id": "m1", "event": "message", "topic": "shop-alerts"}`)
	})
	dir := t.TempDir()
	secret := func(name, value string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	channels := []string{
		fmt.Sprintf("  - name: discord\n    discord:\n      webhook_url_file: %s\n", secret("discord", discordHook.srv.URL+"/api/webhooks/123456789012345678/discordTOKEN")),
		fmt.Sprintf("  - name: teams\n    teams:\n      webhook_url_file: %s\n", secret("teams", workflow.srv.URL+"/workflows/a/triggers/manual/paths/invoke?api-version=2016-06-01&sig=teamsSIG")),
		fmt.Sprintf("  - name: gchat\n    googlechat:\n      webhook_url_file: %s\n", secret("gchat", chat.srv.URL+"/v1/spaces/A/messages?key=gchatKEY&token=gchatTOKEN")),
		fmt.Sprintf("  - name: phone\n    ntfy:\n      url: %s/shop-alerts\n      token_file: %s\n", phone.srv.URL, secret("ntfy", "tk_ntfyTOKEN")),
	}
	cfg := daemonConf{app: dir, statePath: dir + "/state.json", channels: channels}.write(t, dir)
	r := runAt(t, time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC), "notify", "test", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, name := range []string{"discord", "teams", "gchat", "phone"} {
		if !regexp.MustCompile(`(?m)^` + name + ` +ok$`).MatchString(r.stdout) {
			t.Errorf("stdout does not report %s ok:\n%s", name, r.stdout)
		}
	}
	for name, rc := range map[string]*chatReceiver{"discord": discordHook, "teams": workflow, "gchat": chat, "phone": phone} {
		if n := len(rc.requests()); n != 1 {
			t.Errorf("%s received %d requests, want 1", name, n)
		}
	}
	for _, s := range []string{"discordTOKEN", "teamsSIG", "gchatTOKEN", "tk_ntfyTOKEN"} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("%s was printed", s)
		}
	}

	// A deleted Discord webhook fails the test, named, without its token.
	gone := newChatReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message": "Unknown Webhook", "code": 10015}`, http.StatusNotFound)
	})
	cfg = daemonConf{app: dir, statePath: dir + "/state.json", channels: []string{
		fmt.Sprintf("  - name: discord\n    discord:\n      webhook_url: %s/api/webhooks/123456789012345678/goneTOKEN\n", gone.srv.URL),
	}}.write(t, dir)
	r = runAt(t, time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC), "notify", "test", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stdout, "discord") || !strings.Contains(r.stdout, "FAILED") || strings.Contains(r.stdout+r.stderr, "goneTOKEN") {
		t.Errorf("a deleted webhook: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// `seqwatch notify test` reaches the Telegram, PagerDuty and Opsgenie
// channels through the registry: Telegram gets one message, PagerDuty a
// trigger and the resolve of the test's own incident, Opsgenie a create
// and the close of the test's own alert; no secret is printed.
func TestNotifyTestThroughTelegramPagerDutyAndOpsgenie(t *testing.T) {
	var mu sync.Mutex
	var got []string
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Errorf("%s: body is not JSON: %v", r.URL.Path, err)
		}
		switch {
		case r.URL.Path == "/tg/bot123456:AAtgSECRET/sendMessage":
			record("telegram sendMessage")
			_, _ = io.WriteString(w, `{"ok":true,"result":{"message_id":5}}`)
		case r.URL.Path == "/pd/v2/enqueue":
			record(fmt.Sprintf("pagerduty %v %v", v["event_action"], v["dedup_key"]))
			w.WriteHeader(http.StatusAccepted)
		case strings.HasPrefix(r.URL.Path, "/og/v2/alerts"):
			if r.Header.Get("Authorization") != "GenieKey og-SECRET-key" {
				t.Errorf("opsgenie: Authorization %q", r.Header.Get("Authorization"))
			}
			action := "create"
			if strings.HasSuffix(r.URL.Path, "/close") {
				action = "close"
			}
			record("opsgenie " + action)
			w.WriteHeader(http.StatusAccepted)
		default:
			t.Errorf("request to %s", r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := daemonConf{app: dir, statePath: dir + "/state.json", channels: []string{
		fmt.Sprintf("  - name: tg\n    telegram: {bot_token: \"123456:AAtgSECRET\", chat_id: \"-1001234567890\", api_url: %q}\n", srv.URL+"/tg"),
		fmt.Sprintf("  - name: pd\n    pagerduty: {routing_key: pdSECRET0123456789abcdef01234567, api_url: %q}\n", srv.URL+"/pd"),
		fmt.Sprintf("  - name: og\n    opsgenie: {api_key: og-SECRET-key, api_url: %q}\n", srv.URL+"/og"),
	}}.write(t, dir)

	r := runAt(t, time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC), "notify", "test", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout, "tg", "pd", "og", "ok")
	if strings.Contains(r.stdout+r.stderr, "SECRET") {
		t.Errorf("a secret was printed:\n%s%s", r.stdout, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(got)
	if len(got) != 5 || got[0] != "opsgenie close" || got[1] != "opsgenie create" ||
		!strings.HasPrefix(got[2], "pagerduty resolve ") || !strings.HasPrefix(got[3], "pagerduty trigger ") || got[4] != "telegram sendMessage" {
		t.Errorf("requests %q, want Opsgenie's create and close, PagerDuty's trigger and resolve, one Telegram message", got)
	}
	if len(got) == 5 && strings.TrimPrefix(got[2], "pagerduty resolve ") != strings.TrimPrefix(got[3], "pagerduty trigger ") {
		t.Errorf("the resolve and the trigger name different incidents: %q", got)
	}
}
