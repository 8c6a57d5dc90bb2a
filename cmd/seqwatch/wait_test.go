package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// runClocked runs seqwatch in-process on a clock that its waits advance.
func runClocked(t *testing.T, args ...string) result {
	t.Helper()
	clock := testkit.NewClock(demoNow)
	var out, errOut bytes.Buffer
	e := env{stdout: &out, stderr: &errOut, now: clock.Now, getenv: func(string) string { return "" },
		sleep: func(ctx context.Context, d time.Duration) error { clock.Add(d); return ctx.Err() }}
	code := runMain(context.Background(), args, e)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// wait's mistakes and unreadable applications are check's UNKNOWN: one
// line on standard output (the JSON document with --json), exit 3.
func TestWaitUsageAndUnreadableAreUnknown(t *testing.T) {
	t.Parallel()
	app := demoApp(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad since", []string{"wait", "--app", app, "--since", "yesterday"}, `SEQWATCH UNKNOWN - usage: --since "yesterday" is neither an RFC 3339 time`},
		{"bad timeout", []string{"wait", "--app", app, "--timeout", "0s"}, "SEQWATCH UNKNOWN - usage: -timeout must be a positive duration"},
		{"negative grace", []string{"wait", "--app", app, "--async-retry-grace", "-1m"}, "SEQWATCH UNKNOWN - usage: --async-retry-grace must be 0 or a positive duration"},
		{"negative settle", []string{"wait", "--app", app, "--settle", "-1m"}, "SEQWATCH UNKNOWN - usage: --settle must be 0 or a positive duration"},
		{"settle as long as the timeout", []string{"wait", "--app", app, "--settle", "2m", "--timeout", "2m"}, "SEQWATCH UNKNOWN - usage: --settle (2m0s) must be shorter than --timeout (2m0s)"},
		{"no application", []string{"wait", "--app", t.TempDir()}, "SEQWATCH UNKNOWN - "},
		{"deploy without a command", []string{"deploy", "--app", app}, "SEQWATCH UNKNOWN - usage: give the command to run after --"},
		{"deploy --notify without a configuration", []string{"deploy", "--app", app, "--notify", "--", "true"}, "SEQWATCH UNKNOWN - usage: --notify sends through the channels of a configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code != 3 || !strings.HasPrefix(r.stdout, tc.want) || strings.Count(r.stdout, "\n") != 1 || r.stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 3 and one line starting %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}

// wait --json prints the deploy's runs and the verdict; the fields are a
// promise to scripts (docs/deploys.md, "seqwatch wait").
func TestWaitJSONIsTheDocumentedSchema(t *testing.T) {
	t.Parallel()
	app := demoApp(t)
	// The sample application's history: a failure, a run in progress
	// for 2 hours (a dead worker) and one just started.
	r := runClocked(t, "wait", "--app", app, "--since", "5h", "--timeout", "10s", "--json")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2 (a failure since then)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	for _, k := range []string{"since", "started_at", "finished_at", "elapsed_seconds", "timed_out", "stopped", "settled_seconds", "counts", "runs", "not_run", "verdict"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in %s", k, r.stdout)
		}
	}
	runs, _ := doc["runs"].([]any)
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	run := runs[0].(map[string]any)
	for _, k := range []string{"id", "name", "type", "state", "executed_at", "completed_at", "failed_at", "skipped_at", "rolled_back_at", "outcome", "seconds", "errors"} {
		if _, ok := run[k]; !ok {
			t.Errorf("no %q in a run: %v", k, run)
		}
	}
	v := doc["verdict"].(map[string]any)
	if v["status"] != "CRITICAL" || v["code"] != 2.0 || !strings.Contains(v["summary"].(string), "1 failed operation") {
		t.Errorf("verdict %v", v)
	}
	// The lines go to standard error, plain.
	mustContain(t, "standard error", r.stderr, "✗ 2024_01_13_120000_FailedOperation failed: QueryException", "still running after")
}

// The demo shows a short wait on the sample application, during which an
// asynchronous operation finishes on the (demo's) queue.
func TestDemoShowsAShortWait(t *testing.T) {
	t.Parallel()
	r := runCmd(t, nil, "demo")
	if r.code != 0 {
		t.Fatalf("demo: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "demo", r.stdout,
		"=== seqwatch wait --since 2026-03-14T15:09:26Z --app ",
		"▸ 2024_01_17_150000_RecalculateLoyaltyPoints started (async)\n✓ 2024_01_17_150000_RecalculateLoyaltyPoints completed (3s)\n",
		"SEQWATCH OK - done in 3s: 1 completed",
		"(exit status 0: OK;")
}

// wait keeps a status line only on a terminal (not with TERM=dumb), and
// colours only a terminal without NO_COLOR; --json writes plain lines.
func TestWaitOutputFollowsTheTerminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		terminal          bool
		vars              map[string]string
		json              bool
		color, statusLine bool
	}{
		{"terminal", true, nil, false, true, true},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, false, false, true},
		{"TERM=dumb", true, map[string]string{"TERM": "dumb"}, false, false, false},
		{"pipe", false, nil, false, false, false},
		{"--json", true, nil, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, isTerminal: tc.terminal, getenv: func(k string) string { return tc.vars[k] }}
			p, _ := waitObserver(e, tc.json, 0)
			if p.Color != tc.color || p.StatusLine != tc.statusLine {
				t.Errorf("colour %v, status line %v; want %v, %v", p.Color, p.StatusLine, tc.color, tc.statusLine)
			}
		})
	}
}

