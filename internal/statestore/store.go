package statestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/pause"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
)

// Set is the state store of every application of a configuration: a
// state file each, or one PostgreSQL database they share.
type Set struct {
	files  map[string]*state.FileStore
	pg     *pgstate.DB
	holder string
}

// RetryMax bounds the wait between attempts to reach the state database
// at start.
const RetryMax = time.Minute

// Sleep waits for d or until ctx ends, returning ctx's error then.
type Sleep func(ctx context.Context, d time.Duration) error

// Open opens the state of every application of cfg. A state file that
// another seqwatch holds, or that is corrupt, is an error naming it. A
// state database that cannot be reached is retried until ctx ends when
// retry is set (the daemon: it may start before the database), waiting
// with sleep (nil: a timer), and an error otherwise.
func Open(ctx context.Context, cfg *config.Config, retry bool, sleep Sleep, logger *slog.Logger) (*Set, error) {
	s := &Set{files: map[string]*state.FileStore{}}
	if url := cfg.State.Postgres.Reveal(); url != "" {
		db, err := openDB(ctx, url, retry, sleep, logger)
		if err != nil {
			return nil, err
		}
		s.pg, s.holder = db, pgstate.NewHolderID()
		return s, nil
	}
	for _, ac := range cfg.Applications() {
		fs, err := state.Open(ac.StateFile())
		if err != nil {
			s.Close()
			return nil, err
		}
		s.files[ac.DisplayName()] = fs
	}
	return s, nil
}

// openDB opens the state database, retrying an unreachable one with
// backoff (5s, doubling, at most RetryMax) while retry is set.
func openDB(ctx context.Context, url string, retry bool, sleep Sleep, logger *slog.Logger) (*pgstate.DB, error) {
	if sleep == nil {
		sleep = pause.For
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
		wait = min(2*wait, RetryMax)
	}
}

// ForApp is the store of one application of the configuration.
func (s *Set) ForApp(ac *config.App) state.Store {
	if s.pg != nil {
		return s.pg.Store(ac.DisplayName(), s.holder)
	}
	return s.files[ac.DisplayName()]
}

// Where says where an application's state is kept, for logs.
func (s *Set) Where(ac *config.App) string {
	if s.pg != nil {
		return "PostgreSQL " + s.pg.Where() + " (shared; this instance is " + s.holder + ")"
	}
	return ac.StateFile()
}

// Close closes every store.
func (s *Set) Close() {
	if s.pg != nil {
		s.pg.Close()
	}
	for _, fs := range s.files {
		_ = fs.Close()
	}
}

// errPostgresUnset is state.postgres set to a value that came out empty.
var errPostgresUnset = errors.New("state.postgres is empty here (an environment variable or file it refers to is not available): the state is in that database, not in a file")

// Editor changes an application's state beside a running daemon, for
// seqwatch outbox and seqwatch mute: through the state file's lock, or in
// the shared state database.
type Editor struct {
	path string // the state file, when there is no database
	pg   *pgstate.DB
	app  string
}

// OpenEditor opens what edits ac's state; close it after.
func OpenEditor(ctx context.Context, ac *config.App) (*Editor, error) {
	url := ac.State.Postgres.Reveal()
	if ac.File().IsSet("state.postgres") && url == "" {
		return nil, errPostgresUnset
	}
	if url == "" {
		return &Editor{path: ac.StateFile()}, nil
	}
	db, err := pgstate.Open(ctx, url, pgstate.Options{MaxConns: 1})
	if err != nil {
		return nil, fmt.Errorf("state.postgres: %w", err)
	}
	return &Editor{pg: db, app: ac.DisplayName()}, nil
}

// Where names the state for messages: the state file, or the
// application's document in the database.
func (e *Editor) Where() string {
	if e.pg != nil {
		return fmt.Sprintf("the state of %q in %s", e.app, e.pg.Where())
	}
	return e.path
}

// Missing reports a state file that does not exist yet (listing or
// removing mutes must not start one).
func (e *Editor) Missing() bool {
	if e.pg != nil {
		return false
	}
	_, err := os.Stat(e.path)
	return errors.Is(err, os.ErrNotExist)
}

// Edit changes the outbox and dead letters (state.Edit).
func (e *Editor) Edit(ctx context.Context, fn func(*state.State) error) error {
	if e.pg != nil {
		return e.pg.Edit(ctx, e.app, fn)
	}
	return state.Edit(ctx, e.path, fn)
}

// EditMutes changes the mutes (state.EditMutes).
func (e *Editor) EditMutes(ctx context.Context, fn func(*state.State) error) error {
	if e.pg != nil {
		return e.pg.EditMutes(ctx, e.app, fn)
	}
	return state.EditMutes(ctx, e.path, fn)
}

// Close lets go of the state database, if one was opened.
func (e *Editor) Close() {
	if e.pg != nil {
		e.pg.Close()
	}
}
