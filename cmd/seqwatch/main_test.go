package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/demo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// demoNow is the fixed clock of the sample application in these tests.
var demoNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// result is what one command run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// runCmd runs seqwatch in-process with a fixed clock and environment.
func runCmd(t *testing.T, envVars map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	e := env{stdout: &out, stderr: &errOut, now: func() time.Time { return demoNow },
		getenv: func(k string) string { return envVars[k] }, sleep: noSleep}
	code := runMain(context.Background(), args, e)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// demoApp writes the sample application into a temporary directory.
func demoApp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := demo.WriteApp(context.Background(), dir, demoNow); err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildBinary builds seqwatch once per test binary for tests that run it
// as a process (shell scripts, kill -9).
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "seqwatch-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "seqwatch")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("build seqwatch: %v", binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

// noSleep stands in for the retry backoff's timer: tests never wait.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }
