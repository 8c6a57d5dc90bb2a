package main

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The inputs are real `go test -json` runs of a small module: testdata/
// sample.json has tests that pass, fail, skip and panic, with subtests;
// broken.json a package that does not compile and one that times out.
func TestSummaryOfRealRuns(t *testing.T) {
	for _, name := range []string{"sample", "broken"} {
		t.Run(name, func(t *testing.T) {
			in, err := os.Open(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var out strings.Builder
			if code := run(in, &out); code != 1 {
				t.Errorf("exit %d for a run with failures, want 1", code)
			}
			testkit.Golden(t, filepath.Join("testdata", name+".golden"), []byte(out.String()), update)
		})
	}
}

func TestSummaryCountsAndNamesEachSkip(t *testing.T) {
	var out strings.Builder
	in, err := os.Open(filepath.Join("testdata", "sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	run(in, &out)
	got := out.String()
	for _, want := range []string{
		// Failed tests show what they printed; passing ones do not.
		"=== example.com/tsample/a TestFailsWithItsOutput failed:\n=== RUN   TestFailsWithItsOutput\n    a_test.go:12: what the test saw\n    a_test.go:13: got 1, want 2\n",
		"=== example.com/tsample/a TestSubtests/failing failed:\n=== RUN   TestSubtests/failing\n    a_test.go:19: boom\n        second line\n",
		"panic: assignment to entry in nil map",
		"skipped (2):\n  example.com/tsample/a TestSkipsForAMissingTool: a_test.go:8: frobnicate is not installed (Debian package frob)\n" +
			"  example.com/tsample/a TestSubtests/skipped: a_test.go:18: opt-in: set BENCH=1 to run\n",
		"ok  \texample.com/tsample/b\t",
		"FAIL\texample.com/tsample/c\t",
		"ran 10 tests (subtests included) in 3 packages\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "quiet when it passes") {
		t.Errorf("a passing test's output was printed:\n%s", got)
	}
	if last := lastLine(got); last != "tests: 4 passed, 4 failed, 2 skipped" {
		t.Errorf("last line %q", last)
	}
}

func TestSummaryOfAGreenRunExitsZero(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var green strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"Package":"example.com/tsample/b"`) {
			green.WriteString(sc.Text() + "\n")
		}
	}
	var out strings.Builder
	if code := run(strings.NewReader(green.String()), &out); code != 0 {
		t.Errorf("exit %d for a green run:\n%s", code, out.String())
	}
	if last := lastLine(out.String()); last != "tests: 2 passed, 0 failed, 0 skipped" {
		t.Errorf("last line %q", last)
	}
}

func TestSummaryOfARunWithNoTestFails(t *testing.T) {
	in := `{"Action":"start","Package":"example.com/x"}
{"Action":"output","Package":"example.com/x","Output":"?   \texample.com/x\t[no test files]\n"}
{"Action":"skip","Package":"example.com/x","Elapsed":0}
go: something printed that is not an event
`
	var out strings.Builder
	if code := run(strings.NewReader(in), &out); code != 1 {
		t.Errorf("exit %d when no test ran, want 1", code)
	}
	for _, want := range []string{"?   \texample.com/x\t[no test files]\n", "go: something printed that is not an event\n", "testsummary: no test ran\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSkipReasonIsOneBoundedLine(t *testing.T) {
	long := strings.Repeat("é", 400)
	tests := []struct{ output, want string }{
		{"=== RUN   TestX\n    x_test.go:3: no tool\n--- SKIP: TestX (0.00s)\n", "x_test.go:3: no tool"},
		{"=== RUN   TestX\n    x_test.go:3: first\n        second\n--- SKIP: TestX (0.00s)\n", "x_test.go:3: first / second"},
		{"=== RUN   TestX\n--- SKIP: TestX (0.00s)\n", "(no reason given)"},
		{long, long[:300] + "…"},
	}
	for _, tc := range tests {
		if got := skipReason(tc.output); got != tc.want {
			t.Errorf("skipReason(%q) = %q, want %q", tc.output, got, tc.want)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
