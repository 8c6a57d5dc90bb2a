package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// deploySetup is a sample application watched by a configuration with a
// webhook channel and a state file, whose first run is done (silently).
type deploySetup struct {
	app, dbPath, cfg, statePath, dir string
	hook                             *hookReceiver
}

func newDeploySetup(t *testing.T) *deploySetup {
	t.Helper()
	s := &deploySetup{dir: t.TempDir()}
	s.app, _ = sqliteApp(t, time.Now().UTC())
	s.dbPath = filepath.Join(s.app, "database", "database.sqlite")
	s.hook = newHookReceiver(t, time.Now)
	s.statePath = filepath.Join(s.dir, "state.json")
	s.cfg = daemonConf{app: s.app, statePath: s.statePath, firstRun: "silent", channels: []string{hookChannel("hook", s.hook.url())}}.write(t, s.dir)
	if r := runAt(t, time.Now(), "run", "--once", "--config", s.cfg); r.code != 0 || s.hook.count() != 0 {
		t.Fatalf("silent first run: exit %d, %d requests\n%s", r.code, s.hook.count(), r.stderr)
	}
	return s
}

// script writes a shell script into the setup's directory.
func (s *deploySetup) script(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// seqwatch deploy around a command that fails: the command's output
// passes untouched, the daemon is muted while it runs (a tick inside the
// deploy sends nothing), the wait names the failure Sequencer recorded,
// the verdict is CRITICAL with the command's own status in the summary,
// --notify sends one deploy.finished, and once unmuted the daemon alerts
// on the failure, once.
func TestDeployAroundACommandThatFails(t *testing.T) {
	t.Parallel()
	sqlite := testkit.RequireBinary(t, "sqlite3")
	s := newDeploySetup(t)
	during, tick := filepath.Join(s.dir, "during.json"), filepath.Join(s.dir, "tick.out")
	const failed = "2024_01_16_140000_PurgeStaleCarts"
	script := s.script(t, "deploy.sh", fmt.Sprintf(`printf 'raw \033[1mbytes\033[0m, no newline'
%s %s "insert into operations (name, type, state, executed_at, failed_at, created_at, updated_at) values ('%s', 'sync', 'failed', datetime('now'), datetime('now'), datetime('now'), datetime('now')); insert into operation_errors (operation_id, exception, message, trace, context, created_at, updated_at) values (last_insert_rowid(), 'RuntimeException', 'carts table locked', '#0 {main}', '{}', datetime('now'), datetime('now'))"
cp %s %s
%s run --once --config %s > %s 2>&1 || echo "tick failed: $?" >> %s
exit 3
`, sqlite, s.dbPath, failed, s.statePath, during, buildBinary(t), s.cfg, tick, tick))

	var out, errOut bytes.Buffer
	e := env{stdout: &out, stderr: &errOut, now: time.Now, getenv: func(string) string { return "" }}
	code := runMain(context.Background(), []string{"deploy", "--config", s.cfg, "--notify", "--timeout", "1m", "--", "sh", script}, e)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, out.String(), errOut.String())
	}
	if !strings.HasPrefix(out.String(), "raw \x1b[1mbytes\x1b[0m, no newline") {
		t.Errorf("the command's output did not pass untouched:\n%q", out.String())
	}
	mustContain(t, "deploy's output", out.String(),
		"▸ the command failed (exit status 3) after",
		"✗ "+failed+" failed: RuntimeException: carts table locked")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "SEQWATCH CRITICAL - the command failed (exit status 3): sh "+script+" -- 1 failed operation ("+failed+": RuntimeException: carts table locked)") ||
		!strings.Contains(last, " exit_status=3") {
		t.Errorf("summary line:\n%s", last)
	}
	if errOut.Len() != 0 {
		t.Errorf("standard error: %s", errOut.String())
	}

	// While the command ran: one mute of the timeout and the margin.
	st := readState(t, during)
	if len(st.Mutes) != 1 || st.Mutes[0].Reason != "deploy: sh "+script || st.Mutes[0].By != "deploy" || !about(st.Mutes[0].End.Sub(st.Mutes[0].Start), 3*time.Minute) {
		t.Fatalf("mutes during the deploy: %+v, want one of 1m and the 2m margin, reason the command", st.Mutes)
	}
	if b, _ := os.ReadFile(tick); !strings.Contains(string(b), `msg="event muted`) || strings.Contains(string(b), "tick failed") {
		t.Errorf("the tick during the deploy did not hold the failure back:\n%s", b)
	}
	got := s.hook.requests()
	if len(got) != 1 || got[0].Payload.Event != "deploy.finished" || got[0].Payload.Deploy == nil ||
		got[0].Payload.Deploy.Status != "CRITICAL" || got[0].Payload.Deploy.ExitCode != 3 ||
		len(got[0].Payload.Deploy.Failed) != 1 || got[0].Payload.Deploy.Failed[0].Message != "carts table locked" {
		t.Fatalf("requests after the deploy: %v, want the deploy.finished report alone (the tick inside was muted)", kindsOf(got))
	}
	if st := readState(t, s.statePath); len(st.Mutes) != 0 {
		t.Errorf("mutes after the deploy: %+v, want none", st.Mutes)
	}

	// Unmuted: the next tick alerts on the failure, once.
	for i := range 2 {
		if r := runAt(t, time.Now(), "run", "--once", "--config", s.cfg); r.code != 0 {
			t.Fatalf("tick %d after the deploy: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	got = s.hook.requests()
	if len(got) != 2 || got[1].Payload.Event != "operation.failed" || got[1].Payload.Operation.Name != failed {
		t.Errorf("requests after two ticks: %v, want the failure once after the report", kindsOf(got))
	}
}

// seqwatch deploy killed: SIGTERM is forwarded to the command, which
// decides (here it exits 143), and deploy unmutes and exits 2 without
// waiting; kill -9 leaves the mute, which ends by itself at the timeout
// plus the margin.
func TestDeployKilled(t *testing.T) {
	t.Parallel()
	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGKILL": syscall.SIGKILL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newDeploySetup(t)
			pidFile, got := filepath.Join(s.dir, "pid"), filepath.Join(s.dir, "got")
			script := s.script(t, "deploy.sh", fmt.Sprintf(`echo $$ > %s.tmp && mv %s.tmp %s
trap 'echo term > %s; exit 143' TERM
while :; do sleep 0.1; done
`, pidFile, pidFile, pidFile, got))
			// A file, not a pipe: the command outlives deploy's kill -9 and
			// would hold a pipe open.
			out, err := os.Create(filepath.Join(s.dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			output := func() string { b, _ := os.ReadFile(out.Name()); return string(b) }
			cmd := exec.Command(buildBinary(t), "deploy", "--config", s.cfg, "--timeout", "1m", "--", "sh", script)
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var child int
			testkit.Eventually(t, 20*time.Second, "the command started", func() (bool, string) {
				b, err := os.ReadFile(pidFile)
				child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				return err == nil && child > 0, fmt.Sprintf("pid file: %v; output %q", err, output())
			})
			t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
			st := readState(t, s.statePath)
			if len(st.Mutes) != 1 || !strings.HasPrefix(st.Mutes[0].Reason, "deploy: sh ") {
				t.Fatalf("mutes while the command runs: %+v", st.Mutes)
			}
			mute := st.Mutes[0]
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("deploy did not end 30s after %s\n%s", sig, output())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("deploy: %v, want a failure", err)
			}
			if sig == syscall.SIGTERM {
				if ee.ExitCode() != 2 {
					t.Errorf("exit %d, want 2\n%s", ee.ExitCode(), output())
				}
				if b, _ := os.ReadFile(got); strings.TrimSpace(string(b)) != "term" {
					t.Errorf("the command did not get SIGTERM (%q)", b)
				}
				mustContain(t, "output", output(), "the command failed (exit status 143)", "stopped by a signal before the wait", "SEQWATCH CRITICAL")
				if st := readState(t, s.statePath); len(st.Mutes) != 0 {
					t.Errorf("mutes after SIGTERM: %+v, want none", st.Mutes)
				}
				return
			}
			// kill -9: the mute stays, and lasts the timeout and the margin.
			st = readState(t, s.statePath)
			if len(st.Mutes) != 1 || st.Mutes[0].ID != mute.ID || !about(st.Mutes[0].End.Sub(st.Mutes[0].Start), 3*time.Minute) {
				t.Fatalf("mutes after kill -9: %+v, want the deploy's, of 1m and the 2m margin", st.Mutes)
			}
			if !st.Mutes[0].ActiveAt(mute.End.Add(-time.Second)) || st.Mutes[0].ActiveAt(mute.End) {
				t.Errorf("the mute is not in force up to its end, and only then")
			}
			// A daemon tick after its end: the mute removes itself.
			if r := runAt(t, mute.End.Add(time.Second), "run", "--once", "--config", s.cfg); r.code != 0 {
				t.Fatalf("tick after the mute's end: exit %d\n%s", r.code, r.stderr)
			}
			if st := readState(t, s.statePath); len(st.Mutes) != 0 || len(st.ActiveMutes(mute.End.Add(time.Second))) != 0 {
				t.Errorf("mutes after their end: %+v, want none", st.Mutes)
			}
		})
	}
}

