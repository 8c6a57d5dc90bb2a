package reader_test

import (
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// TestReadWithoutSequencersIndexes reads tables of an older install, with
// none of the indexes current Sequencer creates on operations (unique
// (name, executed_at), name, type, executed_at), with and without
// statistics: the answers are the same, only slower, and an incremental
// read still works.
func TestReadWithoutSequencersIndexes(t *testing.T) {
	for _, d := range dbtest.All {
		for _, analyze := range []bool{false, true} {
			t.Run(string(d)+map[bool]string{false: "", true: "/statistics"}[analyze], func(t *testing.T) {
				t.Parallel()
				db := dbtest.NewDatabase(t, d)
				dbtest.CreateSchema(t, db, dbtest.Schema{})
				for _, ix := range []string{"operations_name_executed_at_unique", "operations_name_index", "operations_type_index", "operations_executed_at_index"} {
					q := "drop index " + db.Quote(ix)
					switch {
					case d == dbtest.MySQL:
						q = "alter table operations drop index " + db.Quote(ix)
					case d == dbtest.Postgres && ix == "operations_name_executed_at_unique":
						q = "alter table operations drop constraint " + db.Quote(ix)
					}
					db.Exec(t, q)
				}
				g := db.InsertHistory(t, dbtest.History{Shape: dbtest.ManyRunsPerName, Rows: 3000, Names: 100, Files: 100})
				if analyze {
					db.Analyze(t)
				}
				dir := t.TempDir()
				dbtest.WriteApp(t, dir, db, dbtest.AppFiles{Operations: g.Files})
				src, err := laravel.Resolve(laravel.Settings{AppDir: dir})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				c := readCounted(t, src, reader.ReadOptions{})
				t.Logf("read in %s", time.Since(start))
				wantGenerated(t, c.snap, g)
				failedList(t, src, g)
			})
		}
	}
}
