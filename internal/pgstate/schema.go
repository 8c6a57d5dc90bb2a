package pgstate

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SchemaVersion is the newest schema this binary knows: the number of
// migrations.
const SchemaVersion = 1

// migration is one step of the schema: what it does, as seqwatch state
// check reports it, and its statements, run in one transaction.
type migration struct {
	what string
	sql  []string
}

// migrations returns the schema's steps: migrations()[v] brings version v
// to v+1. Append a step (never change one that shipped), keep SchemaVersion
// its length, and commit a pg_dump of a database at the version before it
// as testdata/schema-vN.sql (the upgrade test loads one of every version).
// It is a function, not a variable, so the list cannot change at run time.
func migrations() []migration {
	return []migration{
		// 0 → 1: leases and state documents.
		{what: "creates the tables seqwatch_leases and seqwatch_states", sql: []string{
			`CREATE TABLE seqwatch_leases (
				app        text PRIMARY KEY,
				holder     text NOT NULL,
				token      bigint NOT NULL,
				expires_at timestamptz NOT NULL,
				renewed_at timestamptz NOT NULL
			)`,
			// doc is state.Marshal's text, kept as it is: json, not
			// jsonb, because jsonb reorders keys and rejects the \u0000
			// escape (error text read from MySQL or SQLite may hold NUL),
			// and "unchanged" is judged by comparing bytes; not bytea,
			// because the Exec mode PgBouncer needs (see Open) sends
			// parameters and results as text, and bytea's text form is
			// hex, twice the size. The server still checks it is JSON, and
			// psql can look inside (doc->'outbox'). NULL: a row made to
			// lock on before the first document (see Update).
			`CREATE TABLE seqwatch_states (
				app        text PRIMARY KEY,
				doc        json,
				rev        bigint NOT NULL,
				token      bigint NOT NULL,
				updated_at timestamptz NOT NULL
			)`,
		}},
	}
}

// migrateLock is the key of the transaction-level advisory lock that
// serialises migrations of one database ("seqw" in ASCII). Transaction
// level only: a session-level lock would outlive its transaction on a
// PgBouncer server connection that another client then gets.
const migrateLock = 0x73657177

// migrate brings the schema to SchemaVersion, one migration per
// transaction, each under the advisory lock so that instances starting
// together do not run a step twice (both succeed; the second finds the work
// done).
func (db *DB) migrate(ctx context.Context) error {
	steps := migrations()
	for {
		var done bool
		step := func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
				return err
			}
			exists, err := schemaTableExists(ctx, tx)
			if err != nil {
				return err
			}
			if !exists {
				// Only when absent: CREATE TABLE IF NOT EXISTS needs the
				// CREATE privilege even when the table is there.
				if _, err := tx.Exec(ctx, `CREATE TABLE seqwatch_schema (version int NOT NULL)`); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO seqwatch_schema (version) VALUES (0)`); err != nil {
					return err
				}
			}
			v, err := schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			switch {
			case v > len(steps):
				return db.schemaNewer(v)
			case v < 0:
				return fmt.Errorf("table seqwatch_schema holds version %d", v)
			case v == len(steps):
				done = true
				return nil
			}
			for _, q := range steps[v].sql {
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("migrate schema from version %d to %d: %w", v, v+1, err)
				}
			}
			_, err = tx.Exec(ctx, `UPDATE seqwatch_schema SET version = $1`, v+1)
			return err
		}
		if err := db.inTx(ctx, "migrate schema", step, func() bool { return true }); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// schemaTableExists reports whether seqwatch_schema exists: a database
// without it has no seqwatch tables yet (version 0).
func schemaTableExists(ctx context.Context, tx pgx.Tx) (bool, error) {
	var exists bool
	err := tx.QueryRow(ctx, `SELECT to_regclass('seqwatch_schema') IS NOT NULL`).Scan(&exists)
	return exists, err
}

// schemaVersion reads the version seqwatch_schema records.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `SELECT version FROM seqwatch_schema`)
	if err != nil {
		return 0, err
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return 0, err
	}
	if len(versions) != 1 {
		return 0, fmt.Errorf("table seqwatch_schema has %d rows, want exactly one", len(versions))
	}
	return versions[0], nil
}

// schemaNewer is the error for a schema at version v, newer than this
// binary's: it names both versions.
func (db *DB) schemaNewer(v int) error {
	return &opError{
		msg: fmt.Sprintf("state database %s has schema version %d, newer than this seqwatch knows (%d)",
			db.where, v, SchemaVersion),
		errs: []error{ErrSchemaNewer},
	}
}
