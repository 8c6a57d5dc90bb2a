package testkit_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// recorder is a testing.TB that records what a helper reported, and
// stops the helper's goroutine on Fatal and Skip as the testing package
// does.
type recorder struct {
	testing.TB
	mu      sync.Mutex
	failed  bool
	fatal   bool
	skipped bool
	logs    []string
}

func (r *recorder) Helper() {}

func (r *recorder) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Logf(format string, args ...any) { r.note(format, args...) }
func (r *recorder) Errorf(format string, args ...any) {
	r.note(format, args...)
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Skip(args ...any) {
	r.note("%s", fmt.Sprint(args...))
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) { r.Skip(fmt.Sprintf(format, args...)) }

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.logs, "\n")
}

// run runs f with a recorder on a goroutine of its own, as a test runs.
func run(t *testing.T, f func(tb testing.TB)) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestDiffShowsEachChangeWithThreeLinesOfContext(t *testing.T) {
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{name: "equal", a: "same\n", b: "same\n", want: ""},
		{name: "one line changed", a: lines(1, 10), b: strings.Replace(lines(1, 10), "line 5\n", "line five\n", 1),
			want: "--- a\n+++ b\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n"},
		{name: "two changes far apart make two hunks", a: lines(1, 20), b: strings.NewReplacer("line 2\n", "two\n", "line 18\n", "eighteen\n").Replace(lines(1, 20)),
			want: "--- a\n+++ b\n@@ -1,5 +1,5 @@\n line 1\n-line 2\n+two\n line 3\n line 4\n line 5\n" +
				"@@ -15,6 +15,6 @@\n line 15\n line 16\n line 17\n-line 18\n+eighteen\n line 19\n line 20\n"},
		{name: "two changes close together make one hunk", a: lines(1, 12), b: strings.NewReplacer("line 3\n", "three\n", "line 9\n", "nine\n").Replace(lines(1, 12)),
			want: "--- a\n+++ b\n@@ -1,12 +1,12 @@\n line 1\n line 2\n-line 3\n+three\n line 4\n line 5\n line 6\n line 7\n line 8\n-line 9\n+nine\n line 10\n line 11\n line 12\n"},
		{name: "lines added at the end", a: "a\n", b: "a\nb\nc\n", want: "--- a\n+++ b\n@@ -1,1 +1,3 @@\n a\n+b\n+c\n"},
		{name: "from nothing", a: "", b: "new\n", want: "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n"},
		{name: "a missing last newline shows", a: "x\ny\n", b: "x\ny",
			want: "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n+y\n\\ No newline at end of file\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testkit.Diff("a", tc.a, "b", tc.b); got != tc.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// hunkHeader is "@@ -a,n +b,m @@".
var hunkHeader = regexp.MustCompile(`^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$`)

// patch applies a unified diff made by Diff to a, checking every context
// and removed line against a, and returns the result.
func patch(t *testing.T, a, diff string) string {
	t.Helper()
	src := strings.SplitAfter(a, "\n")
	if src[len(src)-1] == "" {
		src = src[:len(src)-1]
	}
	lines := strings.SplitAfter(diff, "\n")
	var out []string
	pos := 0
	for i := 2; i < len(lines) && lines[i] != ""; i++ {
		l := lines[i]
		if m := hunkHeader.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
			start, _ := strconv.Atoi(m[1])
			if n, _ := strconv.Atoi(m[2]); n > 0 {
				start--
			}
			out = append(out, src[pos:start]...)
			pos = start
			continue
		}
		op, text := l[0], l[1:]
		if i+1 < len(lines) && lines[i+1] == "\\ No newline at end of file\n" {
			text = strings.TrimSuffix(text, "\n")
			i++
		}
		switch op {
		case ' ', '-':
			if pos >= len(src) || src[pos] != text {
				t.Fatalf("the diff's line %q is not line %d of a\n%s", text, pos+1, diff)
			}
			if op == ' ' {
				out = append(out, text)
			}
			pos++
		case '+':
			out = append(out, text)
		default:
			t.Fatalf("unexpected diff line %q", l)
		}
	}
	return strings.Join(append(out, src[pos:]...), "")
}

func TestDiffTurnsAIntoB(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func() string {
		var b strings.Builder
		for range rng.IntN(30) {
			fmt.Fprintf(&b, "%c\n", 'a'+rng.IntN(4))
		}
		if rng.IntN(4) == 0 {
			b.WriteString("end")
		}
		return b.String()
	}
	for i := range 500 {
		a, b := text(), text()
		d := testkit.Diff("a", a, "b", b)
		if (d == "") != (a == b) {
			t.Fatalf("case %d: Diff is %q for a=%q b=%q", i, d, a, b)
		}
		if got := patch(t, a, d); got != b {
			t.Fatalf("case %d: the diff applied to %q gives %q, want %q\n%s", i, a, got, b, d)
		}
	}
}

func TestDiffOfLargeTextsStaysCorrect(t *testing.T) {
	var a, b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&a, "a %d\n", i)
		fmt.Fprintf(&b, "b %d\n", i)
	}
	d := testkit.Diff("a", a.String(), "b", b.String())
	if got := patch(t, a.String(), d); got != b.String() {
		t.Fatal("the diff of two large texts does not turn one into the other")
	}
}

