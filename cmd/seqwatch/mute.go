package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/cli"
	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/mutes"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/internal/text"
)

const muteHelp = `Usage: seqwatch mute --config FILE --for DURATION [--reason TEXT] [--name APP] [--keep-unreachable] [--wait 5s]
       seqwatch mute --list --config FILE [--json]
       seqwatch unmute --config FILE ID...|--all [--wait 5s]

Mutes the alerting daemon for a while, for a deploy: while muted, events
are still evaluated, recorded and shown on the status page, but not sent.
When the mute ends (or is removed with unmute), problems still open are
sent once; problems that opened and closed inside the mute are not sent
at all; a reminder due while muted is skipped. An expired mute removes
itself.

  --for D             how long, such as 15m or 1h30m; at most mute_max
                      (default 24h)
  --reason TEXT       shown on the status page, in the API and the list
  --name APP          the application to mute; it must be the one the
                      configuration watches (name:)
  --keep-unreachable  still send source.unreachable (and recovered): a
                      database gone down during a deploy is news

mute prints the new mute's id (mut_...) on standard output, for unmute.
It works while the daemon runs, through the state file (state.path): the
daemon honours the mute from its next tick. The daemon's listener offers
the same as POST /api/v1/mutes and DELETE /api/v1/mutes/{id}.
Recurring windows go in the configuration (maintenance:).

A deploy script:
  id=$(seqwatch mute --config /etc/seqwatch/seqwatch.yaml --for 15m --reason "deploy $REV")
  php artisan sequencer:process
  seqwatch unmute --config /etc/seqwatch/seqwatch.yaml "$id"

Exit status: 0 done; 1 an error (a mute longer than mute_max, another
application's name, an unknown id, the state file busy for longer than
--wait); 2 bad usage.
`

// muteFlags are the flags of seqwatch mute and seqwatch unmute.
type muteFlags struct {
	cfgPath string
	wait    time.Duration
	name    string
	// mute
	forD               time.Duration
	reason             string
	keep, list, asJSON bool
	// unmute
	all bool
	ids []string
}

// runMute runs seqwatch mute (cmd "mute") and seqwatch unmute: it parses
// the flags, loads the configuration and opens the state, and hands them
// to internal/mutes.
func runMute(ctx context.Context, cmd string, args []string, e env) error {
	fs := newFlagSet(cmd, e.stderr, muteHelp)
	var f muteFlags
	fs.StringVar(&f.cfgPath, "config", "", "seqwatch.yaml `FILE` (required)")
	fs.DurationVar(&f.wait, "wait", 5*time.Second, "how long to wait for the daemon to finish writing the state")
	if cmd == "mute" {
		fs.DurationVar(&f.forD, "for", 0, "mute for `DURATION`, such as 15m (at most mute_max, default 24h)")
		fs.StringVar(&f.reason, "reason", "", "why, shown with the mute (such as \"deploy 4812\")")
		fs.StringVar(&f.name, "name", "", "the application `APP` to mute (required with several applications under apps:)")
		fs.BoolVar(&f.keep, "keep-unreachable", false, "still send source.unreachable while muted")
		fs.BoolVar(&f.list, "list", false, "list the mutes and maintenance windows instead")
		fs.BoolVar(&f.asJSON, "json", false, "with --list: as JSON")
	} else {
		fs.BoolVar(&f.all, "all", false, "remove every mute made with seqwatch mute or the API")
		fs.StringVar(&f.name, "name", "", "with several applications (apps:), the application `APP` to unmute")
	}
	flags, ids := cli.Split(args, map[string]bool{"config": true, "wait": true, "for": true, "reason": true, "name": true})
	if err := parseFlags(fs, flags); err != nil {
		return err
	}
	f.ids = ids
	usage := func(msg string) error {
		fmt.Fprintf(e.stderr, "seqwatch %s: %s (seqwatch mute -h shows how)\n", cmd, msg)
		return errUsage
	}
	switch {
	case f.cfgPath == "":
		return usage("--config FILE is required")
	case f.wait <= 0:
		return usage(fmt.Sprintf("--wait must be a positive duration such as 5s (got %s)", f.wait))
	case cmd == "mute" && len(ids) > 0:
		return usage(fmt.Sprintf("unexpected argument %q", ids[0]))
	case cmd == "mute" && !f.list && f.forD < 0:
		return usage(fmt.Sprintf("--for must be a positive duration such as 15m (got %s)", f.forD))
	case cmd == "mute" && !f.list && f.forD == 0:
		return usage("--for DURATION is required, such as --for 15m")
	case cmd == "mute" && f.list && f.forD != 0:
		return usage("--list and --for do not go together")
	case cmd == "unmute" && f.all == (len(ids) > 0):
		return usage("give the ids to remove (seqwatch mute --list shows them), or --all")
	}
	cfg, err := config.LoadForReading(ctx, f.cfgPath)
	if err != nil {
		return err
	}
	ac, err := mutes.Target(cfg, f.name)
	if err != nil {
		return err
	}
	if problems := cfg.ValidateMutes(); len(problems) > 0 {
		return fmt.Errorf("%s: %s (run seqwatch validate --config %s)", f.cfgPath, strings.Join(problems, "; "), f.cfgPath)
	}
	ctx, cancel := context.WithTimeout(ctx, f.wait)
	defer cancel()
	editor, err := statestore.OpenEditor(ctx, ac)
	if err != nil {
		return err
	}
	defer editor.Close()
	now := e.now()
	switch {
	case cmd == "unmute":
		removed, err := mutes.Remove(ctx, editor, f.ids, f.all, f.cfgPath, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d mute(s) removed; the daemon sends what they held back, if still open, at its next tick\n", len(removed))
		return nil
	case f.list:
		l, err := mutes.Listed(ctx, editor, ac, now)
		switch {
		case err != nil:
			return err
		case f.asJSON:
			return printJSON(e.stdout, l)
		}
		return l.WriteText(e.stdout, now)
	}
	m, err := mutes.Add(ctx, editor, ac, f.cfgPath, mutes.Request{Name: f.name, For: f.forD, Reason: f.reason, KeepUnreachable: f.keep, By: "cli"}, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, m.ID)
	fmt.Fprintf(e.stderr, "seqwatch: muted %s until %s (%s); the daemon honours it from its next tick; seqwatch unmute --config %s %s ends it\n",
		ac.DisplayName(), text.Stamp(m.End), f.forD, f.cfgPath, m.ID)
	return nil
}
