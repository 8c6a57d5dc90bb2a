// Package demo is seqwatch demo: the sample application, which the tests
// use too (WriteApp: a Laravel application with Sequencer's tables in
// SQLite holding a realistic mix of completed, failed,
// failed-then-recovered, in-progress and pending operations and an
// exhausted deferred one), and the tour of the stages on it (Tour: the
// status its caller draws, check's rules, one alerting tick on the
// console, the gate's wait while the demo plays the queue worker).
//
// It may import check, internal/laravel, internal/gate,
// internal/alerting, state (a fresh in-memory state) and the notify core
// (the console channel); not internal/config, internal/statestore, the
// daemon, any other channel or cmd (internal/layering holds it to that).
package demo

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

//go:embed schema.sql
var schema string

// WriteApp writes the sample application into dir: its .env, operation
// and migration files, and database/database.sqlite with a history
// ending at now.
func WriteApp(ctx context.Context, dir string, now time.Time) error {
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
		{q: schema},
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
