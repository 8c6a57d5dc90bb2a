package laravel_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/check"
)

// secret is a password that must never appear in an error message.
const secret = "hunter2-Sekr3t"

// writeFile writes content to dir/rel, creating directories.
func writeFile(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkError asserts that err is a ConfigError (kind "config", the only
// kind this package makes), that its message names every want fragment,
// that it holds no secret, and that it is a fact (factOnly).
func checkError(t *testing.T, err error, kind string, want []string, secrets ...string) {
	t.Helper()
	var ce *check.ConfigError
	if kind != "config" || !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a %s error", err, err, kind)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q contains the secret %q", msg, s)
		}
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error %q is not one line", msg)
	}
	factOnly(t, msg)
}

// adviceToEnv is advice about .env: a verb telling the user to act on .env
// or on one of its variables.
var adviceToEnv = regexp.MustCompile(`(?i)\b(check|set|use|give|point|change|fix|add|are)\b[^.;:?]*(\.env\b|\b(DB|APP|SEQUENCER)_[A-Z_*]+)|\bin \.env\b`)

// factOnly asserts that an error message states what is wrong and leaves
// the advice to the command: it names no command-line flag, no
// seqwatch.yaml and tells the user to do nothing to .env. Which of those
// fits depends on how seqwatch was run, which only cmd/seqwatch knows.
func factOnly(t *testing.T, msg string) {
	t.Helper()
	if m := regexp.MustCompile(`(^|[\s(])--?[a-z]`).FindString(msg); m != "" {
		t.Errorf("error %q names a command-line flag", msg)
	}
	if strings.Contains(msg, "seqwatch.yaml") {
		t.Errorf("error %q names seqwatch.yaml", msg)
	}
	if m := adviceToEnv.FindString(msg); m != "" {
		t.Errorf("error %q gives advice about .env (%q)", msg, m)
	}
}

// checkReason asserts the Reason of err's ConfigError.
func checkReason(t *testing.T, err error, want check.Reason) {
	t.Helper()
	var ce *check.ConfigError
	got := check.OtherReason
	if errors.As(err, &ce) {
		got = ce.Reason
	}
	if got != want {
		t.Errorf("reason = %d, want %d (error: %v)", got, want, err)
	}
}
