package reader_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// TestReadRunsCostFollowsTheChanges follows a deploy over a history of
// 4,000 and of 40,000 rows, in both shapes, on every database: each poll
// fetches the same rows at both sizes, an unchanged poll one row (the
// tally) in one query, and a poll after a change the tally and the runs
// that can have changed. A poll that read the history, or even every run
// of the deploy, would fetch more.
func TestReadRunsCostFollowsTheChanges(t *testing.T) {
	const (
		opX = "2026_02_01_090000_DeployImport"
		opY = "2026_02_01_090100_DeployCharge"
		opZ = "2026_02_01_090200_DeployNotify"
	)
	since := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return since.Add(time.Duration(s) * time.Second) }
	type poll struct {
		name string
		// write is what Sequencer writes before the poll.
		write func(d *dbtest.Driver, ids map[string]string)
		// rows and queries bound what the poll fetches and asks.
		rows, queries int64
		// changed are the runs it reports as new or changed.
		changed []string
	}
	polls := []poll{
		{"first: the deploy's runs", func(d *dbtest.Driver, ids map[string]string) {
			ids[opX] = d.Start(opX, "sync", at(0))
			d.Complete(ids[opX], at(2))
			ids[opY] = d.Start(opY, "async", at(2))
		}, 10, 6, []string{opX, opY}},
		{"unchanged", nil, 1, 1, nil},
		{"unchanged again", nil, 1, 1, nil},
		// The tally, the new run and the one of the newest start's second
		// seen before.
		{"a new run", func(d *dbtest.Driver, ids map[string]string) {
			ids[opZ] = d.Start(opZ, "async", at(10))
		}, 3, 2, []string{opZ}},
		{"a failed try", func(d *dbtest.Driver, ids map[string]string) {
			d.Fail(ids[opY], at(20), "RuntimeException", "timed out")
		}, 1 + 2 + 1, 3, []string{opY}},
		{"the retry completes it", func(d *dbtest.Driver, ids map[string]string) {
			d.Complete(ids[opY], at(30))
		}, 1 + 2, 2, []string{opY}},
		{"the last one completes", func(d *dbtest.Driver, ids map[string]string) {
			d.Complete(ids[opZ], at(40))
		}, 1 + 1, 2, []string{opZ}},
		{"unchanged at the end", nil, 1, 1, nil},
	}
	for _, d := range dbtest.All {
		for _, sh := range costShapes {
			t.Run(fmt.Sprintf("%s/%s", d, sh.shape), func(t *testing.T) {
				t.Parallel()
				var costs [2][]reader.Stats
				for size, h := range []dbtest.History{sh.small, sh.large} {
					db := dbtest.NewDatabase(t, d)
					dbtest.CreateSchema(t, db, dbtest.Schema{})
					g := db.InsertHistory(t, h)
					dir := t.TempDir()
					dbtest.WriteApp(t, dir, db, dbtest.AppFiles{Operations: append(g.Files, opX, opY, opZ)})
					src, err := laravel.Resolve(laravel.Settings{AppDir: dir})
					if err != nil {
						t.Fatal(err)
					}
					ctx := context.Background()
					rdb, err := reader.Open(ctx, src.Conn)
					if err != nil {
						t.Fatal(err)
					}
					defer rdb.Close()
					drv := db.Driver(t, dbtest.Schema{})
					ids := map[string]string{}
					var mark *reader.RunsMark
					var recheck []string
					for _, p := range polls {
						if p.write != nil {
							p.write(drv, ids)
						}
						before := rdb.Stats()
						var changed []reader.Run
						changed, mark, err = reader.ReadRuns(ctx, rdb, src, since, mark, recheck)
						if err != nil {
							t.Fatalf("%s: %v", p.name, err)
						}
						cost := rdb.Stats().Sub(before)
						costs[size] = append(costs[size], cost)
						var names []string
						for _, r := range changed {
							names = append(names, r.Name)
						}
						if fmt.Sprint(names) != fmt.Sprint(p.changed) {
							t.Errorf("%d rows, %s: changed %v, want %v", g.Rows, p.name, names, p.changed)
						}
						if cost.Rows > p.rows || cost.Queries > p.queries || cost.Transactions != 1 {
							t.Errorf("%d rows, %s: %d queries, %d rows fetched, %d transactions; want at most %d queries, %d rows, in one transaction",
								g.Rows, p.name, cost.Queries, cost.Rows, cost.Transactions, p.queries, p.rows)
						}
						// A failed asynchronous try is read again at each
						// poll while it waits for the queue's retry.
						recheck = recheck[:0]
						for _, r := range mark.Runs() {
							if r.FailedAt != nil && r.CompletedAt == nil {
								recheck = append(recheck, r.ID)
							}
						}
					}
					runs := mark.Runs()
					if len(runs) != 3 || runs[1].FailedAt == nil || runs[1].CompletedAt == nil || len(runs[1].Errors) != 1 {
						t.Errorf("%d rows: runs at the end %+v, want the three, %s failed once and completed", g.Rows, runs, opY)
					}
				}
				for i := range polls {
					if costs[0][i] != costs[1][i] {
						t.Errorf("%s: %+v over the small history, %+v over ten times the rows", polls[i].name, costs[0][i], costs[1][i])
					}
				}
			})
		}
	}
}

// A run made visible late (a transaction that committed after newer runs
// were seen), and a run deleted, are found: the tally disagrees, and the
// runs since the moment are read again once.
func TestReadRunsFindsLateAndDeletedRuns(t *testing.T) {
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		schema := dbtest.Schema{IDType: idType}
		a := newApp(t, d, schema, dbtest.AppFiles{Operations: []string{opA, opB, opC}})
		src := a.resolve(t, laravel.Settings{})
		ctx := context.Background()
		rdb, err := reader.Open(ctx, src.Conn)
		if err != nil {
			t.Fatal(err)
		}
		defer rdb.Close()
		since := baseNow.Add(-time.Hour)
		drv := a.db.Driver(t, schema)
		idA := drv.Start(opA, "sync", since.Add(10*time.Minute))
		_, mark, err := reader.ReadRuns(ctx, rdb, src, since, nil, nil)
		if err != nil || len(mark.Runs()) != 1 {
			t.Fatalf("first read: %v, %d runs", err, len(mark.Runs()))
		}
		// Started before the newest start seen, visible only now.
		drv.Start(opB, "sync", since.Add(5*time.Minute))
		changed, mark, err := reader.ReadRuns(ctx, rdb, src, since, mark, nil)
		if err != nil || len(changed) != 1 || changed[0].Name != opB || len(mark.Runs()) != 2 {
			t.Fatalf("late run: %v, changed %v, %d runs", err, changed, len(mark.Runs()))
		}
		a.db.Exec(t, "delete from operations where id = ?", idA)
		_, mark, err = reader.ReadRuns(ctx, rdb, src, since, mark, nil)
		if err != nil || len(mark.Runs()) != 1 || mark.Runs()[0].Name != opB {
			t.Fatalf("deleted run: %v, runs %v", err, mark.Runs())
		}
	})
}
