package gate_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/gate"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// base is when the wait starts; the deploy's command started a minute
// before.
var base = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// The operations of the scenarios.
const (
	opA = "2026_03_10_090000_ImportCustomers"
	opB = "2026_03_11_090000_ChargeCustomers"
	opC = "2026_03_12_090000_NotifyCustomers"
)

// scheduledPHP implements Sequencer's Scheduled contract: it runs at its
// executeAt(), here tomorrow.
const scheduledPHP = `<?php

use Cline\Sequencer\Contracts\Scheduled;

return new class implements Scheduled
{
    public function executeAt(): DateTimeInterface
    {
        return now()->addDay();
    }

    public function handle(): void
    {
        //
    }
};
`

// clock is the injected clock: Sleep advances it, and the driver's steps
// that are due run then, as a queue worker would meanwhile.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// step is one write of the deploy's rows, at an offset from base; those
// at or before 0 are what sequencer:process wrote before the wait began.
type step struct {
	at time.Duration
	do func(d *dbtest.Driver, ids map[string]string, at time.Time)
}

// deploy is a scripted deploy on one database.
type deploy struct {
	files    []string
	contents map[string]string
	steps    []step
	opt      gate.Options
}

// outcome is what a scripted deploy's wait printed and returned.
type outcome struct {
	out     string
	res     gate.Result
	verdict check.Verdict
	polls   int
}

