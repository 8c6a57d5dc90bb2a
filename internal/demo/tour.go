package demo

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/gate"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/pause"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// Tour is seqwatch demo: it writes the sample application into Dir, then
// shows on it what seqwatch status, seqwatch check, one tick of the
// alerting daemon and seqwatch wait say, and how to point seqwatch at a
// real application.
type Tour struct {
	// Dir is where the sample application is written and kept ("": a
	// temporary directory, removed after the tour).
	Dir string
	// Now is the end of the sample history, and the wait's start.
	Now time.Time
	Out io.Writer
	// Color and StatusLine are the wait's output on a terminal.
	Color, StatusLine bool
	// Sleep is the wait's pause between polls (nil: a timer); the wait's
	// own clock moves on by what it slept.
	Sleep func(ctx context.Context, d time.Duration) error
	// Status draws `seqwatch status -v` of src on w and returns the
	// snapshot it read: the status command's own drawing.
	Status func(ctx context.Context, w io.Writer, src laravel.Source, now time.Time) (*check.Snapshot, error)
}

// Run runs the tour.
func (t Tour) Run(ctx context.Context) error {
	kept := t.Dir != ""
	if !kept {
		tmp, err := os.MkdirTemp("", "seqwatch-demo-")
		if err != nil {
			return fmt.Errorf("create a temporary directory for the demo: %w", err)
		}
		defer os.RemoveAll(tmp)
		t.Dir = tmp
	}
	if err := WriteApp(ctx, t.Dir, t.Now); err != nil {
		return err
	}
	src, err := laravel.Resolve(laravel.Settings{AppDir: t.Dir, Name: "demo-shop"})
	if err != nil {
		return err
	}
	w := t.Out
	title := func(s string) { fmt.Fprintf(w, "\n=== %s ===\n\n", s) }
	fmt.Fprintf(w, "seqwatch demo: a sample Laravel application with Sequencer's tables in SQLite at\n  %s\n", t.Dir)
	title("seqwatch status -v --app " + t.Dir)
	snap, err := t.Status(ctx, w, src, t.Now)
	if err != nil {
		return err
	}
	th := check.DefaultThresholds()
	th.MaxPending, th.StuckAfter = 10, 30*time.Minute
	title("seqwatch check --max-pending 10 --stuck-after 30m --app " + t.Dir)
	problems := check.Assess(snap, th)
	v := problems.Verdict()
	fmt.Fprintln(w, v.Line())
	fmt.Fprintf(w, "(exit status %d: %s)\n", v.Code, v.Status)
	title("one tick of seqwatch run (first run: past failures as one digest), console channel")
	if err := alertTick(ctx, w, problems, t.Now); err != nil {
		return err
	}
	title("seqwatch wait --since " + t.Now.Format(time.RFC3339) + " --app " + t.Dir)
	if err := t.wait(ctx, src); err != nil {
		return err
	}
	title("Next: point seqwatch at your application")
	fmt.Fprint(w, `  seqwatch status --app /var/www/your-app            # reads /var/www/your-app/.env
  seqwatch check --app /var/www/your-app --max-pending 10 --stuck-after 30m
  seqwatch check --dsn 'pgsql://user:password@db.example:5432/app'
  seqwatch run --config /etc/seqwatch/seqwatch.yaml  # alerts by Slack, email, webhook
  seqwatch deploy --config /etc/seqwatch/seqwatch.yaml -- php artisan sequencer:process --isolated
See docs/configuration.md for the configuration file, docs/deploys.md for deploys and docs/daemon.md for the systemd unit.
`)
	if kept {
		fmt.Fprintf(w, "\nThe sample application is kept in %s: try  seqwatch status --app %s\n", t.Dir, t.Dir)
	}
	return nil
}

// alertTick runs one alerting tick of the daemon's logic on the problems
// check found, with a fresh in-memory state, and prints the alerts on the
// console channel.
func alertTick(ctx context.Context, w io.Writer, problems check.Problems, now time.Time) error {
	events, _ := alerting.Evaluate(state.New(), problems, now, alerting.Policy{})
	if len(events) == 0 {
		fmt.Fprintln(w, "(nothing to alert on)")
		return nil
	}
	_, err := notify.NewConsole(w).Notify(ctx, events)
	return err
}

// wait shows seqwatch wait on the sample application: an asynchronous
// operation dispatched now, that a queue worker (the demo, here)
// completes three seconds later, in the database, while the wait polls.
// The wait sleeps for real (t.Sleep), on its own clock.
func (t Tour) wait(ctx context.Context, src laravel.Source) error {
	const op = "2024_01_17_150000_RecalculateLoyaltyPoints"
	db, err := sql.Open("sqlite", "file:"+src.Conn.Database+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("open the demo database: %w", err)
	}
	defer db.Close()
	at := t.Now.Format(time.DateTime)
	res, err := db.ExecContext(ctx, "insert into operations (name, type, state, executed_at, created_at, updated_at) values (?, 'async', 'pending', ?, ?, ?)", op, at, at, at)
	if err != nil {
		return fmt.Errorf("dispatch the demo's async operation: %w", err)
	}
	id, _ := res.LastInsertId()
	fmt.Fprintf(t.Out, "(sequencer:process dispatched %s to the queue; a worker finishes it in 3 seconds)\n\n", op)

	src.Conn.Timeout = 10 * time.Second
	clock, done := t.Now, false
	now := func() time.Time { return clock }
	rdb, err := gate.Open(ctx, src, now)
	if err != nil {
		return err
	}
	defer rdb.Close()
	sleep := t.Sleep
	if sleep == nil {
		sleep = pause.For
	}
	opt := gate.Options{
		Since: t.Now, Timeout: time.Minute, ReadTimeout: 10 * time.Second, Location: src.Location, Now: now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := sleep(ctx, d); err != nil {
				return err
			}
			clock = clock.Add(d)
			if !done && !clock.Before(t.Now.Add(3*time.Second)) {
				done = true
				at := clock.Format(time.DateTime)
				if _, err := db.ExecContext(ctx, "update operations set state = 'completed', completed_at = ?, updated_at = ? where id = ?", at, at, id); err != nil {
					return fmt.Errorf("the demo's queue worker: %w", err)
				}
			}
			return nil
		},
	}
	p := gate.NewPrinter(t.Out, t.Color, t.StatusLine, check.DefaultAsyncRetryGrace)
	r := gate.Wait(ctx, rdb, opt, p)
	v := gate.Verdict(r)
	p.Finish(r, v)
	fmt.Fprintf(t.Out, "(exit status %d: %s; in a deploy, seqwatch deploy runs the command and then this wait)\n", v.Code, v.Status)
	return nil
}
