package reader

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// TestSQLiteFailedListScansTheTableOnce holds the plan of status
// --failed's statement on SQLite: one scan of operations, sorted
// afterwards, never a walk of the executed_at index in the list's order,
// which reads every row of the history by its rowid to test failed_at
// (most of the read's time at 100k rows: docs/performance.md). With
// --since, the index finds the window.
func TestSQLiteFailedListScansTheTableOnce(t *testing.T) {
	for _, shape := range []dbtest.Shape{dbtest.OneRunPerName, dbtest.ManyRunsPerName} {
		t.Run(string(shape), func(t *testing.T) {
			ctx := context.Background()
			db := dbtest.NewDatabase(t, dbtest.SQLite)
			dbtest.CreateSchema(t, db, dbtest.Schema{})
			db.InsertHistory(t, dbtest.History{Shape: shape, Rows: 4000})
			db.Analyze(t)
			cdb, err := Open(ctx, laravel.Conn{Driver: string(dbtest.SQLite), Database: db.Path})
			if err != nil {
				t.Fatal(err)
			}
			defer cdb.Close()
			sc, err := cdb.SQL.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			h := &History{r: reader{db: cdb, d: cdb.d, t: laravel.Tables{}.WithDefaults(), loc: time.UTC}}
			for _, traces := range []bool{false, true} {
				plan := sqlitePlans(t, sc, statement{q: h.failedQuery(traces)})
				lines := strings.Split(plan, "\n")
				if strings.TrimSpace(lines[0]) != "SCAN f" || !strings.Contains(plan, "USE TEMP B-TREE FOR ORDER BY") {
					t.Errorf("traces=%v: the failed rows are not found by one scan of operations, then sorted:\n%s", traces, plan)
				}
			}
			h.From(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC))
			if plan := sqlitePlans(t, sc, statement{q: h.failedQuery(false)}); !strings.Contains(plan, "SEARCH f USING INDEX operations_executed_at_index (executed_at>?)") {
				t.Errorf("with --since, the window is not found by the executed_at index:\n%s", plan)
			}
		})
	}
}
