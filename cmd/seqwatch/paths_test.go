package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/demo"
)

// An application as a new user points seqwatch at it: by a path relative
// to where they stand (shop, ./shop, ../shop), through a symbolic link to
// the release a deploy made current, or by a configuration file whose app:
// is relative to the file. Every way reads the same files and rows. The
// test changes the working directory, so it does not run in parallel.
func TestRelativeAndLinkedApplicationPaths(t *testing.T) {
	root := t.TempDir()
	shop := filepath.Join(root, "srv", "releases", "42")
	if err := os.MkdirAll(filepath.Dir(shop), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := demo.WriteApp(t.Context(), shop, demoNow); err != nil {
		t.Fatal(err)
	}
	current := filepath.Join(root, "srv", "current")
	if err := os.Symlink(shop, current); err != nil {
		t.Fatal(err)
	}
	etc := filepath.Join(root, "etc", "seqwatch")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFileT(t, filepath.Join(etc, "relative.yaml"), "app: ../../srv/current\n")
	writeFileT(t, filepath.Join(etc, "absolute.yaml"), "app: "+shop+"\n")

	want := runAt(t, demoNow, "check", "--app", shop).stdout
	if !strings.Contains(want, "pending=5") || !strings.Contains(want, "completed=3") {
		t.Fatalf("check of the absolute path: %s", want)
	}
	for _, tc := range []struct {
		name, dir string
		args      []string
	}{
		{"a name in the working directory", filepath.Join(root, "srv", "releases"), []string{"--app", "42"}},
		{"./name", filepath.Join(root, "srv", "releases"), []string{"--app", "./42"}},
		{"../name", filepath.Join(root, "srv", "releases", "42", "database"), []string{"--app", "../../42"}},
		{"the symbolic link of the current release", root, []string{"--app", "srv/current"}},
		{"a configuration whose app is relative to the file", root, []string{"--config", "etc/seqwatch/relative.yaml"}},
		{"a relative configuration path from its own directory", etc, []string{"--config", "relative.yaml"}},
		{"a relative configuration path with an absolute app", filepath.Join(root, "srv"), []string{"--config", "../etc/seqwatch/absolute.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(tc.dir)
			r := runAt(t, demoNow, append([]string{"check"}, tc.args...)...)
			if r.stdout != want || r.code != 2 {
				t.Errorf("check %v from %s: exit %d\n%s\nwant\n%s", tc.args, tc.dir, r.code, r.stdout, want)
			}
			r = runAt(t, demoNow, append([]string{"status", "--pending"}, tc.args...)...)
			if r.code != 0 || !strings.Contains(r.stdout, "Total: 5 pending operation(s)") || r.stderr != "" {
				t.Errorf("status --pending %v: exit %d, stderr %q\n%s", tc.args, r.code, r.stderr, r.stdout)
			}
		})
	}
}

// A discovery directory that does not exist is news wherever its path
// comes from: check is UNKNOWN and names it with the fix, status still
// prints and says so on standard error, and the daemon sends a source
// problem, and its recovery once the directory is back.
func TestMissingDiscoveryDirectoryIsNews(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// prepare breaks the application in dir and returns the
		// arguments that point seqwatch at it, and the missing path.
		prepare func(t *testing.T, dir string) (args []string, missing string)
		advice  string
	}{
		{"the default operations directory", func(t *testing.T, dir string) ([]string, string) {
			ops := filepath.Join(dir, "database", "operations")
			if err := os.RemoveAll(ops); err != nil {
				t.Fatal(err)
			}
			return []string{"--app", dir}, ops
		}, "is --app the Laravel application root? If the operation files are elsewhere, set paths.operations in seqwatch.yaml"},
		{"the default migrations directory", func(t *testing.T, dir string) ([]string, string) {
			migs := filepath.Join(dir, "database", "migrations")
			if err := os.RemoveAll(migs); err != nil {
				t.Fatal(err)
			}
			return []string{"--app", dir}, migs
		}, "set paths.migrations in seqwatch.yaml"},
		{"paths.operations in the configuration file", func(t *testing.T, dir string) ([]string, string) {
			cfg := filepath.Join(t.TempDir(), "seqwatch.yaml")
			writeFileT(t, cfg, "app: "+dir+"\npaths:\n  operations: [database/operations, app/Operations]\n")
			return []string{"--config", cfg}, filepath.Join(dir, "app", "Operations")
		}, "is app in the configuration file the Laravel application root? If the operation files are elsewhere, set paths.operations (relative to app)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := demoApp(t)
			args, missing := tc.prepare(t, dir)

			r := runAt(t, demoNow, append([]string{"check"}, args...)...)
			if r.code != 3 || !strings.HasPrefix(r.stdout, "SEQWATCH UNKNOWN - ") || !strings.Contains(r.stdout, missing+" does not exist: ") || !strings.Contains(r.stdout, tc.advice) || r.stderr != "" {
				t.Errorf("check: exit %d, stdout %q, stderr %q; want UNKNOWN naming %s and %q", r.code, r.stdout, r.stderr, missing, tc.advice)
			}
			if strings.Count(r.stdout, "\n") != 1 {
				t.Errorf("check printed more than one line: %q", r.stdout)
			}
			r = runAt(t, demoNow, append([]string{"check", "--json"}, args...)...)
			var v check.Verdict
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Status != check.Unknown {
				t.Errorf("check --json: %v, status %s", err, v.Status)
			}

			r = runAt(t, demoNow, append([]string{"status"}, args...)...)
			wantWarning := "seqwatch status: warning: "
			if r.code != 0 || !strings.Contains(r.stderr, wantWarning) || !strings.Contains(r.stderr, missing+" does not exist: ") || !strings.Contains(r.stderr, tc.advice) || !strings.Contains(r.stdout, "Failed Operations") {
				t.Errorf("status: exit %d, stderr %q; want the tables, and a warning naming %s", r.code, r.stderr, missing)
			}
			r = runAt(t, demoNow, append([]string{"status", "--json"}, args...)...)
			var doc check.Snapshot
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.MissingDirs) != 1 || doc.MissingDirs[0].Path != missing || !strings.Contains(r.stderr, wantWarning) {
				t.Errorf("status --json: %v, missing_dirs %+v, stderr %q", err, doc.MissingDirs, r.stderr)
			}
		})
	}
}

