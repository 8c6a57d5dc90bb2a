package pgstate

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/seqwatch/seqwatch/state"
)

// Inspection is what Open, and then each application's Load, would change
// in a state database, found without changing anything (seqwatch state
// check, before an upgrade).
type Inspection struct {
	// Where is host:port/database.
	Where string
	// Schema is the schema version found: 0 when the database has no
	// seqwatch tables yet.
	Schema int
	// Migrations says what each migration Open would run does, in order
	// ("version 0 to 1: creates the tables ..."); none when Schema is
	// SchemaVersion.
	Migrations []string
	// Docs holds every application's stored state document, by name, in
	// the order of the names.
	Docs []DocInspection
}

// DocInspection is what loading one application's state document would
// change: its format upgrade, or why it would not load (Err, with the same
// message Load gives: a document written by a newer seqwatch names both
// versions). One document that would not load does not hide the others.
type DocInspection struct {
	App     string
	Upgrade state.Upgrade
	Err     error
}

// Inspect connects to the state database at rawURL and, in one read-only
// transaction, reads the schema version and every application's state
// document, reporting what an upgrade to this binary would change. It
// creates, migrates and writes nothing, and takes no lease. A schema newer
// than this binary is an error matching ErrSchemaNewer that names both
// versions (its documents are not read: their shape is unknown); an
// unreachable database matches ErrUnavailable.
func Inspect(ctx context.Context, rawURL string, opts Options) (*Inspection, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = 1
	}
	db, err := connect(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	in := &Inspection{Where: db.where}
	read := func(ctx context.Context, tx pgx.Tx) error {
		in.Schema, in.Migrations, in.Docs = 0, nil, nil
		exists, err := schemaTableExists(ctx, tx)
		if err != nil || !exists {
			return err
		}
		if in.Schema, err = schemaVersion(ctx, tx); err != nil {
			return err
		}
		if in.Schema > SchemaVersion {
			return db.schemaNewer(in.Schema)
		}
		if in.Schema < 0 {
			return fmt.Errorf("table seqwatch_schema holds version %d", in.Schema)
		}
		// Every schema from version 1 on has seqwatch_states(app, doc);
		// a migration that changes that must teach this query the old
		// shape too.
		rows, err := tx.Query(ctx, `SELECT app, doc::text FROM seqwatch_states WHERE doc IS NOT NULL ORDER BY app`)
		if err != nil {
			return err
		}
		defer rows.Close()
		// One row at a time: documents can be large, and only what each
		// would change is kept.
		for rows.Next() {
			var app string
			var doc []byte
			if err := rows.Scan(&app, &doc); err != nil {
				return err
			}
			d := DocInspection{App: app}
			d.Upgrade, d.Err = state.CheckUpgrade(doc)
			if d.Err != nil {
				d.Err = docError(db, app, d.Err)
			}
			in.Docs = append(in.Docs, d)
		}
		return rows.Err()
	}
	if err := db.readOnly(ctx, "inspect", read); err != nil {
		return nil, err
	}
	for v := in.Schema; v < SchemaVersion; v++ {
		in.Migrations = append(in.Migrations, fmt.Sprintf("version %d to %d: %s", v, v+1, migrations()[v].what))
	}
	return in, nil
}

// readOnly runs f in one READ ONLY transaction under the query timeout
// (once more on a fresh connection if the pooled one had died idle): the
// server itself refuses any write f might attempt.
func (db *DB) readOnly(ctx context.Context, action string, f func(ctx context.Context, tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := func() error {
			ctx, cancel := db.withTimeout(ctx)
			defer cancel()
			tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
			if err != nil {
				return err
			}
			defer func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), db.timeout)
				defer cancel()
				_ = tx.Rollback(rctx)
			}()
			return f(ctx, tx)
		}()
		if err != nil && attempt == 0 && staleConn(err) {
			continue
		}
		return db.fail(action, err)
	}
}
