package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/seqwatch/seqwatch/check"
)

// TestEachLibraryErrorGetsItsAdvice: advise appends to each typed error of
// the library packages the remedy for how seqwatch was run, also when the
// error arrives wrapped.
func TestEachLibraryErrorGetsItsAdvice(t *testing.T) {
	cfgErr := func(r check.Reason, msg string) error { return &check.ConfigError{Reason: r, Err: errors.New(msg)} }
	// A SourceError's message is check's own; only the advice is compared.
	srcErr := func(r check.Reason) error { return &check.SourceError{Reason: r} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no .env", cfgErr(check.NoEnvFile, "/app/.env does not exist"),
			"/app/.env does not exist: point --app at the Laravel application root (the directory holding .env), or give the database with --dsn"},
		{"no application", cfgErr(check.NoApplication, "no application given"),
			"no application given: use --app DIR (a Laravel application root), --dsn URL, or --config FILE"},
		{"unknown time zone", cfgErr(check.UnknownTimezone, `unknown time zone "Mars"`),
			`unknown time zone "Mars" (from APP_TIMEZONE or database.timezone): use an IANA name such as UTC or Europe/Berlin`},
		{"no driver", cfgErr(check.NoDriver, "no database driver"),
			"no database driver: set DB_CONNECTION in .env or give a URL such as pgsql://user:pass@host:5432/db"},
		{"unreadable files", cfgErr(check.UnreadableFiles, "read directory /app/database/operations: permission denied"),
			"read directory /app/database/operations: permission denied (seqwatch needs read access to the application's operation and migration files)"},
		{"other configuration mistake", cfgErr(check.OtherReason, `DB_PORT "x" is not a port number`), `DB_PORT "x" is not a port number`},

		{"not answering", srcErr(check.NotAnswering), ": check that the server is up, reachable and not overloaded"},
		{"startup parameter refused", srcErr(check.StartupParameterRefused),
			": if this is PgBouncer, add statement_timeout and lock_timeout to its ignore_startup_parameters"},
		{"login refused", srcErr(check.LoginRefused), "; check DB_USERNAME and DB_PASSWORD (or the URL's user and password)"},
		{"no such database", srcErr(check.NoSuchDatabase), "; check DB_DATABASE"},
		{"connection refused", srcErr(check.ConnectionRefused), "; is the server running, and are DB_HOST and DB_PORT right?"},
		{"host not found", srcErr(check.HostNotFound), "; check DB_HOST"},
		{"connect timeout", srcErr(check.ConnectTimeout), "; check DB_HOST, DB_PORT and any firewall"},
		{"no SQLite file", srcErr(check.NoSQLiteFile), ": check DB_DATABASE (relative paths are taken from the application root)"},
		{"other source failure", srcErr(check.OtherReason), ""},

		{"tables missing", &check.SchemaError{Missing: []string{"operations"}, Where: "SQLite database /app/db.sqlite"},
			"table operations not found in SQLite database /app/db.sqlite: has Sequencer been installed and have its migrations run (php artisan migrate)? If the tables have other names, set SEQUENCER_*_TABLE in .env or tables: in seqwatch.yaml"},

		{"not a library error", errors.New("boom"), "boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := advise(tc.err); got != tc.want {
				t.Errorf("advise:\n got %q\nwant %q", got, tc.want)
			}
			// Wrapped, the advice still comes, after the whole message.
			wrapped := fmt.Errorf("while starting: %w", tc.err)
			if got, want := advise(wrapped), "while starting: "+tc.want; got != want {
				t.Errorf("advise, wrapped:\n got %q\nwant %q", got, want)
			}
			// advised carries the advice and still matches the error.
			if got := advised(tc.err); got.Error() != tc.want || !errors.Is(got, tc.err) {
				t.Errorf("advised = %q (matches the error: %v)", got, errors.Is(got, tc.err))
			}
		})
	}
	if advise(nil) != "" || advised(nil) != nil {
		t.Error("nil is not passed through")
	}
}
