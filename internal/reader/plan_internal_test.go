package reader

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// BenchmarkPlanCrossover times the two plans for finding what is wrong (a
// filtered scan, and the index walk over names followed by a look at the
// unfinished ones) over histories with 1 to 64 runs per name, to place
// walkRunsPerName. SEQWATCH_PLAN_ROWS sets the history size (default
// 100,000).
//
//	go test ./internal/reader -run '^$' -bench PlanCrossover
func BenchmarkPlanCrossover(b *testing.B) {
	rows := 100_000
	if v, err := strconv.Atoi(os.Getenv("SEQWATCH_PLAN_ROWS")); err == nil && v > 0 {
		rows = v
	}
	for _, d := range dbtest.All {
		for _, per := range []int{1, 2, 4, 8, 16, 64} {
			b.Run(fmt.Sprintf("%s/runs-per-name=%d", d, per), func(b *testing.B) {
				db := dbtest.NewDatabase(b, d)
				dbtest.CreateSchema(b, db, dbtest.Schema{})
				db.InsertHistory(b, dbtest.History{Shape: dbtest.ManyRunsPerName, Rows: rows, Names: rows / per, Files: 100})
				db.Analyze(b)
				ctx := context.Background()
				driver := string(d)
				src := laravel.Source{Conn: laravel.Conn{Driver: driver, Host: db.Host, Port: db.Port, Database: db.Database, Username: db.Username, Password: db.Password}}
				if d == dbtest.SQLite {
					src.Conn.Database = db.Path
				}
				cdb, err := Open(ctx, src.Conn)
				if err != nil {
					b.Fatal(err)
				}
				defer cdb.Close()
				r := reader{db: cdb, d: cdb.d, t: laravel.Tables{}.WithDefaults(), loc: time.UTC}
				now := time.Now()
				for _, walk := range []bool{false, true} {
					b.Run(map[bool]string{false: "scan", true: "walk"}[walk], func(b *testing.B) {
						for b.Loop() {
							var names []string
							if walk {
								if names, err = r.unfinishedNames(ctx); err != nil {
									b.Fatal(err)
								}
							}
							if _, err := r.problems(ctx, walk, names, now, now.Add(-7*24*time.Hour).Format(time.DateTime)); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			})
		}
	}
}
