package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// memoryLimit is the data segment (heap) a bounded-resource test lets the
// seqwatch process have: a few times what it needs, far below what an
// unbounded input would take.
const memoryLimit = 256 << 20

// requireTool returns the path of a program a test needs. Under CI (CI=true,
// or SEQWATCH_TEST_STRICT=1) a missing one fails the test instead of
// skipping it.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" || os.Getenv("SEQWATCH_TEST_STRICT") == "1" {
		t.Fatalf("%s is not installed (%s), and CI must not skip this test", name, install)
	}
	t.Skipf("%s is not installed (%s)", name, install)
	return ""
}

// limitedCommand runs the built binary under prlimit with memoryLimit, so
// that an input that would take all the memory makes seqwatch fail, not
// the machine.
func limitedCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	prlimit := requireTool(t, "prlimit", "Debian package util-linux")
	return exec.Command(prlimit, append([]string{fmt.Sprintf("--data=%d", memoryLimit), "--", buildBinary(t)}, args...)...)
}

// runLimited runs the binary to completion under the memory limit, with
// a bound on its time.
func runLimited(t *testing.T, args ...string) result {
	t.Helper()
	cmd := limitedCommand(t, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(processBound):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("seqwatch %v did not finish; stderr:\n%s", args, errOut.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: cmd.ProcessState.ExitCode()}
}

// aliasBombYAML is a configuration of a few hundred bytes whose to: list
// nests aliases eight levels deep, nine at each: 43 million values once
// the aliases are written out.
func aliasBombYAML(app string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "app: %s\nchannels:\n  - name: m\n    email:\n      host: h\n      from: a@b.c\n      to:\n", app)
	b.WriteString("        - &l0 [" + strings.TrimSuffix(strings.Repeat(`"lol", `, 9), ", ") + "]\n")
	for i := 1; i < 8; i++ {
		fmt.Fprintf(&b, "        - &l%d [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", "))
	}
	return b.String()
}

// mustNotCrash fails on the signs of a Go runtime crash in out.
func mustNotCrash(t *testing.T, what, out string) {
	t.Helper()
	for _, sign := range []string{"fatal error", "out of memory", "goroutine ", "panic:", ".go:"} {
		if strings.Contains(out, sign) {
			t.Errorf("%s crashed (%q):\n%s", what, sign, out)
			return
		}
	}
}

// An alias bomb or an oversized file is one sentence from every command
// that reads the configuration, within a memory limit.
func TestHostileConfigurationFilesAreRefusedWithinAMemoryLimit(t *testing.T) {
	t.Parallel()
	app := demoApp(t)
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.yaml")
	if err := os.WriteFile(bomb, []byte(aliasBombYAML(app)), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte("app: "+app+"\n#"+strings.Repeat("x", 2<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []struct{ path, want string }{
		{bomb, "aliases stand for more than 10000 values"},
		{huge, "is larger than 1 MiB"},
	} {
		for _, tc := range []struct {
			args []string
			code int
		}{
			{[]string{"validate", "--config", file.path}, 1},
			{[]string{"check", "--config", file.path}, 3},
			{[]string{"status", "--config", file.path}, 1},
			{[]string{"run", "--once", "--config", file.path}, 1},
		} {
			t.Run(filepath.Base(file.path)+" "+tc.args[0], func(t *testing.T) {
				r := runLimited(t, tc.args...)
				out := r.stdout + r.stderr
				mustNotCrash(t, tc.args[0], out)
				if r.code != tc.code {
					t.Errorf("exit %d, want %d\n%s", r.code, tc.code, out)
				}
				mustContain(t, tc.args[0], out, file.want)
				if n := strings.Count(strings.TrimSpace(out), "\n"); n > 0 {
					t.Errorf("more than one line:\n%s", out)
				}
			})
		}
	}
}

// SIGHUP with an alias bomb in place of the configuration keeps the
// running configuration, within the memory limit.
func TestReloadWithAnAliasBombKeepsTheOldConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := daemonConf{app: demoApp(t), statePath: filepath.Join(dir, "state.json"), firstRun: "silent", schedule: "@every 1s", channels: []string{consoleChannel}}
	cfg := conf.write(t, dir)
	p := startCommand(t, limitedCommand(t, "run", "--log-format", "json", "--config", cfg))
	_, next := p.waitLine(0, "first check done")
	if err := os.WriteFile(cfg, []byte(aliasBombYAML(conf.app)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line, next := p.waitLine(next, "reload failed")
	mustContain(t, "reload line", line, "keeping the previous configuration", "aliases stand for more than 10000 values")
	// Still running: a good file is taken at the next SIGHUP.
	if err := os.WriteFile(cfg, []byte(conf.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLine(next, "configuration reloaded")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("SIGTERM after the refused reload: exit %d\n%s", code, p.stderr())
	}
	mustNotCrash(t, "the daemon", p.stderr())
}
