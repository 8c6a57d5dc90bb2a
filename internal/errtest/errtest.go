// Package errtest holds the assertions the library packages' tests make
// about their error messages: that a message states what is wrong and
// leaves what to do to the command (cmd/seqwatch's advice), is one line,
// and holds no secret. Only tests import it; it imports nothing of
// seqwatch.
package errtest

import (
	"regexp"
	"strings"
	"testing"
)

var (
	// flag is a command-line flag: -t, --dsn.
	flag = regexp.MustCompile(`(^|[\s(])--?[a-z]`)
	// adviceToEnv is a verb telling the user to act on .env or on one of
	// its variables.
	adviceToEnv = regexp.MustCompile(`(?i)\b(check|set|use|give|point|change|fix|add|are)\b[^.;:?]*(\.env\b|\b(DB|APP|SEQUENCER)_[A-Z_*]+)|\bin \.env\b`)
	// remedy is one of the remedies cmd/seqwatch adds to state's errors.
	remedy = regexp.MustCompile(`(?i)\b(stop it|use another|upgrade seqwatch|move (it|the file) away|restore it|run seqwatch as)\b`)
)

// FactOnly asserts that an error message states what is wrong and leaves
// the advice to the command: it names no command-line flag and no
// seqwatch.yaml, tells the user to do nothing to .env, and gives none of
// the remedies the command adds. Which advice fits depends on how
// seqwatch was run, which only cmd/seqwatch knows.
func FactOnly(t testing.TB, msg string) {
	t.Helper()
	if flag.MatchString(msg) {
		t.Errorf("error %q names a command-line flag", msg)
	}
	if strings.Contains(msg, "seqwatch.yaml") {
		t.Errorf("error %q names seqwatch.yaml", msg)
	}
	if m := adviceToEnv.FindString(msg); m != "" {
		t.Errorf("error %q gives advice about .env (%q)", msg, m)
	}
	if m := remedy.FindString(msg); m != "" {
		t.Errorf("error %q gives advice (%q)", msg, m)
	}
}

// Message asserts that msg names every want fragment, holds none of the
// secrets, is one line, and is a fact (FactOnly).
func Message(t testing.TB, msg string, want []string, secrets ...string) {
	t.Helper()
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
	FactOnly(t, msg)
}
