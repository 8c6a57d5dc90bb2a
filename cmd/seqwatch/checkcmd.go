package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/text"
)

const checkHelp = `Usage: seqwatch check [--app DIR | --dsn URL | --config FILE] [--max-pending N] [--stuck-after DURATION] [--scheduled-stuck-after DURATION] [-t DURATION] [--json]

Prints one line for shell scripts, CI/CD gates and monitoring systems
(Nagios, Icinga, Sensu, ...), with performance data after the "|":

  SEQWATCH CRITICAL - 1 failed operation (2024_01_13_120000_FailedOperation: RuntimeException: Database connection lost) | failed=1 pending=3;10 in_progress=0 ...

Exit status (monitoring-plugins convention):
  0 OK        nothing failed, nothing over a threshold
  1 WARNING   more than --max-pending operations pending, one in progress
              longer than --stuck-after, or a Scheduled operation waiting
              for its time longer than --scheduled-stuck-after (48h)
  2 CRITICAL  an operation failed and has not completed since, or a deferred
              operation used up its attempts
  3 UNKNOWN   the application cannot be read: cannot connect, no answer
              within -t (default 10s), a table locked, bad configuration
              or flags, Sequencer's tables missing, or a directory of
              operation or migration files missing or unreadable

Every outcome, a mistyped flag included, is one line on standard output and
nothing on standard error; help appears only with -h.
`

func runCheck(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("check", e.stderr, checkHelp)
	var sf sourceFlags
	sf.register(fs, true)
	sf.registerTimeout(fs, 10*time.Second)
	var asJSON bool
	fs.BoolVar(&asJSON, "json", false, "print the verdict as JSON")
	var v check.Verdict
	if err := parseFlagsQuietly(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		// A monitoring system reads only standard output: one line (or
		// the JSON verdict, if --json came before the mistake), and the
		// status that says the check itself could not run.
		v = check.UnknownVerdict(fmt.Errorf("usage: %w", err))
	} else if names, parallel := sf.appNames(ctx); len(names) > 1 {
		mv := judgeApps(ctx, sf, names, parallel, e)
		return printVerdict(e, mv, mv.Code, asJSON)
	} else {
		v = judge(ctx, sf, e)
	}
	return printVerdict(e, v, v.Code, asJSON)
}

// printVerdict prints a verdict (as JSON with --json) and returns its
// exit code.
func printVerdict(e env, v interface{ Line() string }, code int, asJSON bool) int {
	if asJSON {
		if err := printJSON(e.stdout, v); err != nil {
			return int(check.Unknown)
		}
	} else {
		fmt.Fprintln(e.stdout, v.Line())
	}
	return code
}

// judge reads the application within the -t budget and judges it.
func judge(ctx context.Context, sf sourceFlags, e env) check.Verdict {
	src, th, err := sf.resolve(ctx, e)
	if err != nil {
		return check.UnknownVerdict(advised(err))
	}
	snap, err := reader.ReadOnce(ctx, src, e.now(), reader.ReadOptions{RolledBackLookback: th.RolledBackLookback()})
	if err != nil {
		return check.UnknownVerdict(advised(err))
	}
	return withDirAdvice(check.Judge(snap, th), snap.MissingDirs, sf.fileOnly())
}

// withDirAdvice adds to the problem of each discovery directory that does
// not exist what to do about it (the rules state only the fact).
func withDirAdvice(v check.Verdict, missing []check.MissingDir, file bool) check.Verdict {
	if len(missing) == 0 {
		return v
	}
	for i, p := range v.Problems {
		for _, d := range missing {
			if p == text.Line(d.String(), 400) {
				v.Problems[i] = p + missingDirAdvice(d, file)
			}
		}
	}
	v.Summary = strings.Join(v.Problems, check.ProblemSeparator)
	return v
}

// maxParallelChecks bounds the applications check reads at once unless
// concurrency: says: each read holds one connection, and a monitoring
// host runs many checks.
const maxParallelChecks = 4

// judgeApps reads every application of the configuration, at most
// maxParallelChecks at once, each within sf's -t, and combines the
// verdicts. One application that cannot be read is UNKNOWN in its own
// summary and does not hide what the others say.
func judgeApps(ctx context.Context, sf sourceFlags, names []string, parallel int, e env) check.MultiVerdict {
	verdicts := make([]check.AppVerdict, len(names))
	if parallel <= 0 {
		parallel = maxParallelChecks
	}
	// The configuration is parsed once here and each application taken
	// from it; if it cannot be read now, judge reads it and says why.
	byName := map[string]*config.App{}
	if cfg, err := sf.loadConfig(ctx); err == nil {
		for _, a := range cfg.Applications() {
			byName[a.DisplayName()] = a
		}
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
			one.name, one.picked = name, byName[name]
			verdicts[i] = check.AppVerdict{Name: name, Verdict: judge(ctx, one, e)}
		}()
	}
	wg.Wait()
	return check.Combine(verdicts)
}

// appNames are the applications of sf's configuration when it has apps:
// and no --name picks one, and how many to read at once (concurrency:);
// nil otherwise, and when the configuration cannot be read (judge then
// reports that as UNKNOWN).
func (f sourceFlags) appNames(ctx context.Context) (names []string, parallel int) {
	if f.config == "" || f.name != "" {
		return nil, 0
	}
	cfg, err := f.loadConfig(ctx)
	if err != nil || !cfg.HasApps() {
		return nil, 0
	}
	for _, a := range cfg.Applications() {
		names = append(names, a.DisplayName())
	}
	return names, cfg.Concurrency
}
