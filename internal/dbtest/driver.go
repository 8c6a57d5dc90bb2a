package dbtest

import (
	"testing"
	"time"
)

// Driver writes the operations table as Sequencer 3.0.3 writes it while it
// runs (../shared/docs/sequencer-data-model.md, "How the real package
// writes these rows"): a row is inserted, state pending, when an
// operation starts (dispatched, for a queued one), and updated when it
// ends; a failed try adds an error row and sets failed_at, which is never
// cleared; the queue's retry of an asynchronous operation completes the
// same row; a rollback sets rolled_back_at on a completed row. Each write
// keeps updated_at as Eloquent does. Tests of the deploy gate drive a
// deploy with it, a step at a time, on an injected clock.
type Driver struct {
	t  testing.TB
	db *DB
	s  Schema
}

// Driver returns a Driver of db's Sequencer tables.
func (db *DB) Driver(t testing.TB, s Schema) *Driver {
	return &Driver{t: t, db: db, s: s.WithDefaults()}
}

// Start records an operation starting (or dispatched to the queue) at
// at: typ is sync, async, batch, scheduled, ... It returns the row's id.
func (d *Driver) Start(name, typ string, at time.Time) string {
	d.t.Helper()
	w := Wall(at)
	return d.db.insertRow(d.t, d.s.Operations, newID(d.s.IDType),
		[]string{"name", "type", "state", "executed_at", "created_at", "updated_at"},
		[]any{name, typ, "pending", w, w, w})
}

// Complete records the run's success (for a queued run, a worker's).
func (d *Driver) Complete(id string, at time.Time) {
	d.t.Helper()
	d.update(id, "completed", "completed_at", at)
}

// Fail records a failed try: failed_at (overwritten by a later failed
// try), state failed, and one error row.
func (d *Driver) Fail(id string, at time.Time, exception, message string) {
	d.t.Helper()
	d.update(id, "failed", "failed_at", at)
	w := Wall(at)
	d.db.insertRow(d.t, d.s.Errors, newID(d.s.IDType),
		[]string{"operation_id", "exception", "message", "trace", "context", "created_at", "updated_at"},
		[]any{id, exception, message, "#0 /app/database/operations/op.php(12): handle()\n#1 {main}", `{"line":12}`, w, w})
}

// Skip records OperationSkippedException::withReason(reason).
func (d *Driver) Skip(id string, at time.Time, reason string) {
	d.t.Helper()
	w := Wall(at)
	d.db.Exec(d.t, "update "+d.db.Quote(d.s.Operations)+" set "+d.db.Quote("state")+" = 'skipped', skipped_at = ?, skip_reason = ?, updated_at = ? where id = ?",
		w, reason, w, id)
}

// RollBack records the rollback of a completed Rollbackable run.
func (d *Driver) RollBack(id string, at time.Time) {
	d.t.Helper()
	d.update(id, "rolled_back", "rolled_back_at", at)
}

func (d *Driver) update(id, state, col string, at time.Time) {
	d.t.Helper()
	w := Wall(at)
	d.db.Exec(d.t, "update "+d.db.Quote(d.s.Operations)+" set "+d.db.Quote("state")+" = ?, "+d.db.Quote(col)+" = ?, updated_at = ? where id = ?",
		state, w, w, id)
}
