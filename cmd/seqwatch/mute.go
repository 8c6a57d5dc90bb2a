package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/observe"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/state"
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

// newMute makes a mute of d from now, refusing one longer than mute_max or
// for another application. Its errors are *web.InputError: the request,
// not seqwatch, is at fault.
func newMute(ac *config.App, cfgPath, name string, d time.Duration, reason string, keepUnreachable bool, by string, now time.Time) (state.Mute, error) {
	if app := ac.DisplayName(); name != "" && name != app {
		return state.Mute{}, &web.InputError{Msg: fmt.Sprintf("--name %s: %s watches %q, not %q: give its name, or the configuration of %s", name, cfgPath, app, name, name)}
	}
	if d <= 0 {
		return state.Mute{}, &web.InputError{Msg: fmt.Sprintf("the mute's duration must be positive, such as 15m (got %s)", d)}
	}
	if max := ac.File().MuteLimit(); d > max {
		return state.Mute{}, &web.InputError{Msg: fmt.Sprintf("a mute of %s is longer than mute_max (%s): mute for at most %s, or raise mute_max in %s (a recurring need is a maintenance: window)", d, max, max, cfgPath)}
	}
	if n := len([]rune(reason)); n > 500 {
		return state.Mute{}, &web.InputError{Msg: fmt.Sprintf("the reason is %d characters long: keep it to 500", n)}
	}
	return state.Mute{ID: state.NewMuteID(), Reason: reason, Start: now, End: now.Add(d), KeepUnreachable: keepUnreachable, By: by}, nil
}

// windowEntry is a configured maintenance window in mute --list.
type windowEntry struct {
	ID                string    `json:"id"`
	Schedule          string    `json:"schedule"`
	Duration          string    `json:"duration"`
	Reason            string    `json:"reason"`
	UnmuteUnreachable bool      `json:"unmute_unreachable"`
	Active            bool      `json:"active"`
	NextStart         time.Time `json:"next_start,omitzero"`
}

// muteList is the --json document of mute --list.
type muteList struct {
	Mutes       []web.Mute    `json:"mutes"`
	Maintenance []windowEntry `json:"maintenance"`
}

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
// to the subcommand (muteAdd, muteShowList or unmute).
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
	flags, ids := splitArgs(args, map[string]bool{"config": true, "wait": true, "for": true, "reason": true, "name": true})
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
	ac := cfg.TopLevel()
	if cfg.HasApps() {
		if ac, err = cfg.Application(f.name); err != nil {
			return err
		}
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
	switch {
	case cmd == "unmute":
		return unmute(ctx, editor, f, e)
	case f.list:
		return muteShowList(ctx, editor, ac, f, e)
	}
	return muteAdd(ctx, editor, ac, f, e)
}

