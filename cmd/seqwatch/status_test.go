package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/testkit"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestStatusMatchesGoldenFiles(t *testing.T) {
	app := demoApp(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"status_all", nil},
		{"status_pending", []string{"--pending"}},
		{"status_completed", []string{"--completed"}},
		{"status_failed", []string{"--failed"}},
		{"status_failed_verbose", []string{"--failed", "-v"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, append([]string{"status", "--app", app}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			testkit.Golden(t, filepath.Join("testdata", tc.name+".golden"), []byte(r.stdout), update)
		})
	}
}

func TestStatusJSONHasDocumentedFields(t *testing.T) {
	app := demoApp(t)
	r := runCmd(t, nil, "status", "--app", app, "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, k := range []string{"app", "driver", "timezone", "taken_at", "pending_migrations", "pending_operations", "in_progress", "failing", "completed", "failed", "counts", "deferred"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	counts := doc["counts"].(map[string]any)
	if counts["failing"] != 1.0 || counts["pending_operations"] != 5.0 || counts["in_progress"] != 2.0 {
		t.Errorf("counts = %v, want failing 1, pending_operations 5, in_progress 2", counts)
	}
	failed := doc["failed"].([]any)
	recovered := 0
	for _, f := range failed {
		if f.(map[string]any)["recovered"] == true {
			recovered++
		}
	}
	if len(failed) != 3 || recovered != 1 {
		t.Errorf("failed rows = %d with %d recovered, want 3 with 1", len(failed), recovered)
	}
}

func TestStatusColourOnlyOnTerminalAndNotWithNO_COLOR(t *testing.T) {
	app := demoApp(t)
	for _, tc := range []struct {
		name     string
		terminal bool
		env      map[string]string
		want     bool
	}{
		{"pipe", false, nil, false},
		{"terminal", true, nil, true},
		{"terminal with NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, false},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := env{getenv: func(k string) string { return tc.env[k] }, isTerminal: tc.terminal}
			if got := useColor(e); got != tc.want {
				t.Errorf("useColor = %v, want %v", got, tc.want)
			}
		})
	}
	r := runCmd(t, nil, "status", "--app", app)
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("status wrote escape sequences to a pipe")
	}
}

// The seed's monitoring script, with php artisan sequencer:status replaced
// by seqwatch status, tells a failing application from a healthy one.
func TestSeedMonitoringScriptWorks(t *testing.T) {
	bin := buildBinary(t)
	script := `#!/bin/bash
# Check for failed operations
FAILED=$(seqwatch status --app "$APP" --failed | grep "Total:" | awk '{print $2}')

if [ "$FAILED" -gt 0 ]; then
    echo "WARNING: $FAILED failed operation(s) detected"
    seqwatch status --app "$APP" --failed -v
    exit 1
fi

echo "All operations healthy"
exit 0
`
	dir := t.TempDir()
	scriptPath := filepath.Join(dir, "monitor.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(app string) (string, int) {
		cmd := exec.Command("bash", scriptPath)
		cmd.Env = append(os.Environ(), "APP="+app, "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}

	// The demo has one failing operation, which failed twice.
	failing := demoApp(t)
	out, code := run(failing)
	if code != 1 || !strings.Contains(out, "WARNING: 1 failed operation(s) detected") || !strings.Contains(out, "Stack trace") {
		t.Errorf("failing app: exit %d, output:\n%s", code, out)
	}
	if strings.Contains(out, "integer expression expected") {
		t.Errorf("the script compared a non-number:\n%s", out)
	}

	healthy := demoApp(t)
	if _, err := exec.Command("sqlite3", filepath.Join(healthy, "database", "database.sqlite"),
		"insert into operations (name, type, state, executed_at, completed_at) values ('2024_01_13_120000_FailedOperation', 'sync', 'completed', '2026-03-14 15:00:00', '2026-03-14 15:00:09')").CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v", err)
	}
	out, code = run(healthy)
	if code != 0 || !strings.Contains(out, "All operations healthy") {
		t.Errorf("healthy app: exit %d, output:\n%s", code, out)
	}
}

// Each section reads only what it shows: with the operation files made
// unreadable (a file where the directory should be), --failed and
// --completed still print what they printed; with a completed row whose
// time stamp cannot be read, --pending and --failed still do, while the
// sections that list that row list it and name the value under Warnings
// (unreadable[] in --json).
func TestStatusReadsOnlyTheSectionsAskedFor(t *testing.T) {
	t.Run("no files read for the history", func(t *testing.T) {
		app := demoApp(t)
		ops := filepath.Join(app, "database", "operations")
		if err := os.RemoveAll(ops); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ops, []byte("not a directory"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ golden, flag string }{{"status_failed", "--failed"}, {"status_completed", "--completed"}} {
			r := runCmd(t, nil, "status", "--app", app, tc.flag)
			if r.code != 0 {
				t.Fatalf("status %s: exit %d: %s", tc.flag, r.code, r.stderr)
			}
			testkit.Golden(t, filepath.Join("testdata", tc.golden+".golden"), []byte(r.stdout), update)
		}
		if r := runCmd(t, nil, "status", "--app", app, "--pending"); r.code != 1 || !strings.Contains(r.stderr, "operations") {
			t.Errorf("status --pending with unreadable operation files: exit %d, stderr %q; want exit 1 naming the directory", r.code, r.stderr)
		}
	})
	t.Run("no history read for pending", func(t *testing.T) {
		app := demoApp(t)
		if out, err := exec.Command("sqlite3", filepath.Join(app, "database", "database.sqlite"),
			"insert into operations (name, type, state, executed_at, completed_at) values ('2020_01_01_000000_Old', 'sync', 'completed', '2020-01-01 00:00:00', 'garbage')").CombinedOutput(); err != nil {
			t.Fatalf("sqlite3: %v: %s", err, out)
		}
		for _, tc := range []struct{ golden, flag string }{{"status_pending", "--pending"}, {"status_failed", "--failed"}} {
			r := runCmd(t, nil, "status", "--app", app, tc.flag)
			if r.code != 0 {
				t.Fatalf("status %s: exit %d: %s", tc.flag, r.code, r.stderr)
			}
			testkit.Golden(t, filepath.Join("testdata", tc.golden+".golden"), []byte(r.stdout), update)
		}
		r := runCmd(t, nil, "status", "--app", app, "--completed")
		if r.code != 0 || !strings.Contains(r.stdout, "2020_01_01_000000_Old.php") ||
			!strings.Contains(r.stdout, "\nWarnings\n- operations row ") || strings.Count(r.stdout, `completed_at "garbage" is not a time stamp`) != 1 {
			t.Errorf("status --completed over an unreadable time stamp: exit %d, stderr %q; want the row listed and named once under Warnings:\n%s", r.code, r.stderr, r.stdout)
		}
		r = runCmd(t, nil, "status", "--app", app, "--json")
		var doc check.Snapshot
		if err := json.Unmarshal([]byte(r.stdout), &doc); r.code != 0 || err != nil {
			t.Fatalf("status --json over an unreadable time stamp: exit %d, %v, stderr %q", r.code, err, r.stderr)
		}
		if len(doc.Unreadable) != 1 || doc.Unreadable[0].Column != "completed_at" || doc.Unreadable[0].Value != "garbage" || doc.Counts.UnreadableRows != 1 {
			t.Errorf("status --json names %+v (%d rows), want the completed_at once", doc.Unreadable, doc.Counts.UnreadableRows)
		}
	})
}
