package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// EnvStrict makes a missing tool fail the test instead of skipping it, as
// CI=true does; .ci/run sets both.
const EnvStrict = "SEQWATCH_TEST_STRICT"

// Strict reports whether a missing tool fails the test: CI (CI=true, as
// CI services set it) or SEQWATCH_TEST_STRICT=1. Either may be spelt as
// strconv.ParseBool reads it (1, t, true, TRUE).
func Strict() bool {
	for _, name := range []string{"CI", EnvStrict} {
		if on, err := strconv.ParseBool(os.Getenv(name)); err == nil && on {
			return true
		}
	}
	return false
}

// Missing says why the test cannot run here: it skips the test with that
// reason, or fails it under Strict, where a test that does not run must
// not leave CI green. It is for a missing prerequisite of the machine (a
// tool, a system user), not for a test that is opt-in (a benchmark that
// runs only when asked), which skips as usual.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s\n(this fails rather than skips under CI=true or %s=1: the machine must have it)", reason, EnvStrict)
	}
	t.Skip(reason)
}

// RequireBinary returns the path of the first of names that is installed,
// looked up on PATH and then in the sbin and bin directories that a
// non-root PATH may lack (Debian puts nagios4 and pgbouncer in /usr/sbin);
// a name with a slash is taken as a path. When none is installed, it skips
// the test saying which Debian package to install, or fails it under
// Strict (see Missing).
func RequireBinary(t testing.TB, names ...string) string {
	t.Helper()
	if len(names) == 0 {
		t.Fatal("testkit.RequireBinary: no program named")
	}
	for _, name := range names {
		if p, ok := lookBinary(name); ok {
			return p
		}
	}
	what := names[0] + " is not installed"
	if len(names) > 1 {
		what = fmt.Sprintf("none of %s is installed", strings.Join(names, ", "))
	}
	hint := ""
	if pkg := debianPackage(filepath.Base(names[0])); pkg != "" {
		hint = fmt.Sprintf(" (Debian package %s; .ci/run installs it)", pkg)
	}
	Missing(t, "%s (looked on PATH and in /usr/sbin, /usr/local/sbin, /sbin)%s", what, hint)
	return ""
}

// lookBinary finds one program: a path as it is, a name on PATH or in
// the system's sbin and bin directories.
func lookBinary(name string) (string, bool) {
	if strings.ContainsRune(name, '/') {
		p, err := exec.LookPath(name)
		return p, err == nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin", "/usr/local/bin"} {
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, true
		}
	}
	return "", false
}

// debianPackage is the Debian package that installs a program the tests
// run, as .ci/run installs it; "" for one it does not know.
func debianPackage(program string) string {
	switch program {
	case "alertmanager", "prometheus-alertmanager":
		return "prometheus-alertmanager"
	case "prometheus", "promtool":
		return "prometheus"
	case "nagios4", "nagios":
		return "nagios4-core"
	case "icinga2":
		return "icinga2-bin"
	case "chromium", "chromium-browser":
		return "chromium"
	case "python3":
		return "python3"
	case "pgbouncer":
		return "pgbouncer"
	case "systemd-analyze":
		return "systemd"
	case "prlimit":
		return "util-linux"
	case "mariadbd", "mariadb-install-db":
		return "mariadb-server"
	case "sqlite3":
		return "sqlite3"
	}
	return ""
}
