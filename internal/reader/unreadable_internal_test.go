package reader

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// unplaceable are values of executed_at that cannot be read, those that
// sort after every time and those that sort before, on each database.
var unplaceable = map[dbtest.Dialect][]any{
	dbtest.Postgres: {"infinity", "-infinity"},
	dbtest.MySQL:    {"0000-00-00 00:00:00"},
	dbtest.SQLite:   {"garbage", "", 1.5, "infinity"},
}

// TestAnUnreadableStartRecoversNothing: a completed run of the same
// operation (in either spelling) whose executed_at cannot be read does not
// count as later than a failure, with either plan (the filtered scan and
// the index walk), in the failed list status prints, and for the
// daemon's recoveries (LastCompleted); a readable later run still
// recovers the failure.
func TestAnUnreadableStartRecoversNothing(t *testing.T) {
	const op = "2024_01_15_130000_NotifyUsers"
	day := "2024-06-01 "
	cases := []struct {
		name string
		// rows after the failed row at 10:00; the first is given the
		// unreadable executed_at.
		rows      []dbtest.Op
		recovered bool
	}{
		{name: "unreadable_completed_run", rows: []dbtest.Op{{Name: op, ExecutedAt: day + "11:00:00", CompletedAt: day + "11:00:01"}}},
		{name: "unreadable_completed_run_other_spelling", rows: []dbtest.Op{{Name: op + ".php", ExecutedAt: day + "11:00:00", CompletedAt: day + "11:00:01"}}},
		{name: "readable_later_run_still_recovers", recovered: true, rows: []dbtest.Op{
			{Name: op, ExecutedAt: day + "11:00:00", CompletedAt: day + "11:00:01"},
			{Name: op, ExecutedAt: day + "12:00:00", CompletedAt: day + "12:00:01"},
		}},
	}
	for _, d := range dbtest.All {
		for _, bad := range unplaceable[d] {
			for _, tc := range cases {
				t.Run(string(d)+"/"+tc.name+"/"+fmt.Sprintf("%q", fmt.Sprint(bad)), func(t *testing.T) {
					t.Parallel()
					db := dbtest.NewDatabase(t, d)
					s := dbtest.Schema{}
					dbtest.CreateSchema(t, db, s)
					failed := db.InsertOps(t, s, dbtest.Op{Name: op, ExecutedAt: day + "10:00:00", FailedAt: day + "10:00:01",
						Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "boom"}}})[0]
					ids := db.InsertOps(t, s, tc.rows...)
					db.SetRaw(t, "operations", ids[0], "executed_at", bad)

					ctx := context.Background()
					src := laravel.Source{Conn: laravel.Conn{Driver: string(d), Host: db.Host, Port: db.Port, Database: db.Database, Username: db.Username, Password: db.Password}}
					if d == dbtest.SQLite {
						src.Conn.Database = db.Path
					}
					cdb, err := Open(ctx, src.Conn)
					if err != nil {
						t.Fatal(err)
					}
					defer cdb.Close()
					r := reader{db: cdb, d: cdb.d, t: laravel.Tables{}.WithDefaults(), loc: time.UTC, bad: newUnreadableSet()}
					now := time.Date(2024, 6, 1, 13, 0, 0, 0, time.UTC)
					for _, walk := range []bool{false, true} {
						var names []string
						if walk {
							if names, err = r.unfinishedNames(ctx); err != nil {
								t.Fatal(err)
							}
						}
						set, err := r.problems(ctx, walk, names, now, now.Add(-7*24*time.Hour).Format(time.DateTime))
						if err != nil {
							t.Fatal(err)
						}
						failing, _ := set.result()
						var got []string
						for _, f := range failing {
							got = append(got, f.ID)
						}
						want := []string{failed}
						if tc.recovered {
							want = nil
						}
						if !slices.Equal(got, want) {
							t.Errorf("walk=%v: failing rows %v, want %v", walk, got, want)
						}
					}

					h, err := OpenHistory(ctx, cdb, laravel.Source{Conn: src.Conn})
					if err != nil {
						t.Fatal(err)
					}
					defer h.Close()
					err = h.Failed(ctx, false, func(f *check.Failure) error {
						if f.Recovered != tc.recovered {
							t.Errorf("the failed list marks the failure recovered=%v, want %v", f.Recovered, tc.recovered)
						}
						if tc.recovered && (f.RecoveredAt == nil || f.RecoveredAt.Format(time.TimeOnly) != "12:00:00") {
							t.Errorf("recovered at %v, want the readable run at 12:00:00", f.RecoveredAt)
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}

					last := map[string]time.Time{}
					if err := r.lastCompleted(ctx, []string{op}, last); err != nil {
						t.Fatal(err)
					}
					at, ok := last[op]
					if ok != tc.recovered || (ok && at.Format(time.TimeOnly) != "12:00:00") {
						t.Errorf("LastCompleted = %v (%v), want only a readable run", at, ok)
					}
					if wm, err := r.newestStart(ctx); err != nil || wm == "" {
						t.Errorf("watermark %q (%v): an unreadable start must not stop it", wm, err)
					}
				})
			}
		}
	}
}
