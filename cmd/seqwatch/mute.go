package main

import (
	"context"
	"flag"
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

// muteTarget is what mute and unmute both read first: the configuration
// file, the application's name and how long to wait for the state.
type muteTarget struct {
	cfgPath string
	wait    time.Duration
	name    string
}

// register adds the flags both commands share.
func (t *muteTarget) register(fs *flag.FlagSet, nameHelp string) {
	fs.StringVar(&t.cfgPath, "config", "", "seqwatch.yaml `FILE` (required)")
	fs.DurationVar(&t.wait, "wait", 5*time.Second, "how long to wait for the daemon to finish writing the state")
	fs.StringVar(&t.name, "name", "", nameHelp)
}

// muteOperands are the flags that take a value, for cli.Split.
var muteOperands = map[string]bool{"config": true, "wait": true, "for": true, "reason": true, "name": true}

// parse parses args into fs and returns the operands.
func (t *muteTarget) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	flags, operands := cli.Split(args, muteOperands)
	if err := parseFlags(fs, flags); err != nil {
		return nil, err
	}
	switch {
	case t.cfgPath == "":
		return nil, muteUsage(fs, "--config FILE is required")
	case t.wait <= 0:
		return nil, muteUsage(fs, fmt.Sprintf("--wait must be a positive duration such as 5s (got %s)", t.wait))
	}
	return operands, nil
}

// muteUsage prints msg as a misuse of fs's command and returns errUsage.
func muteUsage(fs *flag.FlagSet, msg string) error {
	fmt.Fprintf(fs.Output(), "seqwatch %s: %s (seqwatch mute -h shows how)\n", fs.Name(), msg)
	return errUsage
}

// open loads the configuration, picks the application and opens its
// state for editing within the --wait deadline; the caller closes the
// editor and cancels.
func (t *muteTarget) open(ctx context.Context) (*config.App, *statestore.Editor, context.CancelFunc, error) {
	cfg, err := config.LoadForReading(ctx, t.cfgPath)
	if err != nil {
		return nil, nil, nil, err
	}
	ac, err := mutes.Target(cfg, t.name)
	if err != nil {
		return nil, nil, nil, err
	}
	if problems := cfg.ValidateMutes(); len(problems) > 0 {
		return nil, nil, nil, fmt.Errorf("%s: %s (run seqwatch validate --config %s)", t.cfgPath, strings.Join(problems, "; "), t.cfgPath)
	}
	ctx, cancel := context.WithTimeout(ctx, t.wait)
	editor, err := statestore.OpenEditor(ctx, ac)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ac, editor, cancel, nil
}

// runMute runs seqwatch mute: a new mute, or with --list the mutes and
// windows, through internal/mutes.
func runMute(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("mute", e.stderr, muteHelp)
	var t muteTarget
	t.register(fs, "the application `APP` to mute (required with several applications under apps:)")
	forD := fs.Duration("for", 0, "mute for `DURATION`, such as 15m (at most mute_max, default 24h)")
	reason := fs.String("reason", "", "why, shown with the mute (such as \"deploy 4812\")")
	keep := fs.Bool("keep-unreachable", false, "still send source.unreachable while muted")
	list := fs.Bool("list", false, "list the mutes and maintenance windows instead")
	asJSON := fs.Bool("json", false, "with --list: as JSON")
	operands, err := t.parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(operands) > 0:
		return muteUsage(fs, fmt.Sprintf("unexpected argument %q", operands[0]))
	case *list && *forD != 0:
		return muteUsage(fs, "--list and --for do not go together")
	case !*list && *forD < 0:
		return muteUsage(fs, fmt.Sprintf("--for must be a positive duration such as 15m (got %s)", *forD))
	case !*list && *forD == 0:
		return muteUsage(fs, "--for DURATION is required, such as --for 15m")
	}
	ac, editor, cancel, err := t.open(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	defer editor.Close()
	now := e.now()
	if *list {
		l, err := mutes.Listed(ctx, editor, ac, now)
		switch {
		case err != nil:
			return err
		case *asJSON:
			return printJSON(e.stdout, l)
		}
		return l.WriteText(e.stdout, now)
	}
	m, err := mutes.Add(ctx, editor, ac, t.cfgPath, mutes.Request{Name: t.name, For: *forD, Reason: *reason, KeepUnreachable: *keep, By: "cli"}, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, m.ID)
	fmt.Fprintf(e.stderr, "seqwatch: muted %s until %s (%s); the daemon honours it from its next tick; seqwatch unmute --config %s %s ends it\n",
		ac.DisplayName(), text.Stamp(m.End), *forD, t.cfgPath, m.ID)
	return nil
}

// runUnmute runs seqwatch unmute: the mutes named, or --all, removed.
func runUnmute(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("unmute", e.stderr, muteHelp)
	var t muteTarget
	t.register(fs, "with several applications (apps:), the application `APP` to unmute")
	all := fs.Bool("all", false, "remove every mute made with seqwatch mute or the API")
	ids, err := t.parse(fs, args)
	if err != nil {
		return err
	}
	if *all == (len(ids) > 0) {
		return muteUsage(fs, "give the ids to remove (seqwatch mute --list shows them), or --all")
	}
	_, editor, cancel, err := t.open(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	defer editor.Close()
	removed, err := mutes.Remove(ctx, editor, ids, *all, t.cfgPath, e.now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d mute(s) removed; the daemon sends what they held back, if still open, at its next tick\n", len(removed))
	return nil
}
