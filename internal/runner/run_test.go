package runner_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/runner"
	"github.com/seqwatch/seqwatch/internal/runner/runnertest"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/text"
)

func TestNewLoggerScrubsTheSecretsOfEveryValue(t *testing.T) {
	secrets := &text.SecretSet{}
	secrets.Set([]string{"hunter2-secret"})
	for _, asJSON := range []bool{false, true} {
		var b bytes.Buffer
		logger := runner.NewLogger(&b, asJSON, slog.LevelInfo, secrets)
		logger.Debug("hidden", "x", "hunter2-secret")
		logger.Info("sent", "url", "https://h/hunter2-secret", "error", errors.New("refused hunter2-secret"), "any", []string{"hunter2-secret"})
		out := b.String()
		if strings.Contains(out, "hunter2-secret") || strings.Contains(out, "hidden") || strings.Count(out, "<redacted>") != 3 {
			t.Errorf("json %v: the log shows a secret or a debug line, or redacts too little:\n%s", asJSON, out)
		}
		if asJSON != strings.HasPrefix(out, "{") {
			t.Errorf("json %v: %s", asJSON, out)
		}
	}
}

// writeConf writes a configuration of the demo application as of now,
// with one console channel, and returns its path.
func writeConf(t *testing.T, extra string) string {
	t.Helper()
	app, _ := runnertest.SQLiteApp(t, time.Now())
	dir := t.TempDir()
	p := filepath.Join(dir, "seqwatch.yaml")
	yaml := fmt.Sprintf("app: %s\nname: shop\non_first_run: silent\nstate:\n  path: %s\n%schannels:\n  - name: console\n    console: {}\n", app, filepath.Join(dir, "state.json"), extra)
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run --once opens the state, reads once, saves and returns; it serves
// nothing even when http.listen is set.
func TestRunOnceTicksOnceAndServesNothing(t *testing.T) {
	addr := testkit.FreeAddr(t)
	p := writeConf(t, "http:\n  listen: "+addr+"\n")
	logs, err := runnertest.RunOnce(t, p)
	if err != nil {
		t.Fatalf("run --once: %v\n%s", err, logs)
	}
	if !strings.Contains(logs.String(), "msg=\"seqwatch started\"") || !strings.Contains(logs.String(), "app=shop") {
		t.Errorf("no start-up line:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p), "state.json")); err != nil {
		t.Errorf("no state saved: %v", err)
	}
	if a := runnertest.Get(t, "http://"+addr+"/healthz", "", ""); a.Code != 0 {
		t.Errorf("run --once answered on %s: %d", addr, a.Code)
	}
}

// A reload that brings an application the daemon did not start with is
// refused, and the daemon goes on with what it has.
func TestReloadRefusesANewApplication(t *testing.T) {
	p := writeConf(t, "")
	d := runnertest.StartDaemon(t, p, "")
	waitFor(t, d.Logs, "seqwatch started")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// The same application under another name is new to the daemon.
	if err := os.WriteFile(p, bytes.Replace(data, []byte("name: shop"), []byte("name: blog"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Reload()
	waitFor(t, d.Logs, `application \"blog\" is new: adding applications needs a restart`)
}

func waitFor(t *testing.T, logs *testkit.Logs, want string) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, "the log saying "+want, func() (bool, string) {
		return strings.Contains(logs.String(), want), logs.String()
	})
}
