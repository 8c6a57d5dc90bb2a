package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/state"
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

		{"state file locked", &state.LockedError{Path: "/var/lib/seqwatch/state.json", PID: "42"},
			"state file /var/lib/seqwatch/state.json is in use by another seqwatch (pid 42); stop it first or use another state.path"},
		{"state file owned by another user", &state.OwnerError{Path: "/s.json", UID: 1000, Err: syscall.EPERM},
			"/s.json belongs to uid 1000: operation not permitted; run seqwatch as that user (or as root) to change it"},

		{"address in use", &web.ListenError{Addr: "127.0.0.1:9477", Err: syscall.EADDRINUSE},
			"http.listen: 127.0.0.1:9477 is already in use by another process: stop it, or choose another address with --listen or http.listen"},
		{"privileged port", &web.ListenError{Addr: ":80", Err: syscall.EACCES}, "http.listen: not allowed to listen on :80: use a port above 1023"},
		{"not this host's address", &web.ListenError{Addr: "10.9.9.9:9477", Err: syscall.EADDRNOTAVAIL},
			"http.listen: 10.9.9.9:9477 is not an address of this host: use 127.0.0.1 or one of the host's addresses"},
		{"other listen failure", &web.ListenError{Addr: ":9477", Err: syscall.EINVAL}, "http.listen: cannot listen on :9477: invalid argument"},

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

// TestStateFileErrorsGetTheirAdvice: the state file's own errors, as Load
// returns them, get the advice that goes with them.
func TestStateFileErrorsGetTheirAdvice(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"corrupt", "\x00garbage", "; it records what was already reported, so seqwatch will not start without it: restore it from backup, or move it away to start fresh (past failures will then be reported again as one digest)"},
		{"newer version", `{"version": 99}`, "; upgrade seqwatch or move the file away"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := state.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			_, err = st.Load()
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if got, want := advise(err), err.Error()+tc.want; got != want {
				t.Errorf("advise:\n got %q\nwant %q", got, want)
			}
		})
	}
}