// muteAdd is seqwatch mute --for D: it adds a mute and prints its id.
func muteAdd(ctx context.Context, editor *statestore.Editor, ac *config.App, f muteFlags, e env) error {
	now := e.now()
	m, err := newMute(ac, f.cfgPath, f.name, f.forD, f.reason, f.keep, "cli", now)
	if err != nil {
		return err
	}
	if err := editor.EditMutes(ctx, func(st *state.State) error {
		st.ExpireMutes(now)
		st.Mutes = append(st.Mutes, m)
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, m.ID)
	fmt.Fprintf(e.stderr, "seqwatch: muted %s until %s (%s); the daemon honours it from its next tick; seqwatch unmute --config %s %s ends it\n",
		ac.DisplayName(), text.Stamp(m.End), f.forD, f.cfgPath, m.ID)
	return nil
}

// muteShowList is seqwatch mute --list: the mutes and windows in force,
// and every configured window.
func muteShowList(ctx context.Context, editor *statestore.Editor, ac *config.App, f muteFlags, e env) error {
	now := e.now()
	ws, err := ac.File().Windows()
	if err != nil {
		return err
	}
	// Listing mutes must not start a state file.
	if editor.Missing() {
		return printMutes(e.stdout, listMutes(state.New(), ws, now), f.asJSON, now)
	}
	var l muteList
	err = editor.EditMutes(ctx, func(st *state.State) error {
		l = listMutes(st, ws, now)
		return nil
	})
	if err != nil {
		return err
	}
	return printMutes(e.stdout, l, f.asJSON, now)
}

// unmute is seqwatch unmute ID...|--all.
func unmute(ctx context.Context, editor *statestore.Editor, f muteFlags, e env) error {
	// Removing mutes must not start a state file.
	if editor.Missing() {
		return fmt.Errorf("no mutes: there is no state file at %s yet (state.path of %s)", editor.Where(), f.cfgPath)
	}
	now := e.now()
	var removed []state.Mute
	err := editor.EditMutes(ctx, func(st *state.State) error {
		st.ExpireMutes(now)
		var err error
		removed, err = st.Unmute(f.ids, f.all)
		if errors.Is(err, state.ErrNoMute) {
			return unknownMute(err, f.cfgPath)
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d mute(s) removed; the daemon sends what they held back, if still open, at its next tick\n", len(removed))
	return nil
}

// unknownMute says what an id unmute did not find is, and what to do.
func unknownMute(err error, cfgPath string) error {
	id := strings.TrimPrefix(err.Error(), state.ErrNoMute.Error()+": ")
	if strings.HasPrefix(id, "maintenance[") {
		return fmt.Errorf("%s is a maintenance window of %s, not a mute: remove or change it there, and reload the daemon (nothing was changed)", id, cfgPath)
	}
	return fmt.Errorf("no mute %s (it may have ended already): seqwatch mute --list --config %s shows the mutes in force (nothing was changed)", id, cfgPath)
}

func listMutes(st *state.State, ws []config.Window, now time.Time) muteList {
	active := append(st.ActiveMutes(now), config.WindowsAt(ws, now)...)
	// The same document as the listener's API (a mute always has a start).
	l := muteList{Mutes: observe.MuteViews(active), Maintenance: []windowEntry{}}
	for _, w := range ws {
		l.Maintenance = append(l.Maintenance, windowEntry{
			ID: w.ID, Schedule: w.Schedule, Duration: time.Duration(w.Duration).String(), Reason: w.Reason,
			UnmuteUnreachable: w.UnmuteUnreachable,
			Active:            slices.ContainsFunc(active, func(m state.Mute) bool { return m.ID == w.ID }),
			NextStart:         w.Sched.Next(now),
		})
	}
	return l
}

func printMutes(w io.Writer, l muteList, asJSON bool, now time.Time) error {
	if asJSON {
		return printJSON(w, l)
	}
	tw := text.NewTable(w)
	fmt.Fprintf(tw, "Mutes in force: %d (events are recorded, not sent)\n", len(l.Mutes))
	if len(l.Mutes) > 0 {
		fmt.Fprintln(tw, "ID\tUNTIL\tLEFT\tBY\tSOURCE.UNREACHABLE\tREASON")
		for _, m := range l.Mutes {
			unreach := "muted"
			if m.KeepUnreachable {
				unreach = "sent"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, text.Stamp(m.Until), m.Until.Sub(now).Round(time.Second), m.By, unreach, text.Cell(m.Reason, 100))
		}
	}
	if len(l.Maintenance) > 0 {
		fmt.Fprintf(tw, "\nMaintenance windows (maintenance: in the configuration): %d\n", len(l.Maintenance))
		fmt.Fprintln(tw, "ID\tSCHEDULE\tDURATION\tNOW\tNEXT START\tREASON")
		for _, x := range l.Maintenance {
			state := "-"
			if x.Active {
				state = "in force"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.Schedule, x.Duration, state, text.Stamp(x.NextStart), text.Cell(x.Reason, 100))
		}
	}
	return tw.Flush()
}

// muteAPI is the listener's POST /api/v1/mutes and DELETE
// /api/v1/mutes/{id}: the same change as seqwatch mute, through the state
// file, so the daemon takes it at its next tick like any other mute.
type muteAPI struct {
	cfg     *config.Config
	cfgPath string
	now     func() time.Time
	board   *web.Board
	app     string
	logger  *slog.Logger
}

func (a *muteAPI) Mute(ctx context.Context, r web.MuteRequest) (web.Mute, error) {
	d, err := time.ParseDuration(strings.TrimSpace(r.For))
	if err != nil {
		return web.Mute{}, &web.InputError{Msg: fmt.Sprintf("for: %q is not a duration: write it like 15m or 1h30m", r.For)}
	}
	now := a.now()
	ac := a.cfg.TopLevel()
	if a.cfg.HasApps() {
		if ac, err = a.cfg.Application(r.Name); err != nil {
			return web.Mute{}, &web.InputError{Msg: "name: " + err.Error()}
		}
	}
	m, err := newMute(ac, a.cfgPath, r.Name, d, r.Reason, r.KeepUnreachable, "api", now)
	if err != nil {
		return web.Mute{}, err
	}
	if err := a.edit(ctx, ac, now, func(st *state.State) error {
		st.Mutes = append(st.Mutes, m)
		return nil
	}); err != nil {
		return web.Mute{}, err
	}
	a.logger.Info("muted through the listener", "id", m.ID, "until", m.End, "reason", m.Reason, "keep_unreachable", m.KeepUnreachable)
	return observe.MuteViews([]state.Mute{m})[0], nil
}

func (a *muteAPI) Unmute(ctx context.Context, id string) (web.Mute, error) {
	now := a.now()
	var removed []state.Mute
	var err error
	// A mute id is unique across applications: look in each one's state.
	for _, ac := range a.cfg.Applications() {
		err = a.edit(ctx, ac, now, func(st *state.State) error {
			var err error
			removed, err = st.Unmute([]string{id}, false)
			if errors.Is(err, state.ErrNoMute) {
				return fmt.Errorf("%w: %s is not a mute in force (maintenance windows are removed from the configuration)", web.ErrNoMute, id)
			}
			return err
		})
		if !errors.Is(err, web.ErrNoMute) {
			break
		}
	}
	if err != nil {
		return web.Mute{}, err
	}
	a.logger.Info("unmuted through the listener", "id", id)
	return observe.MuteViews(removed)[0], nil
}

// edit changes the mutes in the state file and shows the result on the
// page at once.
func (a *muteAPI) edit(ctx context.Context, ac *config.App, now time.Time, fn func(*state.State) error) error {
	ws, err := a.cfg.Windows()
	if err != nil {
		return err
	}
	var active []state.Mute
	editor, err := statestore.OpenEditor(ctx, ac)
	if err != nil {
		return err
	}
	defer editor.Close()
	err = editor.EditMutes(ctx, func(st *state.State) error {
		st.ExpireMutes(now)
		if err := fn(st); err != nil {
			return err
		}
		active = append(st.ActiveMutes(now), config.WindowsAt(ws, now)...)
		return nil
	})
	if err != nil {
		return err
	}
	a.board.SetMutes(ac.DisplayName(), observe.MuteViews(active))
	return nil
}
