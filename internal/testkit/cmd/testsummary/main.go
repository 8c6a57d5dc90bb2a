// Command testsummary reads the events of `go test -json` on standard
// input and prints what a reader of a CI log needs:
//
//   - each package's closing line (ok, FAIL, no test files) as it ends,
//     and compiler errors as they come;
//   - the whole output of each test that failed, and of each test still
//     running when its package failed (a panic, a timeout), which counts
//     as failed;
//   - at the end, every skipped test with its reason, every failed test,
//     and the counts, closing with "tests: N passed, N failed, N skipped".
//
// Passing tests print nothing, as under plain `go test`; unlike plain
// `go test`, a skip cannot go unseen. It exits 1 when a test or a package
// failed, or when no test ran at all. .ci/run runs it as
//
//	go test -json ./... | go run ./internal/testkit/cmd/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

// event is one line of `go test -json` (cmd/test2json's TestEvent, and
// the build events of go test).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

// key names one test (subtests included) of one package.
type key struct{ pkg, test string }

// skip is a skipped test and why.
type skip struct {
	key
	reason string
}

// summary follows the events of one run.
type summary struct {
	out io.Writer
	// running holds the output of each test that has not ended yet, and
	// order the tests of each package in the order they started.
	running map[key]*strings.Builder
	order   map[string][]string

	passed, failed int
	skips          []skip
	failures       []key
	packages       int
	failedPackages []string
}

func run(in io.Reader, out io.Writer) int {
	s := &summary{out: out, running: map[key]*strings.Builder{}, order: map[string][]string{}}
	r := bufio.NewReader(in)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			s.line(line)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(out, "testsummary: reading the test events: %v\n", err)
			return 1
		}
	}
	// A package that never ended (go test was killed): its tests did not
	// finish either.
	pkgs := make([]string, 0, len(s.order))
	for pkg := range s.order {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		s.unfinished(pkg, " (still running when the test events ended)")
	}
	return s.report()
}

// line handles one line of input; one that is not an event is printed as
// it is.
func (s *summary) line(b []byte) {
	var e event
	if json.Unmarshal(b, &e) != nil || e.Action == "" {
		s.out.Write(b)
		return
	}
	if e.Action == "build-output" {
		io.WriteString(s.out, e.Output)
		return
	}
	if e.Test == "" {
		s.packageEvent(e)
		return
	}
	k := key{e.Package, e.Test}
	buf := s.running[k]
	if buf == nil && (e.Action == "run" || e.Action == "output") {
		buf = &strings.Builder{}
		s.running[k] = buf
		s.order[e.Package] = append(s.order[e.Package], e.Test)
	}
	switch e.Action {
	case "output":
		buf.WriteString(e.Output)
	case "pass":
		s.passed++
		s.end(k)
	case "skip":
		s.skips = append(s.skips, skip{k, skipReason(s.end(k))})
	case "fail":
		s.fail(k, s.end(k), "")
	}
}

// end forgets a test that ended, and returns its output.
func (s *summary) end(k key) string {
	var out string
	if buf := s.running[k]; buf != nil {
		out = buf.String()
	}
	delete(s.running, k)
	tests := s.order[k.pkg]
	for i, t := range tests {
		if t == k.test {
			s.order[k.pkg] = append(tests[:i:i], tests[i+1:]...)
			break
		}
	}
	return out
}

// fail counts a failed test and prints its output.
func (s *summary) fail(k key, output, why string) {
	s.failed++
	s.failures = append(s.failures, k)
	fmt.Fprintf(s.out, "=== %s %s failed%s:\n%s", k.pkg, k.test, why, output)
	if output != "" && !strings.HasSuffix(output, "\n") {
		io.WriteString(s.out, "\n")
	}
}

// packageEvent prints a package's own output (its closing line) and
// handles its end.
func (s *summary) packageEvent(e event) {
	switch e.Action {
	case "output":
		if strings.HasPrefix(e.Output, "FAIL") {
			// A test that has not ended by its package's FAIL line never
			// will (a timeout, a crash): its output goes first.
			s.unfinished(e.Package, " (still running when the package failed)")
		}
		// "PASS" before "ok  pkg": plain go test does not print it either.
		if e.Output != "PASS\n" {
			io.WriteString(s.out, e.Output)
		}
	case "pass":
		s.packages++
		delete(s.order, e.Package)
	case "fail":
		s.packages++
		s.failedPackages = append(s.failedPackages, e.Package)
		s.unfinished(e.Package, " (still running when the package failed)")
		delete(s.order, e.Package)
	case "skip":
		s.packages++ // no test files
		delete(s.order, e.Package)
	}
}

// unfinished fails the tests of pkg that started and never ended.
func (s *summary) unfinished(pkg, why string) {
	for _, test := range append([]string(nil), s.order[pkg]...) {
		k := key{pkg, test}
		s.fail(k, s.end(k), why)
	}
}

// skipReason is what a skipped test said: its output without the lines
// the testing package adds, on one line, cut short past 300 bytes.
func skipReason(output string) string {
	var said []string
	for _, l := range strings.Split(output, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP: ") {
			continue
		}
		said = append(said, l)
	}
	reason := strings.Join(said, " / ")
	if reason == "" {
		return "(no reason given)"
	}
	if len(reason) > 300 {
		cut := 300
		for cut > 0 && reason[cut]&0xC0 == 0x80 {
			cut-- // not inside a UTF-8 sequence
		}
		reason = reason[:cut] + "…"
	}
	return reason
}

// report prints the skips, the failures and the counts, and returns the
// exit code.
func (s *summary) report() int {
	w := s.out
	fmt.Fprintln(w)
	if len(s.skips) > 0 {
		fmt.Fprintf(w, "skipped (%d):\n", len(s.skips))
		for _, sk := range s.skips {
			fmt.Fprintf(w, "  %s %s: %s\n", sk.pkg, sk.test, sk.reason)
		}
	}
	if len(s.failures) > 0 {
		fmt.Fprintf(w, "failed (%d):\n", len(s.failures))
		for _, f := range s.failures {
			fmt.Fprintf(w, "  %s %s\n", f.pkg, f.test)
		}
	}
	for _, p := range s.failedPackages {
		fmt.Fprintf(w, "package failed: %s\n", p)
	}
	ran := s.passed + s.failed + len(s.skips)
	fmt.Fprintf(w, "ran %d tests (subtests included) in %d packages\n", ran, s.packages)
	code := 0
	if s.failed > 0 || len(s.failedPackages) > 0 {
		code = 1
	}
	if ran == 0 {
		fmt.Fprintln(w, "testsummary: no test ran")
		code = 1
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", s.passed, s.failed, len(s.skips))
	return code
}
