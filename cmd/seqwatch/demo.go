package main

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/demo"
	"github.com/seqwatch/seqwatch/internal/gate"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/render"
	"github.com/seqwatch/seqwatch/internal/schedule"
)

const demoHelp = `Usage: seqwatch demo [--keep DIR]

Builds a throwaway Laravel application with Sequencer's tables in SQLite
(no server needed) holding a realistic mix of completed, failed,
failed-then-recovered, in-progress and pending operations, then runs
"seqwatch status", "seqwatch check" and one alerting tick (printed on the
console) against it, then a short "seqwatch wait" during which a queue
worker (played by the demo) finishes an asynchronous operation, and says
how to point seqwatch at a real application.

--keep DIR writes the sample application into DIR and keeps it, so you can
run the other commands against it yourself.

Exit status: 0 the demo ran; 1 it could not.
`

func runDemo(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("demo", e.stderr, demoHelp)
	keep := fs.String("keep", "", "write the sample application into `DIR` and keep it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "seqwatch-demo-")
		if err != nil {
			return fmt.Errorf("create a temporary directory for the demo: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	now := e.now().UTC().Truncate(time.Second)
	if err := demo.WriteApp(ctx, dir, now); err != nil {
		return err
	}
	src, err := laravel.Resolve(laravel.Settings{AppDir: dir, Name: "demo-shop"})
	if err != nil {
		return err
	}
	w := e.stdout
	title := func(s string) { fmt.Fprintf(w, "\n=== %s ===\n\n", s) }
	fmt.Fprintf(w, "seqwatch demo: a sample Laravel application with Sequencer's tables in SQLite at\n  %s\n", dir)
	title("seqwatch status -v --app " + dir)
	snap, err := printStatus(ctx, w, src, now, time.Time{}, render.StatusOptions{Verbose: true, Color: useColor(e)}, false)
	if err != nil {
		return err
	}
	th := check.DefaultThresholds()
	th.MaxPending, th.StuckAfter = 10, 30*time.Minute
	title("seqwatch check --max-pending 10 --stuck-after 30m --app " + dir)
	problems := check.Assess(snap, th)
	v := problems.Verdict()
	fmt.Fprintln(w, v.Line())
	fmt.Fprintf(w, "(exit status %d: %s)\n", v.Code, v.Status)
	if err := demoAlertTick(ctx, w, problems, now); err != nil {
		return err
	}
	title("seqwatch wait --since " + now.Format(time.RFC3339) + " --app " + dir)
	if err := demoWait(ctx, w, src, now, e); err != nil {
		return err
	}
	title("Next: point seqwatch at your application")
	fmt.Fprintf(w, `  seqwatch status --app /var/www/your-app            # reads /var/www/your-app/.env
  seqwatch check --app /var/www/your-app --max-pending 10 --stuck-after 30m
  seqwatch check --dsn 'pgsql://user:password@db.example:5432/app'
  seqwatch run --config /etc/seqwatch/seqwatch.yaml  # alerts by Slack, email, webhook
  seqwatch deploy --config /etc/seqwatch/seqwatch.yaml -- php artisan sequencer:process --isolated
See docs/configuration.md for the configuration file, docs/deploys.md for deploys and docs/daemon.md for the systemd unit.
`)
	if *keep != "" {
		fmt.Fprintf(w, "\nThe sample application is kept in %s: try  seqwatch status --app %s\n", dir, dir)
	}
	return nil
}

// demoAlertTick runs one alerting tick of the daemon's logic on the
// problems check found, with a fresh in-memory state, and prints the
// alerts on the console channel.
func demoAlertTick(ctx context.Context, w io.Writer, problems check.Problems, now time.Time) error {
	fmt.Fprintf(w, "\n=== one tick of seqwatch run (first run: past failures as one digest), console channel ===\n\n")
	st := state.New()
	events, _ := alerting.Evaluate(st, problems, now, alerting.Policy{})
	if len(events) == 0 {
		fmt.Fprintln(w, "(nothing to alert on)")
		return nil
	}
	_, err := notify.NewConsole(w).Notify(ctx, events)
	return err
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// demoWait shows seqwatch wait on the sample application: an
// asynchronous operation dispatched now, that a queue worker (the demo,
// here) completes three seconds later, in the database, while the wait
// polls. The wait sleeps for real (e.sleep in tests), on its own clock.
func demoWait(ctx context.Context, w io.Writer, src laravel.Source, now time.Time, e env) error {
	const op = "2024_01_17_150000_RecalculateLoyaltyPoints"
	db, err := sql.Open("sqlite", "file:"+src.Conn.Database+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("open the demo database: %w", err)
	}
	defer db.Close()
	at := now.Format(time.DateTime)
	res, err := db.ExecContext(ctx, "insert into operations (name, type, state, executed_at, created_at, updated_at) values (?, 'async', 'pending', ?, ?, ?)", op, at, at, at)
	if err != nil {
		return fmt.Errorf("dispatch the demo's async operation: %w", err)
	}
	id, _ := res.LastInsertId()
	fmt.Fprintf(w, "(sequencer:process dispatched %s to the queue; a worker finishes it in 3 seconds)\n\n", op)

	src.Conn.Timeout = 10 * time.Second
	rdb, err := openForWait(ctx, src)
	if err != nil {
		return err
	}
	defer rdb.Close()
	clock, done := now, false
	sleep := e.sleep
	if sleep == nil {
		sleep = schedule.Sleep
	}
	opt := gate.Options{
		Since: now, Timeout: time.Minute, ReadTimeout: 10 * time.Second, Location: src.Location,
		Now: func() time.Time { return clock },
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := sleep(ctx, d); err != nil {
				return err
			}
			clock = clock.Add(d)
			if !done && !clock.Before(now.Add(3*time.Second)) {
				done = true
				t := clock.Format(time.DateTime)
				if _, err := db.ExecContext(ctx, "update operations set state = 'completed', completed_at = ?, updated_at = ? where id = ?", t, t, id); err != nil {
					return fmt.Errorf("the demo's queue worker: %w", err)
				}
			}
			return nil
		},
	}
	p := gate.NewPrinter(w, useColor(e), e.isTerminal && e.getenv("TERM") != "dumb", check.DefaultAsyncRetryGrace)
	r := gate.Wait(ctx, &gate.DBSource{DB: rdb, App: src, Now: opt.Now}, opt, p)
	v := gate.Verdict(r)
	p.Finish(r, v)
	fmt.Fprintf(w, "(exit status %d: %s; in a deploy, seqwatch deploy runs the command and then this wait)\n", v.Code, v.Status)
	return nil
}
