package reader_test

import (
	"context"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// TestTimeoutBecomesServerLimits opens each real database the way the
// commands do, with a 4s budget, and reads the session's limits back from
// the server: it must give up on a lock wait, then on a statement, before
// the client's own deadline, and the MySQL driver must not fail the
// connection on MariaDB for want of MySQL's variable (or the other way
// round).
func TestTimeoutBecomesServerLimits(t *testing.T) {
	for _, tc := range []struct {
		d     dbtest.Dialect
		query string
		want  []string
	}{
		// 4s less a tenth (400 ms) for the statement, two for the lock.
		{dbtest.Postgres, "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')", []string{"3600ms", "3200ms"}},
		// MariaDB runs the /*M! ... */ part; lock_wait_timeout is whole seconds.
		{dbtest.MySQL, "SELECT CAST(@@max_statement_time AS CHAR), CAST(@@lock_wait_timeout AS CHAR)", []string{"3.600000", "3"}},
		// The lock wait less a quarter of the budget at most 500 ms: SQLite's
		// busy handler overshoots in steps.
		{dbtest.SQLite, "PRAGMA busy_timeout", []string{"2700"}},
	} {
		t.Run(string(tc.d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, tc.d, dbtest.Schema{}, dbtest.AppFiles{})
			src := a.resolve(t, laravel.Settings{})
			src.Conn.Timeout = 4 * time.Second
			db, err := reader.Open(context.Background(), src.Conn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			got := make([]string, len(tc.want))
			dest := make([]any, len(got))
			for i := range got {
				dest[i] = &got[i]
			}
			if err := db.SQL.QueryRow(tc.query).Scan(dest...); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("%s: got %q, want %q", tc.query, got, tc.want)
					break
				}
			}
		})
	}
}

// TestNoTimeoutKeepsServerDefaults: without a budget (no Timeout, no
// deadline) Open sets no statement limit, so a long status of a huge
// history is not cut short by a limit nobody asked for.
func TestNoTimeoutKeepsServerDefaults(t *testing.T) {
	t.Parallel()
	a := newApp(t, dbtest.Postgres, dbtest.Schema{}, dbtest.AppFiles{})
	db, err := reader.Open(context.Background(), a.resolve(t, laravel.Settings{}).Conn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	var st string
	if err := db.SQL.QueryRow("SELECT current_setting('statement_timeout')").Scan(&st); err != nil {
		t.Fatal(err)
	}
	if st != "0" {
		t.Errorf("statement_timeout %q, want the server's default 0", st)
	}
}