// The daemon logs a missing directory, shows it on its page (the verdict
// and the notices) and sends it as a source problem; once the directory
// is back it sends source.recovered.
func TestDaemonTellsOfAMissingDirectory(t *testing.T) {
	t.Parallel()
	now := demoNow
	app, _ := sqliteApp(t, now)
	ops := filepath.Join(app, "database", "operations")
	if err := os.Rename(ops, ops+".away"); err != nil {
		t.Fatal(err)
	}
	hook := newHookReceiver(t, func() time.Time { return now })
	dir := t.TempDir()
	cfg := daemonConf{app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "silent",
		channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
	r := runAt(t, now, "run", "--once", "--config", cfg, "--log-level", "debug")
	if r.code != 0 {
		t.Fatalf("run --once: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "the log", r.stderr, "operation directory "+ops+" does not exist")
	got := hook.requests()
	if len(got) != 1 || got[0].Payload.Event != "source.unreachable" || got[0].Payload.Source == nil || !strings.Contains(*got[0].Payload.Source, ops) {
		t.Fatalf("sent %d documents (%v), want one source.unreachable naming %s", len(got), kinds(members(got[len(got)-1].Payload)), ops)
	}
	key := got[0].Payload.Key
	if r := runAt(t, now.Add(time.Minute), "run", "--once", "--config", cfg); r.code != 0 || len(hook.requests()) != 1 {
		t.Errorf("second tick: exit %d, %d documents in all; want nothing new", r.code, len(hook.requests()))
	}
	if err := os.Rename(ops+".away", ops); err != nil {
		t.Fatal(err)
	}
	if r := runAt(t, now.Add(2*time.Minute), "run", "--once", "--config", cfg); r.code != 0 {
		t.Fatalf("third tick: exit %d\n%s", r.code, r.stderr)
	}
	got = hook.requests()
	if len(got) != 2 || got[1].Payload.Event != "source.recovered" || got[1].Payload.Key != key {
		t.Errorf("after the directory is back: %d documents, the last %v; want source.recovered for %s", len(got), kinds(members(got[len(got)-1].Payload)), key)
	}
}
