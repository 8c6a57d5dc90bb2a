package check_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/testkit"
)

// The verdict over several applications is the worst of theirs (a failure
// before an application that cannot be read), the applications with
// problems first in the order given, the OK ones by name, and each
// application's performance data labelled with its name.
func TestJudgeEachCombinesTheVerdictsWorstFirst(t *testing.T) {
	t.Parallel()
	ok := check.Verdict{Status: check.OK, Summary: "no failed operations", Perf: []check.Perf{{Label: "failed", Value: 0}}}
	warn := check.Verdict{Status: check.Warning, Summary: "3 pending operations (more than 2)", Perf: []check.Perf{{Label: "pending", Value: 3, Warn: 2}}}
	crit := check.Verdict{Status: check.Critical, Summary: "1 failed operation (X)", Perf: []check.Perf{{Label: "failed", Value: 1}}}
	unknown := check.UnknownVerdict(errors.New("cannot connect"))
	for _, tc := range []struct {
		name     string
		verdicts []check.Verdict
		status   check.Status
		line     string
	}{
		{"all OK", []check.Verdict{ok, ok}, check.OK,
			"SEQWATCH OK - 2 applications, 0 with problems -- OK: app0, app1 | app0_failed=0 app1_failed=0"},
		{"a warning", []check.Verdict{ok, warn}, check.Warning,
			"SEQWATCH WARNING - 2 applications, 1 with problems -- app1 WARNING: 3 pending operations (more than 2) -- OK: app0 | app0_failed=0 app1_pending=3;2"},
		{"a failure is worse than an application that cannot be read", []check.Verdict{unknown, crit, ok}, check.Critical,
			"SEQWATCH CRITICAL - 3 applications, 2 with problems -- app0 UNKNOWN: cannot connect -- app1 CRITICAL: 1 failed operation (X) -- OK: app2 | app1_failed=1 app2_failed=0"},
		{"unknown over a warning", []check.Verdict{warn, unknown}, check.Unknown,
			"SEQWATCH UNKNOWN - 2 applications, 2 with problems -- app0 WARNING: 3 pending operations (more than 2) -- app1 UNKNOWN: cannot connect | app0_pending=3;2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names := make([]string, len(tc.verdicts))
			for i := range names {
				names[i] = fmt.Sprintf("app%d", i)
			}
			mv := check.JudgeEach(t.Context(), names, 0, func(_ context.Context, i int) check.Verdict { return tc.verdicts[i] })
			if mv.Status != tc.status || mv.Code != int(tc.status) || len(mv.Apps) != len(names) {
				t.Errorf("status %s, code %d, %d apps; want %s", mv.Status, mv.Code, len(mv.Apps), tc.status)
			}
			for i, a := range mv.Apps {
				if a.Name != names[i] || a.Status != tc.verdicts[i].Status {
					t.Errorf("apps[%d] = %s %s, want %s %s", i, a.Name, a.Status, names[i], tc.verdicts[i].Status)
				}
			}
			if got := mv.Line(); got != tc.line {
				t.Errorf("line\n  %s\nwant\n  %s", got, tc.line)
			}
		})
	}
}

// Each application read holds a connection: JudgeEach never judges more
// than parallel at once, and does reach that many.
func TestJudgeEachJudgesAtMostParallelAtOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		apps          int
		parallel, max int
	}{
		{"two of five", 5, 2, 2},
		{"default of four", 9, 0, check.DefaultParallel},
		{"fewer applications than allowed", 2, 8, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inFlight, most atomic.Int32
			release := make(chan struct{})
			names := make([]string, tc.apps)
			done := make(chan check.MultiVerdict, 1)
			go func() {
				done <- check.JudgeEach(t.Context(), names, tc.parallel, func(context.Context, int) check.Verdict {
					n := inFlight.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					<-release
					inFlight.Add(-1)
					return check.Verdict{Status: check.OK}
				})
			}()
			for left := tc.apps; left > 0; left-- {
				want := int32(min(tc.max, left))
				testkit.Eventually(t, 10*time.Second, fmt.Sprintf("%d judged at once", want), func() (bool, string) {
					n := inFlight.Load()
					return n == want, fmt.Sprintf("%d in flight", n)
				})
				release <- struct{}{}
			}
			mv := <-done
			if got := most.Load(); got != int32(tc.max) || len(mv.Apps) != tc.apps {
				t.Errorf("at most %d judged at once, %d verdicts; want %d and %d", got, len(mv.Apps), tc.max, tc.apps)
			}
		})
	}
}
