// Package mutes is the mutes people make, by seqwatch mute or the
// listener's POST /api/v1/mutes: what a mute may be (New: how long, for
// which application, with what reason), adding, listing and removing
// mutes through the state as seqwatch mute and unmute do (Add, Listed,
// Remove), the list of the mutes and
// maintenance windows in force (ListAt, the document mute --list prints),
// and the listener's API (API), which changes the state as seqwatch mute
// does, through internal/statestore, so that the daemon takes a mute at
// its next tick whichever way it came. The mute itself, and how it holds
// events back, is state's; the maintenance windows are internal/config's.
//
// It may import internal/config, state, internal/statestore,
// internal/observe (the mutes' view) and internal/web (the API's types);
// not internal/daemon, internal/render or cmd (internal/layering holds it
// to that).
package mutes

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

// MaxReason bounds a mute's reason, in characters.
const MaxReason = 500

// Request is a mute asked for.
type Request struct {
	// Name, when given, must be the application's name.
	Name            string
	For             time.Duration
	Reason          string
	KeepUnreachable bool
	// By says where it comes from: cli or api.
	By string
}

// New makes the mute r asks for of ac, from now, refusing one longer than
// mute_max or for another application; cfgPath names the configuration
// in the refusals. Its errors are *web.InputError: the request, not
// seqwatch, is at fault.
func New(ac *config.App, cfgPath string, r Request, now time.Time) (state.Mute, error) {
	if app := ac.DisplayName(); r.Name != "" && r.Name != app {
		return state.Mute{}, &web.InputError{Msg: fmt.Sprintf("--name %s: %s watches %q, not %q: give its name, or the configuration of %s", r.Name, cfgPath, app, r.Name, r.Name)}
	}
	if r.For <= 0 {
		return state.Mute{}, &web.InputError{Msg: fmt.Sprintf("the mute's duration must be positive, such as 15m (got %s)", r.For)}
	}
	if max := ac.File().MuteLimit(); r.For > max {
		return state.Mute{}, &web.InputError{Msg: fmt.Sprintf("a mute of %s is longer than mute_max (%s): mute for at most %s, or raise mute_max in %s (a recurring need is a maintenance: window)", r.For, max, max, cfgPath)}
	}
	if n := len([]rune(r.Reason)); n > MaxReason {
		return state.Mute{}, &web.InputError{Msg: fmt.Sprintf("the reason is %d characters long: keep it to %d", n, MaxReason)}
	}
	return state.Mute{ID: state.NewMuteID(), Reason: r.Reason, Start: now, End: now.Add(r.For), KeepUnreachable: r.KeepUnreachable, By: r.By}, nil
}

// Window is a configured maintenance window in mute --list.
type Window struct {
	ID                string    `json:"id"`
	Schedule          string    `json:"schedule"`
	Duration          string    `json:"duration"`
	Reason            string    `json:"reason"`
	UnmuteUnreachable bool      `json:"unmute_unreachable"`
	Active            bool      `json:"active"`
	NextStart         time.Time `json:"next_start,omitzero"`
}

// List is the document of seqwatch mute --list --json: the mutes and
// windows in force, and every configured window.
type List struct {
	Mutes       []web.Mute `json:"mutes"`
	Maintenance []Window   `json:"maintenance"`
}

// ListAt lists st's mutes and the windows ws in force at now, and every
// window.
func ListAt(st *state.State, ws []config.Window, now time.Time) List {
	active := InForce(st, ws, now)
	// The same document as the listener's API (a mute always has a start).
	l := List{Mutes: observe.MuteViews(active), Maintenance: []Window{}}
	for _, w := range ws {
		l.Maintenance = append(l.Maintenance, Window{
			ID: w.ID, Schedule: w.Schedule, Duration: time.Duration(w.Duration).String(), Reason: w.Reason,
			UnmuteUnreachable: w.UnmuteUnreachable,
			Active:            slices.ContainsFunc(active, func(m state.Mute) bool { return m.ID == w.ID }),
			NextStart:         w.Sched.Next(now),
		})
	}
	return l
}

// InForce are st's mutes and the windows of ws in force at now.
func InForce(st *state.State, ws []config.Window, now time.Time) []state.Mute {
	return append(st.ActiveMutes(now), config.WindowsAt(ws, now)...)
}

// WriteText writes the list for people: a table of the mutes in force and
// one of the maintenance windows, the time left counted from now.
func (l List) WriteText(w io.Writer, now time.Time) error {
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

// API is the listener's POST /api/v1/mutes and DELETE /api/v1/mutes/{id}
// (web.Muter): the same change as seqwatch mute, through the state, so
// the daemon takes it at its next tick like any other mute; the page
// shows it at once.
type API struct {
	Config *config.Config
	Now    func() time.Time
	Board  *web.Board
	Logger *slog.Logger
}

// Mute makes the mute r asks for.
func (a *API) Mute(ctx context.Context, r web.MuteRequest) (web.Mute, error) {
	d, err := time.ParseDuration(strings.TrimSpace(r.For))
	if err != nil {
		return web.Mute{}, &web.InputError{Msg: fmt.Sprintf("for: %q is not a duration: write it like 15m or 1h30m", r.For)}
	}
	now := a.Now()
	ac, err := Target(a.Config, r.Name)
	if err != nil {
		return web.Mute{}, &web.InputError{Msg: "name: " + err.Error()}
	}
	m, err := New(ac, a.Config.Path(), Request{Name: r.Name, For: d, Reason: r.Reason, KeepUnreachable: r.KeepUnreachable, By: "api"}, now)
	if err != nil {
		return web.Mute{}, err
	}
	if err := a.edit(ctx, ac, now, func(st *state.State) error {
		st.Mutes = append(st.Mutes, m)
		return nil
	}); err != nil {
		return web.Mute{}, err
	}
	a.Logger.Info("muted through the listener", "id", m.ID, "until", m.End, "reason", m.Reason, "keep_unreachable", m.KeepUnreachable)
	return observe.MuteViews([]state.Mute{m})[0], nil
}

// Unmute removes the mute id, of whichever application holds it.
func (a *API) Unmute(ctx context.Context, id string) (web.Mute, error) {
	now := a.Now()
	var removed []state.Mute
	var err error
	// A mute id is unique across applications: look in each one's state.
	for _, ac := range a.Config.Applications() {
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
	a.Logger.Info("unmuted through the listener", "id", id)
	return observe.MuteViews(removed)[0], nil
}

// edit changes the mutes in ac's state and shows the result on the page
// at once.
func (a *API) edit(ctx context.Context, ac *config.App, now time.Time, fn func(*state.State) error) error {
	ws, err := a.Config.Windows()
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
		active = InForce(st, ws, now)
		return nil
	})
	if err != nil {
		return err
	}
	a.Board.SetMutes(ac.DisplayName(), observe.MuteViews(active))
	return nil
}
