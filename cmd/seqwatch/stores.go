package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
)

// stores opens each application's state store: a state file per
// application by default, or one PostgreSQL database shared by several
// seqwatch instances (state.postgres).
type stores struct {
	files  map[string]*state.FileStore
	pg     *pgstate.DB
	holder string
}

// stateRetryMax bounds the wait between attempts to reach the state
// database at start.
const stateRetryMax = time.Minute

// openStores opens the state of every application of cfg. A state file
// that another seqwatch holds, or that is corrupt, is an error naming it.
// A state database that cannot be reached is retried until ctx ends when
// retry is set (the daemon: it may start before the database), waiting
// with sleep (nil: a timer), and an error otherwise.
func openStores(ctx context.Context, cfg *config.Config, retry bool, sleep func(context.Context, time.Duration) error, logger *slog.Logger) (*stores, error) {
	s := &stores{files: map[string]*state.FileStore{}}
	if url := cfg.State.Postgres.Reveal(); url != "" {
		db, err := openStateDB(ctx, url, retry, sleep, logger)
		if err != nil {
			return nil, err
		}
		s.pg, s.holder = db, pgstate.NewHolderID()
		return s, nil
	}
	for _, ac := range cfg.Applications() {
		fs, err := state.Open(ac.StateFile())
		if err != nil {
			s.close()
			return nil, err
		}
		s.files[ac.DisplayName()] = fs
	}
	return s, nil
}

// openStateDB opens the state database, retrying an unreachable one with
// backoff (5s, doubling, at most a minute) while retry is set.
func openStateDB(ctx context.Context, url string, retry bool, sleep func(context.Context, time.Duration) error, logger *slog.Logger) (*pgstate.DB, error) {
	if sleep == nil {
		sleep = sleepTimer
	}
	wait := 5 * time.Second
	for attempt := 1; ; attempt++ {
		db, err := pgstate.Open(ctx, url, pgstate.Options{})
		if err == nil {
			return db, nil
		}
		if !retry || !errors.Is(err, pgstate.ErrUnavailable) {
			return nil, fmt.Errorf("state.postgres: %w", err)
		}
		logger.Error("cannot reach the state database; retrying", "error", err.Error(), "attempt", attempt, "next_in", wait)
		if sleep(ctx, wait) != nil || ctx.Err() != nil {
			return nil, fmt.Errorf("state.postgres: %w (gave up when told to stop)", err)
		}
		wait = min(2*wait, stateRetryMax)
	}
}

// sleepTimer waits for d or until ctx ends.
func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// forApp is the store of one application of the configuration.
func (s *stores) forApp(ac *config.App) state.Store {
	if s.pg != nil {
		return s.pg.Store(ac.DisplayName(), s.holder)
	}
	return s.files[ac.DisplayName()]
}

// where says where an application's state is kept, for logs.
func (s *stores) where(ac *config.App) string {
	if s.pg != nil {
		return "PostgreSQL " + s.pg.Where() + " (shared; this instance is " + s.holder + ")"
	}
	return ac.StateFile()
}

func (s *stores) close() {
	if s.pg != nil {
		s.pg.Close()
	}
	for _, fs := range s.files {
		_ = fs.Close()
	}
}

// stateEditor changes an application's state beside a running daemon,
// for seqwatch outbox and seqwatch mute: through the state file's lock,
// or in the shared state database.
type stateEditor struct {
	path string // the state file, when there is no database
	pg   *pgstate.DB
	app  string
}

// editorFor opens what edits ac's state; close it after.
func editorFor(ctx context.Context, ac *config.App) (*stateEditor, error) {
	url := ac.State.Postgres.Reveal()
	if ac.File().IsSet("state.postgres") && url == "" {
		return nil, fmt.Errorf("state.postgres is empty here (an environment variable or file it refers to is not available): the state is in that database, not in a file")
	}
	if url == "" {
		return &stateEditor{path: ac.StateFile()}, nil
	}
	db, err := pgstate.Open(ctx, url, pgstate.Options{MaxConns: 1})
	if err != nil {
		return nil, fmt.Errorf("state.postgres: %w", err)
	}
	return &stateEditor{pg: db, app: ac.DisplayName()}, nil
}

// where names the state for messages.
func (e *stateEditor) where() string {
	if e.pg != nil {
		return fmt.Sprintf("the state of %q in %s", e.app, e.pg.Where())
	}
	return e.path
}

// edit changes the outbox and dead letters (state.Edit).
func (e *stateEditor) edit(ctx context.Context, fn func(*state.State) error) error {
	if e.pg != nil {
		return e.pg.Edit(ctx, e.app, fn)
	}
	return state.Edit(ctx, e.path, fn)
}

// editMutes changes the mutes (state.EditMutes).
func (e *stateEditor) editMutes(ctx context.Context, fn func(*state.State) error) error {
	if e.pg != nil {
		return e.pg.EditMutes(ctx, e.app, fn)
	}
	return state.EditMutes(ctx, e.path, fn)
}

func (e *stateEditor) close() {
	if e.pg != nil {
		e.pg.Close()
	}
}
