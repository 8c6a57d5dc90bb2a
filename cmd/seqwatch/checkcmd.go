package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/seqwatch/seqwatch/check"
)

const checkHelp = `Usage: seqwatch check [--app DIR | --dsn URL | --config FILE] [--max-pending N] [--stuck-after DURATION] [--json]

Prints one line for shell scripts, CI/CD gates and monitoring systems
(Nagios, Icinga, Sensu, ...), with performance data after the "|":

  SEQWATCH CRITICAL - 1 failed operation (2024_01_13_120000_FailedOperation: RuntimeException: Database connection lost) | failed=1 pending=3;10 in_progress=0 ...

Exit status (monitoring-plugins convention):
  0 OK        nothing failed, nothing over a threshold
  1 WARNING   more than --max-pending operations pending, or one in progress
              longer than --stuck-after
  2 CRITICAL  an operation failed and has not completed since, or a deferred
              operation used up its attempts
  3 UNKNOWN   the application cannot be read: cannot connect, bad
              configuration, Sequencer's tables missing
`

func runCheck(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("check", e.stderr, checkHelp)
	var sf sourceFlags
	sf.register(fs, true)
	var asJSON bool
	fs.BoolVar(&asJSON, "json", false, "print the verdict as JSON")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return int(check.Unknown)
	}
	var v check.Verdict
	src, th, err := sf.resolve(e)
	if err == nil {
		var snap *check.Snapshot
		snap, err = readSnapshot(ctx, src, e.now(), check.ReadOptions{})
		if err == nil {
			v = check.Judge(snap, th)
		}
	}
	if err != nil {
		v = check.UnknownVerdict(err)
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return int(check.Unknown)
		}
	} else {
		fmt.Fprintln(e.stdout, v.Line())
	}
	return v.Code
}