// run drives d on a fresh database of dialect dl: the steps up to 0, then
// the wait, with the later steps written as the injected clock reaches
// them.
func (d deploy) run(t *testing.T, dl dbtest.Dialect, idType string) outcome {
	t.Helper()
	db := dbtest.NewDatabase(t, dl)
	schema := dbtest.Schema{IDType: idType}
	dbtest.CreateSchema(t, db, schema)
	dir := t.TempDir()
	dbtest.WriteApp(t, dir, db, dbtest.AppFiles{Operations: d.files})
	for name, php := range d.contents {
		if err := os.WriteFile(filepath.Join(dir, "database", "operations", name+".php"), []byte(php), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := laravel.Resolve(laravel.Settings{AppDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: base}
	// gate.Open, as the commands connect: within src.Conn.Timeout (0: the
	// reader's default).
	rsrc, err := gate.Open(context.Background(), src, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rsrc.Close() })

	drv := db.Driver(t, schema)
	ids := map[string]string{}
	steps := append([]step(nil), d.steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
	apply := func() {
		for len(steps) > 0 && !base.Add(steps[0].at).After(clk.Now()) {
			steps[0].do(drv, ids, base.Add(steps[0].at))
			steps = steps[1:]
		}
	}
	apply()
	var buf bytes.Buffer
	p := gate.NewPrinter(&buf, false, false, d.opt.AsyncRetryGrace)
	o := outcome{}
	opt := d.opt
	opt.Since = base.Add(-time.Minute)
	opt.Now = clk.Now
	opt.Sleep = func(ctx context.Context, dur time.Duration) error {
		o.polls++
		if o.polls > 1000 {
			t.Fatal("the wait did not end after 1000 polls")
		}
		clk.mu.Lock()
		clk.now = clk.now.Add(dur)
		clk.mu.Unlock()
		apply()
		return ctx.Err()
	}
	o.res = gate.Wait(context.Background(), rsrc, opt, p)
	o.verdict = gate.Verdict(o.res)
	p.Finish(o.res, o.verdict)
	o.out = buf.String()
	return o
}

// forEachDB runs f on every database, with a key type each.
func forEachDB(t *testing.T, f func(t *testing.T, d dbtest.Dialect, idType string)) {
	for _, c := range []struct {
		d      dbtest.Dialect
		idType string
	}{{dbtest.Postgres, "id"}, {dbtest.MySQL, "uuid"}, {dbtest.SQLite, "ulid"}} {
		t.Run(string(c.d)+"/"+c.idType, func(t *testing.T) {
			t.Parallel()
			f(t, c.d, c.idType)
		})
	}
}

func start(name, typ string) func(*dbtest.Driver, map[string]string, time.Time) {
	return func(d *dbtest.Driver, ids map[string]string, at time.Time) { ids[name] = d.Start(name, typ, at) }
}

func complete(name string) func(*dbtest.Driver, map[string]string, time.Time) {
	return func(d *dbtest.Driver, ids map[string]string, at time.Time) { d.Complete(ids[name], at) }
}

func fail(name, exception, message string) func(*dbtest.Driver, map[string]string, time.Time) {
	return func(d *dbtest.Driver, ids map[string]string, at time.Time) { d.Fail(ids[name], at, exception, message) }
}

// Each way a deploy's work ends, driven as Sequencer writes it, gives the
// documented lines and exit code on every database.
func TestWaitSaysHowEachDeployEnded(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		deploy deploy
		code   check.Status
		// within bounds how long the wait took, on the injected clock.
		within time.Duration
	}{
		{
			name: "sync_success",
			deploy: deploy{files: []string{opA, opB}, steps: []step{
				{-50 * time.Second, start(opA, "sync")}, {-48 * time.Second, complete(opA)},
				{-48 * time.Second, start(opB, "sync")}, {-36 * time.Second, complete(opB)},
			}},
			code: check.OK, within: 0,
		},
		{
			// The run stops at the failure; Sequencer rolls back the
			// Rollbackable operation it ran before; the third stays
			// pending, not run.
			name: "sync_failure_with_rollbacks",
			deploy: deploy{files: []string{opA, opB, opC}, steps: []step{
				{-50 * time.Second, start(opA, "sync")}, {-47 * time.Second, complete(opA)},
				{-47 * time.Second, start(opB, "sync")},
				{-45 * time.Second, fail(opB, `Stripe\Exception\CardException`, "Your card was declined.")},
				{-45 * time.Second, func(d *dbtest.Driver, ids map[string]string, at time.Time) { d.RollBack(ids[opA], at) }},
			}},
			code: check.Critical, within: 0,
		},
		{
			// Dispatched by the command; the worker's first try fails,
			// the queue's retry succeeds on the same row within the grace.
			name: "async_fails_then_succeeds",
			deploy: deploy{files: []string{opA}, opt: gate.Options{AsyncRetryGrace: 2 * time.Minute}, steps: []step{
				{-10 * time.Second, start(opA, "async")},
				{5 * time.Second, fail(opA, "RuntimeException", "Stripe timed out")},
				{40 * time.Second, complete(opA)},
			}},
			code: check.OK, within: 50 * time.Second,
		},
		{
			// The worker died: the row stays pending for ever.
			name: "async_worker_dies",
			deploy: deploy{files: []string{opA, opB}, opt: gate.Options{Timeout: time.Minute}, steps: []step{
				{-55 * time.Second, start(opA, "sync")}, {-54 * time.Second, complete(opA)},
				{-54 * time.Second, start(opB, "async")},
			}},
			code: check.Warning, within: time.Minute,
		},
		{
			name: "skip",
			deploy: deploy{files: []string{opA, opB}, steps: []step{
				{-20 * time.Second, start(opA, "sync")},
				{-19 * time.Second, func(d *dbtest.Driver, ids map[string]string, at time.Time) {
					d.Skip(ids[opA], at, "no customers to import yet")
				}},
				{-19 * time.Second, start(opB, "sync")}, {-18 * time.Second, complete(opB)},
			}},
			code: check.OK, within: 0,
		},
		{
			// sequencer:scheduled queued it for tomorrow: it does not
			// hold the wait.
			name: "scheduled_due_tomorrow",
			deploy: deploy{files: []string{opA, opB}, contents: map[string]string{opA: scheduledPHP}, steps: []step{
				{-30 * time.Second, start(opB, "sync")}, {-29 * time.Second, complete(opB)},
				{-29 * time.Second, start(opA, "scheduled")},
			}},
			code: check.OK, within: 0,
		},
	}
	for _, sc := range scenarios {
		// Without a settle (as deploy waits) and with wait's default
		// one, which none of these deploys needs: the same lines, code
		// and time.
		for _, settle := range []struct {
			name string
			d    time.Duration
		}{{"no_settle", 0}, {"auto_settle", gate.AutoSettle}} {
			t.Run(sc.name+"/"+settle.name, func(t *testing.T) {
				t.Parallel()
				dep := sc.deploy
				dep.opt.Settle = settle.d
				forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
					o := dep.run(t, d, idType)
					if o.verdict.Status != sc.code || o.verdict.Code != int(sc.code) {
						t.Errorf("verdict %s (code %d), want %s\n%s", o.verdict.Status, o.verdict.Code, sc.code, o.out)
					}
					if took := o.res.Elapsed(); took > sc.within+gate.MaxInterval {
						t.Errorf("the wait took %s on the clock, want at most %s and a poll", took, sc.within)
					}
					testkit.Golden(t, filepath.Join("testdata", sc.name+".golden"), []byte(o.out), update)
				})
			})
		}
	}
}

