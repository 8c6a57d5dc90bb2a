package testkit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Golden compares got with the golden file at path and, when they differ,
// fails the test with a unified line diff (want is the file, got what the
// test produced). When *update is true it writes got to path instead,
// creating the directory.
//
// update is the test package's own flag, so that `go test -update` keeps
// working the way Go's own golden tests do:
//
//	var update = flag.Bool("update", false, "rewrite testdata/*.golden")
//	...
//	testkit.Golden(t, filepath.Join("testdata", "digest.golden"), got, update)
//
// A nil update never rewrites. The switch is a flag, not an environment
// variable, so that a run cannot rewrite golden files because a variable
// leaked into its environment.
func Golden(t testing.TB, path string, got []byte, update *bool) {
	t.Helper()
	if update != nil && *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("%s differs from what the test produced (go test -update rewrites it, if the change is intended):\n%s",
		path, Diff(path+" (want)", string(want), "got", string(got)))
}

// GoldenJSON is Golden for a JSON document: body is indented with two
// spaces, and ends with one newline (whatever white space it ended with),
// before it is compared, so that the golden file and its diff are
// readable line by line.
func GoldenJSON(t testing.TB, path string, body []byte, update *bool) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, bytes.TrimSpace(body), "", "  "); err != nil {
		t.Fatalf("%s: the body is not JSON: %v\n%s", path, err, body)
	}
	pretty.WriteByte('\n')
	Golden(t, path, pretty.Bytes(), update)
}
