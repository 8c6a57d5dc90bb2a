package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/reader"
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
	} else if cfg := sf.severalApps(ctx); cfg != nil {
		// The configuration is parsed once and each application taken
		// from it (with a thousand applications, not a thousand parses).
		apps := cfg.Applications()
		names := make([]string, len(apps))
		for i, a := range apps {
			names[i] = a.DisplayName()
		}
		mv := check.JudgeEach(ctx, names, cfg.Concurrency, func(ctx context.Context, i int) check.Verdict {
			one := sf
			one.name, one.picked = names[i], apps[i]
			return judge(ctx, one, e)
		})
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

// severalApps is sf's configuration when it has apps: and no --name
// picks one; nil otherwise, and when it cannot be read (judge then
// reports that as UNKNOWN).
func (f sourceFlags) severalApps(ctx context.Context) *config.Config {
	if f.config == "" || f.name != "" {
		return nil
	}
	if cfg, err := config.LoadForReadingWithin(ctx, f.config, f.timeout); err == nil && cfg.HasApps() {
		return cfg
	}
	return nil
}