// A wait that runs alongside sequencer:process (started in the
// background, or on another host) does not end in a gap of its work:
// before the first run is written, between two sync runs, during a
// migration between two operations. It ends when the files pending at its
// start have all run and no run holds it, or when a sync failure stopped
// Sequencer, or after the settle period with nothing changing; on every
// database.
func TestWaitAlongsideProcessEndsOnlyWhenItsWorkIsDone(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		deploy deploy
		code   check.Status
		// from and within bound how long the wait took, on the
		// injected clock (within: and a poll).
		from, within time.Duration
		// summary is a part of the summary line.
		summary string
	}{
		{
			// The wait starts before the command writes its first row;
			// the second run follows the first 3 s later, the third
			// after a 40 s migration: longer than a poll, shorter than
			// the settle.
			name: "gap_between_sync_runs",
			deploy: deploy{files: []string{opA, opB, opC}, steps: []step{
				{3 * time.Second, start(opA, "sync")}, {4 * time.Second, complete(opA)},
				{7 * time.Second, start(opB, "sync")}, {8 * time.Second, complete(opB)},
				{48 * time.Second, start(opC, "sync")}, {50 * time.Second, complete(opC)},
			}},
			code: check.OK, from: 50 * time.Second, within: 50 * time.Second,
			summary: ": 3 completed",
		},
		{
			// The command dispatches the async operation after a sync
			// one and returns; the worker completes it later.
			name: "async_dispatch_then_completion",
			deploy: deploy{files: []string{opA, opB}, steps: []step{
				{2 * time.Second, start(opA, "sync")}, {3 * time.Second, complete(opA)},
				{3 * time.Second, start(opB, "async")}, {30 * time.Second, complete(opB)},
			}},
			code: check.OK, from: 30 * time.Second, within: 30 * time.Second,
			summary: ": 2 completed",
		},
		{
			// Nothing ever runs the pending files: the wait gives up on
			// them after the settle and says so.
			name:   "nothing_ever_starts",
			deploy: deploy{files: []string{opA, opB}},
			code:   check.OK, from: gate.DefaultSettle, within: gate.DefaultSettle,
			summary: "2 operation files not run (" + opA + " / " + opB + ") after 1m00s with no change",
		},
		{
			name:   "nothing_ever_starts_require_all",
			deploy: deploy{files: []string{opA, opB}, opt: gate.Options{RequireAll: true}},
			code:   check.Warning, from: gate.DefaultSettle, within: gate.DefaultSettle,
			summary: "2 operation files not run (" + opA + " / " + opB + ") after 1m00s with no change",
		},
		{
			// Sequencer stops at a sync failure: the files after it will
			// not run, and the wait does not wait for them.
			name: "sync_failure_stops_the_command",
			deploy: deploy{files: []string{opA, opB}, steps: []step{
				{2 * time.Second, start(opA, "sync")},
				{4 * time.Second, fail(opA, "RuntimeException", "table is locked")},
			}},
			code: check.Critical, from: 4 * time.Second, within: 4 * time.Second,
			summary: "1 operation file not run (" + opB + ")",
		},
		{
			// A given --settle applies even when every file has run.
			name: "given_settle",
			deploy: deploy{files: []string{opA}, opt: gate.Options{Settle: 20 * time.Second}, steps: []step{
				{-5 * time.Second, start(opA, "sync")}, {-4 * time.Second, complete(opA)},
			}},
			code: check.OK, from: 20 * time.Second, within: 20 * time.Second,
			summary: "done in 20s: 1 completed",
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			dep := sc.deploy
			if dep.opt.Settle == 0 {
				dep.opt.Settle = gate.AutoSettle
			}
			forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
				o := dep.run(t, d, idType)
				if o.verdict.Status != sc.code || o.verdict.Code != int(sc.code) || !strings.Contains(o.verdict.Summary, sc.summary) {
					t.Errorf("verdict %s (code %d), want %s and %q\n%s", o.verdict.Status, o.verdict.Code, sc.code, sc.summary, o.out)
				}
				if took := o.res.Elapsed(); took < sc.from || took > sc.within+gate.MaxInterval {
					t.Errorf("the wait took %s on the clock, want from %s to %s and a poll\n%s", took, sc.from, sc.within, o.out)
				}
				testkit.Golden(t, filepath.Join("testdata", sc.name+".golden"), []byte(o.out), update)
			})
		})
	}
}

