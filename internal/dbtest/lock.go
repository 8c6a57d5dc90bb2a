package dbtest

import (
	"database/sql"
	"sync"
	"testing"
)

// LockTable holds an ACCESS EXCLUSIVE lock on table of the PostgreSQL
// database db, as a deploy's migration does, from a connection of its own
// until release is called or the test ends. locker is that connection's
// pool, for looking at pg_locks; release returns the rollback's error the
// first time and nil after.
func (db *DB) LockTable(t testing.TB, table string) (locker *sql.DB, release func() error) {
	t.Helper()
	if db.Dialect != Postgres {
		t.Fatalf("dbtest: LockTable is for PostgreSQL, not %s", db.Dialect)
	}
	driver, dsn := db.DSN()
	locker, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := locker.Begin()
	if err != nil {
		locker.Close()
		t.Fatal(err)
	}
	if _, err := tx.Exec("LOCK TABLE " + db.Quote(table) + " IN ACCESS EXCLUSIVE MODE"); err != nil {
		_ = tx.Rollback()
		locker.Close()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() error {
		var err error
		once.Do(func() { err = tx.Rollback() })
		return err
	}
	t.Cleanup(func() { _ = release(); locker.Close() })
	return locker, release
}
