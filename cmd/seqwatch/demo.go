package main

import (
	"context"
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
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/render"
)

const demoHelp = `Usage: seqwatch demo [--keep DIR]

Builds a throwaway Laravel application with Sequencer's tables in SQLite
(no server needed) holding a realistic mix of completed, failed,
failed-then-recovered, in-progress and pending operations, then runs
"seqwatch status", "seqwatch check" and one alerting tick (printed on the
console) against it, and says how to point seqwatch at a real application.

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
	snap, err := printStatus(ctx, w, src, now, render.StatusOptions{Verbose: true, Color: useColor(e)}, false)
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
	title("Next: point seqwatch at your application")
	fmt.Fprintf(w, `  seqwatch status --app /var/www/your-app            # reads /var/www/your-app/.env
  seqwatch check --app /var/www/your-app --max-pending 10 --stuck-after 30m
  seqwatch check --dsn 'pgsql://user:password@db.example:5432/app'
  seqwatch run --config /etc/seqwatch/seqwatch.yaml  # alerts by Slack, email, webhook
See the README for the configuration file and the systemd unit.
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