// Without a settle (deploy's wait, or --settle 0) the same wait ends in
// the first gap: what the settle is for, and proof that the scenario
// above has one.
func TestWaitWithoutSettleEndsInTheGap(t *testing.T) {
	t.Parallel()
	steps := []step{
		{-2 * time.Second, start(opA, "sync")}, {1 * time.Second, complete(opA)},
		{20 * time.Second, start(opB, "sync")}, {21 * time.Second, complete(opB)},
	}
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		o := deploy{files: []string{opA, opB}, steps: steps}.run(t, d, idType)
		if took := o.res.Elapsed(); took >= 20*time.Second || len(o.res.NotRun) != 1 {
			t.Errorf("without a settle the wait took %s and left %d files not run, want it to end before the second run\n%s", took, len(o.res.NotRun), o.out)
		}
	})
}

// Without the grace an async failure is final at once; with it, a try
// that is still failed when the grace has passed is a failure (exit 2),
// named with its exception.
func TestAsyncFailureIsFinalOnlyAfterTheGrace(t *testing.T) {
	t.Parallel()
	steps := []step{
		{-10 * time.Second, start(opA, "async")},
		{5 * time.Second, fail(opA, "RuntimeException", "Stripe timed out")},
	}
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		o := deploy{files: []string{opA}, steps: steps, opt: gate.Options{AsyncRetryGrace: time.Minute}}.run(t, d, idType)
		if o.verdict.Status != check.Critical || !strings.Contains(o.out, "↻ "+opA+" failed a try: RuntimeException: Stripe timed out; waiting up to 1m00s") ||
			!strings.Contains(o.out, "✗ "+opA+" failed: RuntimeException: Stripe timed out (no retry within 1m00s)") {
			t.Errorf("with a grace: %s\n%s", o.verdict.Status, o.out)
		}
		if took := o.res.Elapsed(); took < 65*time.Second || took > 65*time.Second+gate.MaxInterval {
			t.Errorf("with a grace of 1m the wait took %s, want the failure's time and the grace", took)
		}
		o = deploy{files: []string{opA}, steps: steps}.run(t, d, idType)
		if o.verdict.Status != check.Critical || strings.Contains(o.out, "↻") {
			t.Errorf("without a grace: %s\n%s", o.verdict.Status, o.out)
		}
	})
}

// --require-all makes the files that no run of the deploy ran a WARNING;
// without it they are listed and the verdict is OK.
func TestRequireAllWarnsAboutFilesNotRun(t *testing.T) {
	t.Parallel()
	steps := []step{{-10 * time.Second, start(opA, "sync")}, {-9 * time.Second, complete(opA)}}
	forEachDB(t, func(t *testing.T, d dbtest.Dialect, idType string) {
		o := deploy{files: []string{opA, opB}, steps: steps}.run(t, d, idType)
		if o.verdict.Status != check.OK || !strings.Contains(o.verdict.Summary, "1 operation file not run ("+opB+")") {
			t.Errorf("without --require-all: %s", o.verdict.Line())
		}
		o = deploy{files: []string{opA, opB}, steps: steps, opt: gate.Options{RequireAll: true}}.run(t, d, idType)
		if o.verdict.Status != check.Warning {
			t.Errorf("with --require-all: %s", o.verdict.Line())
		}
	})
}
