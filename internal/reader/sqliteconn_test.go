package reader_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// TestSQLiteReadConnectionsAreSmall holds every SQLite connection of a read
// to the memory bounds Open sets (SQLite's memory is outside the Go heap,
// and a daemon reads 8 applications at once: see docs/performance.md),
// read-only, on a rollback-journal and on a WAL database that Laravel has
// open, and checks that a read gives every connection back and Close
// closes them all: the page cache lives as long as its connection.
func TestSQLiteReadConnectionsAreSmall(t *testing.T) {
	// The values PRAGMA reports for what Open sets.
	want := map[string]int64{
		"cache_size": -256, // KiB
		"mmap_size":  0,
		"temp_store": 1, // FILE
		"query_only": 1,
	}
	for _, journal := range []string{"delete", "wal"} {
		t.Run(journal, func(t *testing.T) {
			t.Parallel()
			db := dbtest.NewDatabase(t, dbtest.SQLite)
			dbtest.CreateSchema(t, db, dbtest.Schema{})
			// dbtest's pool stays open for the whole test, as Laravel's
			// does: with WAL, the history below is still in the -wal
			// file when seqwatch reads it.
			var mode string
			if err := db.SQL.QueryRow("PRAGMA journal_mode=" + journal).Scan(&mode); err != nil || mode != journal {
				t.Fatalf("journal_mode=%s: got %q, %v", journal, mode, err)
			}
			g := db.InsertHistory(t, dbtest.History{Rows: 2000, Files: 500})
			dir := t.TempDir()
			dbtest.WriteApp(t, dir, db, dbtest.AppFiles{Operations: g.Files})
			a := &app{d: dbtest.SQLite, db: db, dir: dir}
			src := a.resolve(t, laravel.Settings{})
			var before int
			if err := db.SQL.QueryRow("SELECT count(*) FROM operations").Scan(&before); err != nil {
				t.Fatal(err)
			}

			ctx := context.Background()
			rdb, err := reader.Open(ctx, src.Conn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer rdb.Close()
			snap, err := reader.Read(ctx, rdb, src, baseNow, reader.ReadOptions{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := pendingNames(snap.PendingOperations); !slices.Equal(got, g.Pending) {
				t.Errorf("pending operations = %v, want %v", got, g.Pending)
			}
			if len(snap.Failing) == 0 {
				t.Errorf("no failing operation read; the history has %d failed rows", g.FailedRows)
			}
			if _, _, err := reader.ReadSince(ctx, rdb, src, baseNow.Add(time.Minute), nil, reader.IncrementalOptions{}); err != nil {
				t.Fatalf("ReadSince: %v", err)
			}
			st := rdb.SQL.Stats()
			if st.InUse != 0 {
				t.Errorf("after the reads %d connections are still in use (a result set or transaction left open)", st.InUse)
			}
			if st.OpenConnections == 0 || st.OpenConnections > 2 {
				t.Errorf("after the reads %d connections are open, want 1 or 2", st.OpenConnections)
			}

			// Take the pool's every connection at once, so that each is
			// checked, whichever the reads used.
			var conns []*sql.Conn
			for i := range 2 {
				c, err := rdb.SQL.Conn(ctx)
				if err != nil {
					t.Fatalf("connection %d: %v", i, err)
				}
				conns = append(conns, c)
				for name, w := range want {
					var got int64
					if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
						t.Fatalf("connection %d: PRAGMA %s: %v", i, name, err)
					}
					if got != w {
						t.Errorf("connection %d: PRAGMA %s = %d, want %d", i, name, got, w)
					}
				}
				var jm string
				if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&jm); err != nil || jm != journal {
					t.Errorf("connection %d: journal_mode = %q (%v), want %q: the read must not change it", i, jm, err, journal)
				}
				if _, err := c.ExecContext(ctx, "DELETE FROM operations"); err == nil {
					t.Errorf("connection %d: a DELETE succeeded on seqwatch's read connection", i)
				}
			}
			for _, c := range conns {
				c.Close()
			}
			if err := rdb.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if n := rdb.SQL.Stats().OpenConnections; n != 0 {
				t.Errorf("after Close %d connections are still open", n)
			}
			var after int
			if err := db.SQL.QueryRow("SELECT count(*) FROM operations").Scan(&after); err != nil || after != before {
				t.Errorf("operations rows after the read = %d (%v), want %d", after, err, before)
			}
		})
	}
}