// --async-retry-grace defaults to the daemon's thresholds.async_retry_grace
// of --config, else 2m.
func TestWaitTakesTheAsyncRetryGraceOfTheConfiguration(t *testing.T) {
	t.Parallel()
	app, db := sqliteApp(t, demoNow)
	insertFailure(t, db, "2024_01_16_140000_PurgeStaleCarts", demoNow.Add(-4*time.Second), "RuntimeException", "Redis went away")
	if _, err := db.Exec("update operations set type = 'async' where name = '2024_01_16_140000_PurgeStaleCarts'"); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(daemonConf{app: app, statePath: t.TempDir() + "/state.json", channels: []string{consoleChannel}}.yaml(),
		"thresholds:\n", "thresholds:\n  async_retry_grace: 0s\n", 1)
	path := t.TempDir() + "/seqwatch.yaml"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runClocked(t, "wait", "--config", path, "--since", "5s")
	if r.code != 2 || strings.Contains(r.stdout, "↻") || !strings.Contains(r.stdout, "✗ 2024_01_16_140000_PurgeStaleCarts failed: RuntimeException: Redis went away\n") {
		t.Errorf("with async_retry_grace 0s: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runClocked(t, "wait", "--app", app, "--since", "5s")
	if r.code != 2 || !strings.Contains(r.stdout, "waiting up to 2m00s for the queue's retry") || !strings.Contains(r.stdout, "(no retry within 2m00s)") {
		t.Errorf("by default: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// Started before sequencer:process writes anything, wait does not end at
// once while files are pending: it settles for a minute, then names them;
// --require-all makes that exit 1, --settle 0 ends at once.
func TestWaitSettlesWhilePendingFilesHaveNotRun(t *testing.T) {
	t.Parallel()
	app, _ := sqliteApp(t, demoNow)
	r := runClocked(t, "wait", "--app", app, "--require-all")
	if r.code != 1 || !strings.Contains(r.stdout, "not run (") || !strings.Contains(r.stdout, "after 1m00s with no change") || !strings.Contains(r.stdout, "seconds=60") {
		t.Errorf("by default: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runClocked(t, "wait", "--app", app, "--require-all", "--settle", "0")
	if r.code != 1 || strings.Contains(r.stdout, "with no change") || !strings.Contains(r.stdout, "seconds=0") {
		t.Errorf("with --settle 0: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
