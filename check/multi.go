package check

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// AppVerdict is one application's verdict within a multi-application check.
type AppVerdict struct {
	Name string `json:"name"`
	Verdict
}

// MultiVerdict is check's verdict on a configuration with several
// applications: the worst status, a summary per application, and the
// performance data of each, labelled with its name. It is also the
// schema of check --json over several applications.
type MultiVerdict struct {
	Status  Status       `json:"status"`
	Code    int          `json:"code"`
	Summary string       `json:"summary"`
	Apps    []AppVerdict `json:"apps"`
}

// worse reports whether status a is worse than b for an aggregate of
// several checks: CRITICAL, then UNKNOWN, then WARNING, then OK. A failed
// operation somewhere is more urgent than an application that could not
// be read (as check_multi and Icinga's dependency views rank them).
func worse(a, b Status) bool {
	rank := func(s Status) int {
		switch s {
		case OK:
			return 0
		case Warning:
			return 1
		case Unknown:
			return 2
		}
		return 3
	}
	return rank(a) > rank(b)
}

// Combine makes the multi-application verdict: the worst status; the
// applications with problems first (in the order given), each as
// "name: summary", then those that are OK, by name only.
func Combine(verdicts []AppVerdict) MultiVerdict {
	mv := MultiVerdict{Status: OK, Apps: verdicts}
	var bad, ok []string
	for _, v := range verdicts {
		if worse(v.Status, mv.Status) {
			mv.Status = v.Status
		}
		if v.Status == OK {
			ok = append(ok, v.Name)
			continue
		}
		bad = append(bad, v.Name+" "+v.Status.String()+": "+v.Summary)
	}
	parts := []string{fmt.Sprintf("%d applications, %d with problems", len(verdicts), len(bad))}
	parts = append(parts, bad...)
	if len(ok) > 0 {
		parts = append(parts, "OK: "+strings.Join(ok, ", "))
	}
	mv.Summary = strings.Join(parts, ProblemSeparator)
	mv.Code = int(mv.Status)
	return mv
}

// DefaultParallel bounds the applications JudgeEach judges at once
// unless told otherwise (concurrency: in seqwatch.yaml): each read holds
// one connection, and a monitoring host runs many checks.
const DefaultParallel = 4

// JudgeEach judges the applications names, at most parallel at once (0 or
// less: DefaultParallel), judge(ctx, i) giving the verdict of names[i],
// and combines the verdicts in the order of names (Combine). judge says
// why an application cannot be read as its UNKNOWN verdict, so that one
// such application does not hide what the others say.
func JudgeEach(ctx context.Context, names []string, parallel int, judge func(ctx context.Context, i int) Verdict) MultiVerdict {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	verdicts := make([]AppVerdict, len(names))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			verdicts[i] = AppVerdict{Name: name, Verdict: judge(ctx, i)}
		}()
	}
	wg.Wait()
	return Combine(verdicts)
}

// Line is the plugin line: "SEQWATCH STATUS - summary | shop_failed=1 …".
func (mv MultiVerdict) Line() string {
	var perf []string
	for _, v := range mv.Apps {
		for _, p := range v.Perf {
			p.Label = v.Name + "_" + p.Label
			perf = append(perf, p.String())
		}
	}
	line := "SEQWATCH " + mv.Status.String() + " - " + mv.Summary
	if len(perf) > 0 {
		line += " | " + strings.Join(perf, " ")
	}
	return line
}
