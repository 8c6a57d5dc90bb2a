package mutes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/state"
)

// Target is the application a mute of name is for: the configuration's
// own without apps: (New then checks the name), else the one named.
func Target(cfg *config.Config, name string) (*config.App, error) {
	if !cfg.HasApps() {
		return cfg.TopLevel(), nil
	}
	return cfg.Application(name)
}

// Add makes the mute r asks for of ac (New; cfgPath names the
// configuration in its refusals) and adds it to the state editor edits,
// beside a running daemon, which honours it from its next tick.
func Add(ctx context.Context, editor *statestore.Editor, ac *config.App, cfgPath string, r Request, now time.Time) (state.Mute, error) {
	m, err := New(ac, cfgPath, r, now)
	if err != nil {
		return state.Mute{}, err
	}
	if err := editor.EditMutes(ctx, func(st *state.State) error {
		st.ExpireMutes(now)
		st.Mutes = append(st.Mutes, m)
		return nil
	}); err != nil {
		return state.Mute{}, err
	}
	return m, nil
}

// Listed is ac's list at now (ListAt): the mutes and windows in force,
// and every configured window. A state file not there yet is not started.
func Listed(ctx context.Context, editor *statestore.Editor, ac *config.App, now time.Time) (List, error) {
	ws, err := ac.File().Windows()
	if err != nil {
		return List{}, err
	}
	l := ListAt(state.New(), ws, now)
	if editor.Missing() {
		return l, nil
	}
	err = editor.EditMutes(ctx, func(st *state.State) error {
		l = ListAt(st, ws, now)
		return nil
	})
	return l, err
}

// Remove removes the mutes ids, or every mute made by seqwatch mute or the
// API with all, and returns them. An id that is not a mute in force is an
// error saying what it is (a maintenance window is cfgPath's), and nothing
// is changed; so is a state not there yet, which is not started.
func Remove(ctx context.Context, editor *statestore.Editor, ids []string, all bool, cfgPath string, now time.Time) ([]state.Mute, error) {
	if editor.Missing() {
		return nil, fmt.Errorf("no mutes: there is no state file at %s yet (state.path of %s)", editor.Where(), cfgPath)
	}
	var removed []state.Mute
	err := editor.EditMutes(ctx, func(st *state.State) error {
		st.ExpireMutes(now)
		var err error
		removed, err = st.Unmute(ids, all)
		if errors.Is(err, state.ErrNoMute) {
			return unknownMute(err, cfgPath)
		}
		return err
	})
	return removed, err
}

// unknownMute says what an id Remove did not find is, and what to do.
func unknownMute(err error, cfgPath string) error {
	id := strings.TrimPrefix(err.Error(), state.ErrNoMute.Error()+": ")
	if strings.HasPrefix(id, "maintenance[") {
		return fmt.Errorf("%s is a maintenance window of %s, not a mute: remove or change it there, and reload the daemon (nothing was changed)", id, cfgPath)
	}
	return fmt.Errorf("no mute %s (it may have ended already): seqwatch mute --list --config %s shows the mutes in force (nothing was changed)", id, cfgPath)
}
