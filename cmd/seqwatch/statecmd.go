package main

import (
	"context"
	"fmt"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/statestore"
)

const stateHelp = `Usage: seqwatch state check --config FILE [--name APP] [--json]

Says what this seqwatch would change in the daemon's state when it starts
on it: run it after installing a new version and before restarting the
daemon. It reads the state of every application of the configuration (the
state files of state.path, or the shared state database of
state.postgres) and changes nothing: no file is written or locked, no
table created or migrated, no lease taken.

For each state it says its version and what the upgrade does (a state
file of an older format is rewritten in the new one at the daemon's first
save; the state database's schema is migrated when the daemon connects),
or that there is nothing to change. A state written by a newer seqwatch
stops the daemon, and is reported with both versions: install that
version or a newer one. seqwatch version lists the versions this binary
reads.

Examples:
  seqwatch state check --config /etc/seqwatch/seqwatch.yaml
  seqwatch state check --config /etc/seqwatch/seqwatch.yaml --json

Exit status: 0 every state would load (upgraded or as it is); 1 a state
would not load (written by a newer seqwatch, corrupt, unreadable, or the
state database unreachable); 2 bad usage.
`

func runState(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(e.stderr, stateHelp)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "check" {
		fmt.Fprintf(e.stderr, "seqwatch state: unknown subcommand %q: use check (seqwatch state -h shows how)\n", args[0])
		return errUsage
	}
	fs := newFlagSet("state check", e.stderr, stateHelp)
	cfgPath := fs.String("config", "", "seqwatch.yaml `FILE` (required)")
	name := fs.String("name", "", "with several applications (apps:), only the application `APP`")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *cfgPath == "" {
		fmt.Fprintln(e.stderr, "seqwatch state check: --config FILE is required (seqwatch state -h shows how)")
		return errUsage
	}
	cfg, err := config.LoadForReading(ctx, *cfgPath)
	if err != nil {
		return err
	}
	apps, err := cfg.Selected(*name)
	if err != nil {
		return err
	}
	r, err := statestore.Inspect(ctx, cfg, apps, advise)
	if err != nil {
		return err
	}
	if *asJSON {
		err = printJSON(e.stdout, r)
	} else {
		err = r.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	return r.Err()
}
