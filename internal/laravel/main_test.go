package laravel_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/errtest"
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
// that it holds no secret, and that it is a fact (errtest.Message).
func checkError(t *testing.T, err error, kind string, want []string, secrets ...string) {
	t.Helper()
	var ce *check.ConfigError
	if kind != "config" || !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a %s error", err, err, kind)
	}
	errtest.Message(t, err.Error(), want, secrets...)
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