// about reports whether d is want, give or take the second the steps of
// a deploy take.
func about(d, want time.Duration) bool { return d > want-time.Second && d <= want }

// docs/deploys.md's plain shell deploy script works: run against the sample
// application, with a php that writes the rows Sequencer writes, it exits
// 0 when the operation completes, and when it fails exits 2 and prints
// the failure with status --failed -v --since.
func TestREADMEDeployScriptWorks(t *testing.T) {
	t.Parallel()
	sqlite := testkit.RequireBinary(t, "sqlite3")
	readme, err := os.ReadFile("../../docs/deploys.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- deploy-sh -->\n```sh\n")
	body, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("docs/deploys.md has no <!-- deploy-sh --> block")
	}
	bin := buildBinary(t)
	for _, tc := range []struct {
		name   string
		sql    string
		code   int
		output []string
	}{
		{"completed", "insert into operations (name, type, state, executed_at, completed_at, created_at, updated_at) values ('2024_01_16_140000_PurgeStaleCarts', 'sync', 'completed', datetime('now'), datetime('now'), datetime('now'), datetime('now'))",
			0, []string{"✓ 2024_01_16_140000_PurgeStaleCarts completed", "SEQWATCH OK - done in"}},
		{"failed", "insert into operations (name, type, state, executed_at, failed_at, created_at, updated_at) values ('2024_01_16_140000_PurgeStaleCarts', 'sync', 'failed', datetime('now'), datetime('now'), datetime('now'), datetime('now')); insert into operation_errors (operation_id, exception, message, trace, context, created_at, updated_at) values (last_insert_rowid(), 'RuntimeException', 'carts table locked', '#0 /app/Purge.php(3): handle()', '{}', datetime('now'), datetime('now'))",
			2, []string{"✗ 2024_01_16_140000_PurgeStaleCarts failed: RuntimeException: carts table locked", "SEQWATCH CRITICAL - 1 failed operation",
				"Failed Operations", "2024_01_16_140000_PurgeStaleCarts.php (Failed at:", "#0 /app/Purge.php(3): handle()", "Total: 1 failed operation(s)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newDeploySetup(t)
			path := filepath.Join(s.dir, "bin")
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(bin, filepath.Join(path, "seqwatch")); err != nil {
				t.Fatal(err)
			}
			php := fmt.Sprintf(`#!/bin/sh
# php artisan ...: what Sequencer writes for sequencer:process, nothing for the rest.
[ "$1 $2" = "artisan sequencer:process" ] || exit 0
exec %s %s "%s"
`, sqlite, s.dbPath, tc.sql)
			if err := os.WriteFile(filepath.Join(path, "php"), []byte(php), 0o755); err != nil {
				t.Fatal(err)
			}
			script := s.script(t, "deploy.sh", body)
			cmd := exec.Command("sh", script)
			cmd.Env = append(os.Environ(), "PATH="+path+":"+os.Getenv("PATH"), "APP="+s.app, "CONF="+s.cfg)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, out)
			}
			mustContain(t, "the script's output", string(out), tc.output...)
			if st := readState(t, s.statePath); len(st.Mutes) != 0 {
				t.Errorf("mutes after the script: %+v", st.Mutes)
			}
		})
	}
}
