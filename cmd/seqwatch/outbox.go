package main

import (
	"context"
	"fmt"
	"time"

	"github.com/seqwatch/seqwatch/internal/cli"
	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/statestore"
)

const outboxHelp = `Usage: seqwatch outbox list|retry|drop [ID...|all] --config FILE [--channel NAME] [--json] [--wait 5s]
       seqwatch outbox enable CHANNEL --config FILE [--wait 5s]

Shows and changes the alerts the daemon has not delivered, kept in the
state file (state.path): the outbox, alerts waiting to be retried with
backoff, and the dead letters, alerts a channel refused for good (a 4xx
answer, 410 Gone, an untrusted certificate, a refused recipient), each
with its own reason.

  list          every alert in the outbox and the dead letters: its id,
                channel, kind, attempts, next attempt and last error; and
                the channels disabled by a 410 Gone
  retry ID|all  send again: a dead letter goes back into the outbox, and
                an alert waiting out its backoff is due at once; the daemon
                sends them at its next tick (or run seqwatch run --once)
  drop ID|all   remove for good: it will not be sent
  enable NAME   send to the channel NAME again, which its endpoint disabled
                with a 410 Gone, once the endpoint is back at the same
                address: the daemon enables it at its next tick (its dead
                letters stay: retry them with retry all --channel NAME)

IDs are the event ids list shows (evt_...); --channel narrows retry and
drop to one channel. It works while the daemon runs: it waits (up to
--wait) for a moment when the daemon is not writing the state file, makes
its change and lets go; the daemon picks the change up.

A channel disabled by 410 Gone stays disabled until its configuration
changes (then reload the daemon) or until seqwatch outbox enable NAME;
alerts retried to it before that go straight back to the dead letters.

Examples:
  seqwatch outbox list --config /etc/seqwatch/seqwatch.yaml
  seqwatch outbox retry all --config /etc/seqwatch/seqwatch.yaml
  seqwatch outbox drop evt_3f9c0b6e4d2a41c7a8e5f1d2c3b4a596 --config /etc/seqwatch/seqwatch.yaml
  seqwatch outbox enable hook --config /etc/seqwatch/seqwatch.yaml

Exit status: 0 done; 1 an error (no state file yet, an id that is in
neither list, a channel that is not disabled, the state file busy for
longer than --wait); 2 bad usage.
`

func runOutbox(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(e.stderr, outboxHelp)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	sub := args[0]
	fs := newFlagSet("outbox "+sub, e.stderr, outboxHelp)
	cfgPath := fs.String("config", "", "seqwatch.yaml `FILE` (required)")
	channel := fs.String("channel", "", "only the alerts to the channel `NAME` (retry, drop)")
	asJSON := fs.Bool("json", false, "list as JSON")
	wait := fs.Duration("wait", 5*time.Second, "how long to wait for the daemon to finish writing the state")
	name := fs.String("name", "", "with several applications (apps:), the application `APP` whose alerts to list, retry or drop, or whose channel to enable")
	flags, ids := cli.Split(args[1:], map[string]bool{"config": true, "channel": true, "wait": true, "name": true})
	if err := parseFlags(fs, flags); err != nil {
		return err
	}
	usage := func(msg string) error {
		fmt.Fprintf(e.stderr, "seqwatch outbox: %s (seqwatch outbox -h shows how)\n", msg)
		return errUsage
	}
	switch sub {
	case "list":
		if len(ids) > 0 {
			return usage("list takes no ids")
		}
	case "retry", "drop":
		if len(ids) == 0 {
			return usage(sub + " needs the ids to " + sub + " (see seqwatch outbox list), or all")
		}
	case "enable":
		if len(ids) != 1 || *channel != "" {
			return usage("enable takes the name of one channel, as seqwatch outbox list shows it under Disabled channels")
		}
	default:
		return usage(fmt.Sprintf("unknown subcommand %q: use list, retry, drop or enable", sub))
	}
	if *cfgPath == "" {
		return usage("--config FILE is required")
	}
	if *wait <= 0 {
		return usage(fmt.Sprintf("--wait must be a positive duration such as 5s (got %s)", *wait))
	}
	cfg, err := config.LoadForReading(ctx, *cfgPath)
	if err != nil {
		return err
	}
	ac, err := cfg.Application(*name)
	if err != nil {
		return err
	}
	editor, err := statestore.OpenEditor(ctx, ac)
	if err != nil {
		return err
	}
	defer editor.Close()
	ctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	var done statestore.Done
	switch sub {
	case "list":
		l, err := editor.Outbox(ctx)
		switch {
		case err != nil:
			return err
		case *asJSON:
			return printJSON(e.stdout, l)
		}
		return l.WriteText(e.stdout)
	case "retry":
		done, err = editor.Retry(ctx, ids, *channel, ac.ChannelHashes(), e.now())
	case "enable":
		done, err = editor.Enable(ctx, ids[0], e.now())
	case "drop":
		done, err = editor.Drop(ctx, ids, *channel)
	}
	if err != nil {
		return err
	}
	return done.WriteText(e.stdout)
}
