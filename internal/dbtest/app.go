package dbtest

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// AppFiles describes the Laravel application WriteApp writes.
type AppFiles struct {
	// Operations and Migrations are file base names, with or without
	// ".php" (e.g. "2024_01_15_130000_NotifyUsers"), written to
	// database/operations and database/migrations.
	Operations, Migrations []string
	// Timezone sets APP_TIMEZONE; empty leaves it out (Laravel: UTC).
	Timezone string
	// ExtraEnv adds .env entries, or replaces the ones WriteApp writes.
	ExtraEnv map[string]string
	// Contents gives some operation files (by base name, without ".php")
	// a content of their own instead of OperationPHP, such as
	// ScheduledPHP.
	Contents map[string]string
}

// OperationPHP is the content of operation files WriteApp writes.
const OperationPHP = `<?php

declare(strict_types=1);

use Cline\Sequencer\Contracts\Operation;

return new class() implements Operation
{
    public function handle(): void
    {
        //
    }
};
`

// MigrationPHP is the content of migration files WriteApp writes.
const MigrationPHP = `<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

return new class extends Migration
{
    public function up(): void
    {
        //
    }
};
`

// WriteApp writes a Laravel application skeleton to dir: artisan,
// composer.json, a .env whose DB_* settings point at db (nil: no database
// settings), and the operation and migration files.
func WriteApp(t testing.TB, dir string, db *DB, files AppFiles) {
	t.Helper()
	env := map[string]string{
		"APP_NAME": "SeqwatchTest",
		"APP_ENV":  "testing",
	}
	order := []string{"APP_NAME", "APP_ENV"}
	if files.Timezone != "" {
		env["APP_TIMEZONE"] = files.Timezone
		order = append(order, "APP_TIMEZONE")
	}
	if db != nil {
		env["DB_CONNECTION"] = string(db.Dialect)
		order = append(order, "DB_CONNECTION")
		if db.Dialect == SQLite {
			env["DB_DATABASE"] = db.Path
			order = append(order, "DB_DATABASE")
		} else {
			env["DB_HOST"] = db.Host
			env["DB_PORT"] = strconv.Itoa(db.Port)
			env["DB_DATABASE"] = db.Database
			env["DB_USERNAME"] = db.Username
			env["DB_PASSWORD"] = db.Password
			order = append(order, "DB_HOST", "DB_PORT", "DB_DATABASE", "DB_USERNAME", "DB_PASSWORD")
		}
	}
	var extra []string
	for k := range files.ExtraEnv {
		if _, ok := env[k]; !ok {
			extra = append(extra, k)
		}
		env[k] = files.ExtraEnv[k]
	}
	sort.Strings(extra)
	order = append(order, extra...)

	var b strings.Builder
	for _, k := range order {
		b.WriteString(k + "=" + envValue(env[k]) + "\n")
	}
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("dbtest: WriteApp: %v", err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatalf("dbtest: WriteApp: %v", err)
		}
	}
	write(".env", b.String(), 0o600)
	write("artisan", "#!/usr/bin/env php\n<?php\n// Laravel's console entry point (stub).\n", 0o755)
	write("composer.json", `{
    "name": "laravel/laravel",
    "require": {
        "php": "^8.4",
        "laravel/framework": "^11.0",
        "cline/sequencer": "^1.0"
    }
}
`, 0o644)
	// The directories exist even when empty, as in a real application.
	for _, d := range []string{"database/operations", "database/migrations"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatalf("dbtest: WriteApp: %v", err)
		}
	}
	for _, n := range files.Operations {
		content := OperationPHP
		if c, ok := files.Contents[strings.TrimSuffix(n, ".php")]; ok {
			content = c
		}
		write(filepath.Join("database", "operations", phpName(n)), content, 0o644)
	}
	for _, n := range files.Migrations {
		write(filepath.Join("database", "migrations", phpName(n)), MigrationPHP, 0o644)
	}
}

func phpName(n string) string {
	if strings.HasSuffix(n, ".php") {
		return n
	}
	return n + ".php"
}

// envValue quotes a .env value when dotenv parsers would otherwise change
// it (spaces, #, quotes, $ references, empty).
func envValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t#\"'$\\\n\r=") {
		return v
	}
	// Single quotes: no escapes and no ${VAR} expansion, so the value is
	// taken literally, except that it cannot contain ' or a newline.
	if !strings.ContainsAny(v, "'\n\r") {
		return "'" + v + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "$", `\$`)
	return `"` + r.Replace(v) + `"`
}
