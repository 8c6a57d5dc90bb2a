package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/seqwatch/seqwatch/check"
)

// maxParallelChecks bounds the applications check reads at once unless
// concurrency: says: each read holds one connection, and a monitoring
// host runs many checks.
const maxParallelChecks = 4

// AppVerdict is one application's verdict within a multi-application check.
type AppVerdict struct {
	Name string `json:"name"`
	check.Verdict
}

// MultiVerdict is check's verdict on a configuration with several
// applications: the worst status, a summary per application, and the
// performance data of each, labelled with its name.
type MultiVerdict struct {
	Status  check.Status `json:"status"`
	Code    int          `json:"code"`
	Summary string       `json:"summary"`
	Apps    []AppVerdict `json:"apps"`
}

// worse reports whether status a is worse than b for an aggregate of
// several checks: CRITICAL, then UNKNOWN, then WARNING, then OK. A failed
// operation somewhere is more urgent than an application that could not
// be read (as check_multi and Icinga's dependency views rank them).
func worse(a, b check.Status) bool {
	rank := func(s check.Status) int {
		switch s {
		case check.OK:
			return 0
		case check.Warning:
			return 1
		case check.Unknown:
			return 2
		}
		return 3
	}
	return rank(a) > rank(b)
}

// judgeApps reads every application of the configuration, at most
// maxParallelChecks at once, each within sf's -t, and combines the
// verdicts. One application that cannot be read is UNKNOWN in its own
// summary and does not hide what the others say.
func judgeApps(ctx context.Context, sf sourceFlags, names []string, parallel int, e env) MultiVerdict {
	verdicts := make([]AppVerdict, len(names))
	if parallel <= 0 {
		parallel = maxParallelChecks
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			one := sf
			one.name = name
			verdicts[i] = AppVerdict{Name: name, Verdict: judge(ctx, one, e)}
		}()
	}
	wg.Wait()
	return combine(verdicts)
}

// combine makes the multi-application verdict: the worst status; the
// applications with problems first (in configuration order), each as
// "name: summary", then those that are OK, by name only.
func combine(verdicts []AppVerdict) MultiVerdict {
	mv := MultiVerdict{Status: check.OK, Apps: verdicts}
	var bad, ok []string
	for _, v := range verdicts {
		if worse(v.Status, mv.Status) {
			mv.Status = v.Status
		}
		if v.Status == check.OK {
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
	mv.Summary = strings.Join(parts, check.ProblemSeparator)
	mv.Code = int(mv.Status)
	return mv
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

func (mv MultiVerdict) code() int { return mv.Code }

// singleVerdict is a one-application verdict as printVerdict takes it.
type singleVerdict struct{ check.Verdict }

func (v singleVerdict) code() int { return v.Code }

// appNames are the applications of sf's configuration when it has apps:
// and no --name picks one, and how many to read at once (concurrency:);
// nil otherwise, and when the configuration cannot be read (judge then
// reports that as UNKNOWN).
func (f sourceFlags) appNames() (names []string, parallel int) {
	if f.config == "" || f.name != "" {
		return nil, 0
	}
	cfg, err := loadConfigForReading(f.config)
	if err != nil || !cfg.multiApp() {
		return nil, 0
	}
	for _, a := range cfg.Applications() {
		names = append(names, a.appName())
	}
	return names, cfg.Concurrency
}
