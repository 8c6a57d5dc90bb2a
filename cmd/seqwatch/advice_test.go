package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/state"
)

// TestEachLibraryErrorGetsItsAdvice: advise appends to each typed error of
// the library packages the remedy for how seqwatch was run, also when the
// error arrives wrapped.
func TestEachLibraryErrorGetsItsAdvice(t *testing.T) {
	cfgErr := func(r check.Reason, msg string) error { return &check.ConfigError{Reason: r, Err: errors.New(msg)} }
	// A SourceError's message is check's own; only the advice is compared.
	srcErr := func(r check.Reason, fromURL bool) error { return &reader.SourceError{Reason: r, FromURL: fromURL} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no .env, flags", cfgErr(check.NoEnvFile, "/app/.env does not exist"),
			"/app/.env does not exist: point --app at the Laravel application root (the directory holding .env), or give the database with --dsn"},
		{"no .env, configuration file", fromFile(cfgErr(check.NoEnvFile, "/app/.env does not exist")),
			"/app/.env does not exist: point app in the configuration file at the Laravel application root (the directory holding .env), or set database.url"},
		{"no application, flags", cfgErr(check.NoApplication, "no application given"),
			"no application given: use --app DIR (a Laravel application root), --dsn URL, or --config FILE"},
		{"no application, configuration file", fromFile(cfgErr(check.NoApplication, "no application given")),
			"no application given: set app (the Laravel application root) or database.url in the configuration file"},
		{"unknown time zone, flags", cfgErr(check.UnknownTimezone, `unknown time zone "Mars"`),
			`unknown time zone "Mars" (from APP_TIMEZONE or --timezone): use an IANA name such as UTC or Europe/Berlin`},
		{"unknown time zone, configuration file", fromFile(cfgErr(check.UnknownTimezone, `unknown time zone "Mars"`)),
			`unknown time zone "Mars" (from APP_TIMEZONE or database.timezone): use an IANA name such as UTC or Europe/Berlin`},
		{"no driver", cfgErr(check.NoDriver, "no database driver"),
			"no database driver: set DB_CONNECTION in .env or give a URL such as pgsql://user:pass@host:5432/db"},
		{"unreadable files", cfgErr(check.UnreadableFiles, "read directory /app/database/operations: permission denied"),
			"read directory /app/database/operations: permission denied (seqwatch needs read access to the application's operation and migration files)"},
		{"other configuration mistake", cfgErr(check.OtherReason, `DB_PORT "x" is not a port number`), `DB_PORT "x" is not a port number`},

		{"not answering", srcErr(check.NotAnswering, false), ": check that the server is up, reachable and not overloaded"},
		{"startup parameter refused", srcErr(check.StartupParameterRefused, false),
			": if this is PgBouncer, add statement_timeout and lock_timeout to its ignore_startup_parameters"},
		{"login refused", srcErr(check.LoginRefused, false), "; check DB_USERNAME and DB_PASSWORD (or the URL's user and password)"},
		{"login refused, URL", srcErr(check.LoginRefused, true), "; check DB_USERNAME and DB_PASSWORD (or the URL's user and password)"},
		{"no such database", srcErr(check.NoSuchDatabase, false), "; check DB_DATABASE"},
		{"no such database, URL", srcErr(check.NoSuchDatabase, true), "; check the database name in the database URL"},
		{"connection refused", srcErr(check.ConnectionRefused, false), "; is the server running, and are DB_HOST and DB_PORT right?"},
		{"connection refused, URL", srcErr(check.ConnectionRefused, true), "; is the server running, and are the database URL's host and port right?"},
		{"host not found", srcErr(check.HostNotFound, false), "; check DB_HOST"},
		{"host not found, URL", srcErr(check.HostNotFound, true), "; check the host in the database URL"},
		{"connect timeout", srcErr(check.ConnectTimeout, false), "; check DB_HOST, DB_PORT and any firewall"},
		{"connect timeout, URL", srcErr(check.ConnectTimeout, true), "; check the host and port in the database URL, and any firewall"},
		{"no SQLite file", srcErr(check.NoSQLiteFile, false), ": check DB_DATABASE (relative paths are taken from the application root)"},
		{"no SQLite file, URL", srcErr(check.NoSQLiteFile, true), ": check the path in the database URL"},
		{"other source failure", srcErr(check.OtherReason, false), ""},

		{"tables missing", &reader.SchemaError{Missing: []string{"operations"}, Where: "SQLite database /app/db.sqlite"},
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
	if advise(nil) != "" || advised(nil) != nil || fromFile(nil) != nil {
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

// TestAdviceFitsTheCommand: a mistake in where the application is gets
// advice in the terms the user gave it in: flags for status and check run
// with flags, the configuration file's keys for the daemon and for
// --config alone; .env's variables for a connection from .env, the URL's
// parts for one given as a URL.
func TestAdviceFitsTheCommand(t *testing.T) {
	dir := t.TempDir()
	noEnv := filepath.Join(dir, "noenv")
	if err := os.MkdirAll(noEnv, 0o755); err != nil {
		t.Fatal(err)
	}
	badTZ := filepath.Join(dir, "badtz")
	os.MkdirAll(badTZ, 0o755)
	os.WriteFile(filepath.Join(badTZ, ".env"), []byte("DB_CONNECTION=sqlite\nAPP_TIMEZONE=Mars/Olympus\n"), 0o644)
	cfg := filepath.Join(dir, "seqwatch.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("app: %s\nstate:\n  path: %s\n", noEnv, filepath.Join(dir, "state.json"))), 0o644)
	noApp := filepath.Join(dir, "noapp.yaml")
	os.WriteFile(noApp, []byte("name: shop\n"), 0o644)
	tzCfg := filepath.Join(dir, "tz.yaml")
	os.WriteFile(tzCfg, []byte(fmt.Sprintf("app: %s\n", badTZ)), 0o644)

	const fileAdvice = ".env does not exist: point app in the configuration file at the Laravel application root (the directory holding .env), or set database.url"
	const flagAdvice = ".env does not exist: point --app at the Laravel application root (the directory holding .env), or give the database with --dsn"
	tests := []struct {
		name    string
		args    []string
		code    int
		out     string // stdout for check, stderr for the others
		want    string
		notWant []string
	}{
		{"status with --app", []string{"status", "--app", noEnv}, 1, "stderr", flagAdvice, nil},
		{"check with --app", []string{"check", "--app", noEnv}, 3, "stdout", "SEQWATCH UNKNOWN - configuration: " + noEnv + "/" + flagAdvice, nil},
		{"status with --config", []string{"status", "--config", cfg}, 1, "stderr", fileAdvice, []string{"--app", "--dsn"}},
		{"check with --config", []string{"check", "--config", cfg}, 3, "stdout", "SEQWATCH UNKNOWN - configuration: " + noEnv + "/" + fileAdvice, []string{"--app", "--dsn"}},
		{"--config overridden by --app", []string{"status", "--config", cfg, "--app", noEnv}, 1, "stderr", flagAdvice, nil},
		{"the daemon", []string{"run", "--once", "--config", cfg}, 1, "stderr", fileAdvice, []string{"--app", "--dsn"}},
		{"check with nothing", []string{"check"}, 3, "stdout", "no application given: use --app DIR (a Laravel application root), --dsn URL, or --config FILE", nil},
		{"check with a file that names no application", []string{"check", "--config", noApp}, 3, "stdout",
			"no application given: set app (the Laravel application root) or database.url in the configuration file", []string{"--app", "--dsn"}},
		{"time zone with flags", []string{"status", "--app", badTZ}, 1, "stderr",
			`unknown time zone "Mars/Olympus" (from APP_TIMEZONE or --timezone): use an IANA name such as UTC or Europe/Berlin`, []string{"database.timezone"}},
		{"time zone with --config", []string{"status", "--config", tzCfg}, 1, "stderr",
			`unknown time zone "Mars/Olympus" (from APP_TIMEZONE or database.timezone): use an IANA name such as UTC or Europe/Berlin`, []string{"--timezone"}},
		{"SQLite file from .env", []string{"status", "--app", badTZ, "--timezone", "UTC"}, 1, "stderr",
			"database.sqlite does not exist: check DB_DATABASE (relative paths are taken from the application root)", nil},
		{"SQLite file from --dsn", []string{"status", "--dsn", "sqlite:///nonexistent/db.sqlite"}, 1, "stderr",
			"SQLite database /nonexistent/db.sqlite does not exist: check the path in the database URL", []string{"DB_DATABASE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", r.code, tc.code, r.stdout, r.stderr)
			}
			got := r.stderr
			if tc.out == "stdout" {
				got = r.stdout
			}
			mustContain(t, tc.out, got, tc.want)
			for _, n := range tc.notWant {
				if strings.Contains(got, n) {
					t.Errorf("%s names %q, which does not fit the command:\n%s", tc.out, n, got)
				}
			}
		})
	}
}
