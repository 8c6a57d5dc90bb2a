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

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// memoryLimit is the data segment (heap) a bounded-resource test lets the
// seqwatch process have: a few times what it needs, far below what an
// unbounded input would take.
const memoryLimit = 256 << 20

// limitedCommand runs the built binary under prlimit with memoryLimit, so
// that an input that would take all the memory makes seqwatch fail, not
// the machine.
func limitedCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	prlimit := testkit.RequireBinary(t, "prlimit")
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

// A *_file secret is a regular file of at most 64 KiB: a device, a pipe
// or a huge file is one sentence, at once and within the memory limit.
func TestSecretFilesAreRegularFilesOfAtMost64KiB(t *testing.T) {
	t.Parallel()
	app := demoApp(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	if err := os.WriteFile(sparse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 1<<30); err != nil {
		t.Fatal(err)
	}
	over := filepath.Join(dir, "over")
	if err := os.WriteFile(over, bytes.Repeat([]byte("p"), 64<<10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	fits := filepath.Join(dir, "fits")
	if err := os.WriteFile(fits, bytes.Repeat([]byte("p"), 64<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, want string
	}{
		{"/dev/zero", "/dev/zero", "/dev/zero is not a regular file"},
		{"a FIFO nobody writes to", fifo, fifo + " is not a regular file"},
		{"a directory", dir, dir + " is not a regular file"},
		{"a gibibyte", sparse, sparse + " is larger than 64 KiB"},
		{"one byte over 64 KiB", over, over + " is larger than 64 KiB"},
		{"64 KiB", fits, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "seqwatch.yaml")
			body := "app: " + app + "\nchannels:\n  - name: m\n    email:\n      host: smtp.example.com\n      username: u\n      password_file: " + tc.file + "\n      from: a@example.com\n      to: [b@example.com]\n"
			if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runLimited(t, "validate", "--config", cfg)
			out := r.stdout + r.stderr
			mustNotCrash(t, "validate", out)
			if tc.want == "" {
				if r.code != 0 {
					t.Errorf("exit %d, want 0\n%s", r.code, out)
				}
				return
			}
			if r.code != 1 {
				t.Errorf("exit %d, want 1\n%s", r.code, out)
			}
			mustContain(t, "validate", out, "line 7: channels[0].email.password_file: "+tc.want)
		})
	}
}

// A configuration read from a pipe whose writer never writes (as
// --config <(...) may be) holds no command past its deadline or a signal.
func TestReadingAConfigurationHonoursTheDeadlineAndSignals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "seqwatch.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A writer that stays silent: opened read-write, so that opening
	// does not wait for a reader.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	t.Run("check gives up after -t", func(t *testing.T) {
		start := time.Now()
		r := runLimited(t, "check", "--config", fifo, "-t", "1s")
		if r.code != 3 || !strings.HasPrefix(r.stdout, "SEQWATCH UNKNOWN - ") {
			t.Errorf("exit %d, want 3 and UNKNOWN\n%s%s", r.code, r.stdout, r.stderr)
		}
		mustContain(t, "check", r.stdout, "did not finish in time")
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("check took %s with -t 1s", took)
		}
	})
	t.Run("validate stops at SIGTERM", func(t *testing.T) {
		p := startCommand(t, limitedCommand(t, "validate", "--config", fifo))
		// Once it has the pipe open it is past setting up its signals.
		waitForOpenFile(t, p.cmd.Process.Pid, fifo)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(); code != 1 {
			t.Errorf("exit %d, want 1\n%s", code, p.stderr())
		}
		mustContain(t, "validate", p.stderr(), "was stopped: seqwatch was told to stop")
	})
}

// waitForOpenFile waits, within processBound, until process pid has path
// open.
func waitForOpenFile(t *testing.T, pid int, path string) {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	testkit.Eventually(t, processBound, fmt.Sprintf("process %d opens %s", pid, path), func() (bool, string) {
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && target == path {
				return true, ""
			}
		}
		return false, ""
	})
}