func TestGoldenComparesRewritesAndShowsADiff(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "out.golden")
	no, yes := false, true

	r := run(t, func(tb testing.TB) { testkit.Golden(tb, path, []byte("x\n"), &no) })
	if !r.fatal || !strings.Contains(r.text(), "go test -update writes it") {
		t.Errorf("a missing golden file: fatal=%v %q", r.fatal, r.text())
	}
	r = run(t, func(tb testing.TB) { testkit.Golden(tb, path, []byte("one\ntwo\n"), &yes) })
	if r.failed {
		t.Fatalf("-update failed: %s", r.text())
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "one\ntwo\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
	r = run(t, func(tb testing.TB) { testkit.Golden(tb, path, []byte("one\ntwo\n"), nil) })
	if r.failed {
		t.Errorf("equal output failed: %s", r.text())
	}
	r = run(t, func(tb testing.TB) { testkit.Golden(tb, path, []byte("one\n2\n"), &no) })
	if !r.failed || r.fatal {
		t.Fatalf("a difference: failed=%v fatal=%v, want a failure that lets the test go on", r.failed, r.fatal)
	}
	for _, want := range []string{path + " differs", "go test -update rewrites it", "--- " + path + " (want)\n+++ got\n", "@@ -1,2 +1,2 @@\n one\n-two\n+2\n"} {
		if !strings.Contains(r.text(), want) {
			t.Errorf("the message lacks %q:\n%s", want, r.text())
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "one\ntwo\n" {
		t.Errorf("a comparison changed the file: %q", b)
	}
}

func TestGoldenJSONIndentsTheDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.json.golden")
	yes := true
	if r := run(t, func(tb testing.TB) { testkit.GoldenJSON(tb, path, []byte(`{"a":[1,2]}`), &yes) }); r.failed {
		t.Fatal(r.text())
	}
	if b, _ := os.ReadFile(path); string(b) != "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n" {
		t.Errorf("wrote %q", b)
	}
	if r := run(t, func(tb testing.TB) { testkit.GoldenJSON(tb, path, []byte("{\"a\":[1,2]}\n"), nil) }); r.failed {
		t.Errorf("a body ending in a newline differs: %s", r.text())
	}
	r := run(t, func(tb testing.TB) { testkit.GoldenJSON(tb, path, []byte(`{"a":[1,3]}`), nil) })
	if !r.failed || !strings.Contains(r.text(), "-    2\n+    3\n") {
		t.Errorf("a changed document: failed=%v\n%s", r.failed, r.text())
	}
	if r := run(t, func(tb testing.TB) { testkit.GoldenJSON(tb, path, []byte(`not json`), nil) }); !r.fatal {
		t.Error("a body that is not JSON passed")
	}
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	r := run(t, func(tb testing.TB) {
		testkit.Eventually(tb, 10*time.Second, "the third look", func() (bool, string) {
			calls++
			return calls == 3, strconv.Itoa(calls)
		})
	})
	if r.failed || calls != 3 {
		t.Errorf("failed=%v after %d looks: %s", r.failed, calls, r.text())
	}
}

func TestEventuallyFailsAtItsDeadlineSayingWhatItSawLast(t *testing.T) {
	calls := 0
	start := time.Now()
	r := run(t, func(tb testing.TB) {
		testkit.Eventually(tb, 200*time.Millisecond, "the daemon ready", func() (bool, string) {
			calls++
			return false, "503 starting"
		})
	})
	if !r.fatal || !strings.Contains(r.text(), "the daemon ready: not within 200ms; last seen: 503 starting") {
		t.Errorf("fatal=%v %q", r.fatal, r.text())
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("gave up after %s, before its deadline", took)
	}
	// Polled, not spun: about one look each PollInterval.
	if limit := int(200*time.Millisecond/testkit.PollInterval) + 3; calls > limit {
		t.Errorf("%d looks in 200ms, want at most %d", calls, limit)
	}
}

func TestConsistentlyFailsAsSoonAsTheConditionStopsHolding(t *testing.T) {
	calls := 0
	r := run(t, func(tb testing.TB) {
		testkit.Consistently(tb, 10*time.Second, "one notification", func() (bool, string) {
			calls++
			return calls < 3, strconv.Itoa(calls) + " notifications"
		})
	})
	if !r.fatal || calls != 3 || !strings.Contains(r.text(), "one notification: stopped holding after") || !strings.Contains(r.text(), "last seen: 3 notifications") {
		t.Errorf("fatal=%v after %d looks: %q", r.fatal, calls, r.text())
	}
	r = run(t, func(tb testing.TB) {
		testkit.Consistently(tb, 150*time.Millisecond, "nothing", func() (bool, string) { return true, "" })
	})
	if r.failed {
		t.Errorf("a condition that held failed: %s", r.text())
	}
}

func TestRequireBinaryFindsAProgram(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(testkit.EnvStrict, "")
	var got string
	r := run(t, func(tb testing.TB) { got = testkit.RequireBinary(tb, "seqwatch-no-such-tool", "sh") })
	if r.failed || r.skipped || filepath.Base(got) != "sh" {
		t.Errorf("RequireBinary(no-such, sh) = %q (failed=%v skipped=%v)", got, r.failed, r.skipped)
	}
	r = run(t, func(tb testing.TB) { got = testkit.RequireBinary(tb, "/bin/sh") })
	if r.failed || r.skipped || got != "/bin/sh" {
		t.Errorf("RequireBinary(/bin/sh) = %q (failed=%v skipped=%v)", got, r.failed, r.skipped)
	}
}

func TestRequireBinarySkipsForAMissingToolButFailsUnderCI(t *testing.T) {
	tests := []struct {
		name       string
		ci, strict string
		wantFail   bool
	}{
		{name: "a developer's machine", wantFail: false},
		{name: "CI=true", ci: "true", wantFail: true},
		{name: "SEQWATCH_TEST_STRICT=1", strict: "1", wantFail: true},
		{name: "CI=false", ci: "false", wantFail: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(testkit.EnvStrict, tc.strict)
			r := run(t, func(tb testing.TB) { testkit.RequireBinary(tb, "seqwatch-no-such-nagios", "/nonexistent/nagios") })
			if r.fatal != tc.wantFail || r.skipped == tc.wantFail {
				t.Fatalf("fatal=%v skipped=%v, want fatal=%v: %s", r.fatal, r.skipped, tc.wantFail, r.text())
			}
			if !strings.Contains(r.text(), "none of seqwatch-no-such-nagios, /nonexistent/nagios is installed") {
				t.Errorf("the reason does not name the programs: %s", r.text())
			}
			if tc.wantFail && !strings.Contains(r.text(), "fails rather than skips under CI=true or SEQWATCH_TEST_STRICT=1") {
				t.Errorf("the failure does not say why it is not a skip: %s", r.text())
			}
		})
	}
}

func TestRequireBinaryNamesTheDebianPackage(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(testkit.EnvStrict, "")
	t.Setenv("PATH", t.TempDir())
	// icinga2 may be installed in /usr/sbin here: ask for a path that is
	// not, under the name the hint knows.
	r := run(t, func(tb testing.TB) { testkit.RequireBinary(tb, filepath.Join(t.TempDir(), "icinga2")) })
	if !r.skipped || !strings.Contains(r.text(), "(Debian package icinga2-bin; .ci/run installs it)") {
		t.Errorf("skipped=%v: %s", r.skipped, r.text())
	}
}
