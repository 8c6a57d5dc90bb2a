package pgstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/seqwatch/seqwatch/state"
)

// Edit changes app's state while a daemon may be running, as state.Edit
// does for a state file: in one transaction it locks the document, calls
// fn, and writes the result when fn changed it. It is not fenced by the
// lease (it is for seqwatch outbox retry, drop and enable, run by a person
// on any server), so fn must change only the outbox, the dead letters and
// the disabled channels: the leader takes those, and only those, from the
// document at its next Update. An application with no state yet is an
// error matching state.ErrNoState; when fn fails nothing is written and
// its error is returned.
func (db *DB) Edit(ctx context.Context, app string, fn func(*state.State) error) error {
	return db.edit(ctx, app, false, fn)
}

// EditMutes is Edit for seqwatch mute and the listener's /api/v1/mutes: fn
// may change only State.Mutes. Unlike Edit, an application with no state
// yet is not an error: the mute starts the document, which the daemon then
// takes as its first run (as state.EditMutes does with a state file).
func (db *DB) EditMutes(ctx context.Context, app string, fn func(*state.State) error) error {
	return db.edit(ctx, app, true, fn)
}

func (db *DB) edit(ctx context.Context, app string, create bool, fn func(*state.State) error) error {
	var applied bool
	var fnErr error
	err := db.inTx(ctx, fmt.Sprintf("edit state of %q", app), func(ctx context.Context, tx pgx.Tx) error {
		if create {
			if _, err := tx.Exec(ctx,
				`INSERT INTO seqwatch_states (app, doc, rev, token, updated_at) VALUES ($1, NULL, 0, 0, clock_timestamp()) ON CONFLICT (app) DO NOTHING`,
				app); err != nil {
				return err
			}
		}
		var doc []byte
		err := tx.QueryRow(ctx, `SELECT doc::text FROM seqwatch_states WHERE app = $1 FOR UPDATE`, app).Scan(&doc)
		if err != nil && !errors.Is(err, errNoRows) {
			return err
		}
		st := state.New()
		switch {
		case doc != nil:
			if st, err = decodeDoc(db, app, doc); err != nil {
				return err
			}
		case !create:
			return &opError{
				msg:  fmt.Sprintf("no state for %q in the state database %s: the daemon has not run for this application yet", app, db.where),
				errs: []error{state.ErrNoState},
			}
		}
		applied = true
		if fnErr = fn(st); fnErr != nil {
			return fnErr
		}
		data, err := state.Marshal(st)
		if err != nil {
			return fmt.Errorf("encode state: %w", err)
		}
		if bytes.Equal(data, doc) {
			return nil
		}
		// The token stays: it names the last leader that wrote, and this
		// write is not a leader's (see Store.merge).
		_, err = tx.Exec(ctx,
			`UPDATE seqwatch_states SET doc = $2, rev = rev + 1, updated_at = clock_timestamp() WHERE app = $1`,
			app, string(data))
		return err
	}, func() bool { return !applied })
	if fnErr != nil {
		return fnErr
	}
	return err
}
