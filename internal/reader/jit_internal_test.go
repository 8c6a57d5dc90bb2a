package reader

import (
	"context"
	"testing"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// Every read transaction on PostgreSQL runs without JIT compilation: the
// problem query's estimated cost passes jit_above_cost from about 50,000
// rows, and compiling it cost more than running it (280 of 340 ms at
// 100,000 rows). The setting is the transaction's own: the session's is
// untouched after it ends.
func TestReadTransactionRunsWithoutJIT(t *testing.T) {
	db := dbtest.NewDatabase(t, dbtest.Postgres)
	ctx := context.Background()
	rdb, err := Open(ctx, laravel.Conn{Driver: "pgsql", Host: db.Host, Port: db.Port, Database: db.Database, Username: db.Username, Password: db.Password})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	// One connection, so that the session after the transaction is the
	// one it ran in.
	rdb.SQL.SetMaxOpenConns(1)
	var before string
	if err := rdb.SQL.QueryRowContext(ctx, "SELECT current_setting('jit')").Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before != "on" {
		t.Fatalf("the test server's jit is %q; the test needs it on (PostgreSQL's default)", before)
	}
	tx, err := rdb.beginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var in string
	if err := tx.QueryRowContext(ctx, "SELECT current_setting('jit')").Scan(&in); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if in != "off" {
		t.Errorf("jit in the read transaction = %q, want off", in)
	}
	var after string
	if err := rdb.SQL.QueryRowContext(ctx, "SELECT current_setting('jit')").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != "on" {
		t.Errorf("jit after the read transaction = %q, want the session's own (on)", after)
	}
}
