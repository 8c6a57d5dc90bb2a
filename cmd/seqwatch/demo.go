package main

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/gate"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/render"
)

//go:embed demo_schema.sql
var demoSchema string

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
	if err := writeDemoApp(ctx, dir, now); err != nil {
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
See the README for the configuration file, deploys and the systemd unit.
`)
	if *keep != "" {
		fmt.Fprintf(w, "\nThe sample application is kept in %s: try  seqwatch status --app %s\n", dir, dir)
	}
	return nil
}

// writeDemoApp writes the sample application: .env, operation and
// migration files, and database/database.sqlite with history.
func writeDemoApp(ctx context.Context, dir string, now time.Time) error {
	ops := filepath.Join(dir, "database", "operations")
	migs := filepath.Join(dir, "database", "migrations")
	for _, d := range []string{ops, migs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	env := "APP_NAME=demo-shop\nAPP_ENV=demo\nAPP_TIMEZONE=UTC\nDB_CONNECTION=sqlite\n# DB_DATABASE defaults to database/database.sqlite\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o644); err != nil {
		return fmt.Errorf("write the demo .env: %w", err)
	}
	opFiles := []string{
		"2024_01_10_090000_BackfillUserSlugs", "2024_01_11_100000_SyncStripePlans", "2024_01_12_110000_ReindexSearch",
		"2024_01_13_120000_FailedOperation", "2024_01_14_120000_ImportLegacyOrders", "2024_01_15_130000_NotifyUsers",
		"2024_01_16_140000_PurgeStaleCarts", "2024_01_17_150000_RecalculateLoyaltyPoints",
	}
	for _, n := range opFiles {
		php := fmt.Sprintf("<?php\n\nuse Cline\\Sequencer\\Contracts\\Operation;\n\nreturn new class implements Operation {\n    public function handle(): void {}\n};\n")
		if err := os.WriteFile(filepath.Join(ops, n+".php"), []byte(php), 0o644); err != nil {
			return fmt.Errorf("write demo operation: %w", err)
		}
	}
	// Not an operation: Sequencer ignores files that do not match its pattern.
	_ = os.WriteFile(filepath.Join(ops, "README.md"), []byte("notes\n"), 0o644)
	migFiles := []string{"0001_01_01_000000_create_users_table", "2024_01_01_000000_create_operations_table", "2024_01_18_000000_add_loyalty_tier_to_users"}
	for _, n := range migFiles {
		if err := os.WriteFile(filepath.Join(migs, n+".php"), []byte("<?php\n"), 0o644); err != nil {
			return fmt.Errorf("write demo migration: %w", err)
		}
	}
	dbPath := filepath.Join(dir, "database", "database.sqlite")
	_ = os.Remove(dbPath)
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		return fmt.Errorf("create demo database: %w", err)
	}
	defer db.Close()
	ts := func(d time.Duration) any {
		return now.Add(-d).Format(time.DateTime)
	}
	trace := `#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\Database\Connection->runQueryCallback()
#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\Database\Connection->tryAgainIfCausedByLostConnection()
#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\Database\Connection->select()
#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous->handle()
#4 {main}`
	stmts := []struct {
		q    string
		args []any
	}{
		{q: demoSchema},
		{q: "insert into migrations (migration, batch) values ('0001_01_01_000000_create_users_table', 1), ('2024_01_01_000000_create_operations_table', 1)"},
	}
	op := func(name, typ, state string, exec, done, failed time.Duration) {
		var d, f any
		if done >= 0 {
			d = ts(done)
		}
		if failed >= 0 {
			f = ts(failed)
		}
		stmts = append(stmts, struct {
			q    string
			args []any
		}{"insert into operations (name, type, state, executed_at, completed_at, failed_at, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
			[]any{name, typ, state, ts(exec), d, f, ts(exec), ts(exec)}})
	}
	errRow := func(exc, msg string, at time.Duration) {
		stmts = append(stmts, struct {
			q    string
			args []any
		}{"insert into operation_errors (operation_id, exception, message, trace, context, created_at, updated_at) values ((select max(id) from operations), ?, ?, ?, ?, ?, ?)",
			[]any{exc, msg, trace, `{"file":"/var/www/app/database/operations/op.php","line":21,"code":0}`, ts(at), ts(at)}})
	}
	const day = 24 * time.Hour
	op("2024_01_10_090000_BackfillUserSlugs", "sync", "completed", 9*day, 9*day-5*time.Second, -1)
	op("2024_01_11_100000_SyncStripePlans.php", "async", "completed", 8*day, 8*day-2*time.Minute, -1)
	// Failed, then a retry completed: recovered.
	op("2024_01_12_110000_ReindexSearch", "batch", "failed", 7*day, -1, 7*day-30*time.Second)
	errRow(`Elastic\Transport\Exception\NoNodeAvailableException`, "No alive nodes. All the 1 nodes seem to be down.", 7*day-30*time.Second)
	op("2024_01_12_110000_ReindexSearch", "batch", "completed", 6*day, 6*day-3*time.Minute, -1)
	// Failed twice, never completed: the failure to alert on.
	op("2024_01_13_120000_FailedOperation", "sync", "failed", 2*day, -1, 2*day-5*time.Second)
	errRow("RuntimeException", "Database connection lost", 2*day-5*time.Second)
	op("2024_01_13_120000_FailedOperation", "sync", "failed", 3*time.Hour, -1, 3*time.Hour-4*time.Second)
	errRow(`Illuminate\Database\QueryException`, "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)", 3*time.Hour-4*time.Second)
	// Async, waiting on a queue worker for 2 hours: stuck.
	op("2024_01_14_120000_ImportLegacyOrders", "async", "pending", 2*time.Hour, -1, -1)
	// Just started.
	op("2024_01_15_130000_NotifyUsers", "sync", "pending", 20*time.Second, -1, -1)
	stmts = append(stmts, struct {
		q    string
		args []any
	}{"insert into deferred_operations (operation, payload, due_at, status, attempts, max_attempts, failed_at, last_error, created_at, updated_at) values (?, ?, ?, 'failed', 3, 3, ?, ?, ?, ?)",
		[]any{"2024_01_16_140000_PurgeStaleCarts", "{}", ts(5 * time.Hour), ts(4 * time.Hour), "Redis connection refused [tcp://127.0.0.1:6379]", ts(5 * time.Hour), ts(4 * time.Hour)}})
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("fill demo database (%s): %w", strings.Fields(s.q)[0], err)
		}
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
		sleep = sleepTimer
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
