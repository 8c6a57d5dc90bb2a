// Package golden compares a test's output with a file under testdata/ and
// rewrites the file with `go test -update`. A difference is printed as a
// line diff, so that a reviewer sees what changed rather than two blobs.
//
// It is for tests only and imports nothing of seqwatch. A test package
// that imports it must not define an -update flag of its own.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// maxDiffLines bounds the diff printed for one file.
const maxDiffLines = 80

// Check compares got with the golden file at path (testdata/NAME.golden),
// or writes got there when the test runs with -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v (run go test -update to create it)", path, err)
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("%s differs (- golden, + got; go test -update accepts the change):\n%s", path, Diff(string(want), string(got)))
}

// Diff is a line diff of a and b: lines only in a start with "-", lines
// only in b with "+", and unchanged lines next to a change with " ". It
// prints at most maxDiffLines lines.
func Diff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j] is the length of the longest common subsequence of
	// x[i:] and y[j:]; golden files are small, so the table is too.
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var ops []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, line{' ', x[i]})
			i++
			j++
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, line{'+', y[j]})
			j++
		default:
			ops = append(ops, line{'-', x[i]})
			i++
		}
	}
	near := func(k int) bool {
		for d := -2; d <= 2; d++ {
			if k+d >= 0 && k+d < len(ops) && ops[k+d].op != ' ' {
				return true
			}
		}
		return false
	}
	var out strings.Builder
	printed, skipped := 0, false
	for k, l := range ops {
		if !near(k) {
			skipped = true
			continue
		}
		if skipped && printed > 0 {
			out.WriteString("  …\n")
		}
		skipped = false
		if printed == maxDiffLines {
			out.WriteString("  … (diff cut)\n")
			break
		}
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
		printed++
	}
	return out.String()
}
