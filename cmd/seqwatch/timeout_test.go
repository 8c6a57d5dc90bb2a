package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
)

// lockingApp is an application on a fresh database of a real server of
// dialect d, with one completed operation, and a lock held on its
// operations table by another session until the test ends (as a deploy's
// ALTER TABLE holds it). It returns the application directory and the
// database's URL.
func lockingApp(t *testing.T, d dbtest.Dialect) (string, string) {
	t.Helper()
	srv := dbtest.NewServer(t, d)
	db := srv.NewDatabase(t)
	dbtest.CreateSchema(t, db, dbtest.Schema{})
	app := t.TempDir()
	dbtest.WriteApp(t, app, db, dbtest.AppFiles{Operations: []string{"2024_01_15_130000_NotifyUsers"}})
	db.InsertOps(t, dbtest.Schema{}, dbtest.Op{Name: "2024_01_15_130000_NotifyUsers", ExecutedAt: "2024-01-15 13:00:00", CompletedAt: "2024-01-15 13:00:05"})

	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	switch d {
	case dbtest.Postgres:
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "LOCK TABLE operations IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tx.Rollback(); conn.Close() })
	case dbtest.MySQL:
		if _, err := conn.ExecContext(ctx, "LOCK TABLES operations WRITE"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.ExecContext(ctx, "UNLOCK TABLES"); conn.Close() })
	}
	return app, db.URL
}

// A locked table ends check in UNKNOWN within -t, saying what it waited
// on, well before a monitoring system's own timeout; status says the same
// on standard error.
func TestCheckGivesUpOnALockedTableWithinTheTimeout(t *testing.T) {
	for _, tc := range []struct {
		d    dbtest.Dialect
		want string
	}{
		{dbtest.Postgres, "SEQWATCH UNKNOWN - operations table is locked (waited 1.6s) in PostgreSQL at "},
		{dbtest.MySQL, "SEQWATCH UNKNOWN - operations table is locked (waited 1s) in MySQL at "},
		// SQLite locks the whole file.
		{dbtest.SQLite, "SEQWATCH UNKNOWN - SQLite database "},
	} {
		d := tc.d
		t.Run(string(d), func(t *testing.T) {
			var app string
			if d == dbtest.SQLite {
				app = lockedSQLiteApp(t)
			} else {
				app, _ = lockingApp(t, d)
			}
			start := time.Now()
			r := runCmd(t, nil, "check", "--app", app, "-t", "2s")
			took := time.Since(start)
			t.Logf("check -t 2s took %v: %s", took.Round(time.Millisecond), r.stdout)
			if r.code != 3 {
				t.Errorf("exit %d, want 3 (UNKNOWN)\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, tc.want) || !strings.Contains(r.stdout, "locked (waited") || strings.Count(r.stdout, "\n") != 1 {
				t.Errorf("want one line starting %q saying what is locked, got %q", tc.want, r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("stderr: %q", r.stderr)
			}
			if took > 3*time.Second {
				t.Errorf("check -t 2s took %v", took.Round(time.Millisecond))
			}

			if d == dbtest.SQLite {
				return // status reads the same way; once is enough for SQLite
			}
			start = time.Now()
			r = runCmd(t, nil, "status", "--app", app, "--timeout", "2s")
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("status --timeout 2s took %v", took.Round(time.Millisecond))
			}
			if r.code != 1 || !strings.Contains(r.stderr, "operations table is locked") {
				t.Errorf("status: exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}

// lockedSQLiteApp is the sample application with its SQLite file locked
// by another connection in an exclusive transaction (as a writer holds it
// while it commits) until the test ends.
func lockedSQLiteApp(t *testing.T) string {
	t.Helper()
	app := demoApp(t)
	db, err := sql.Open("sqlite", filepath.Join(app, "database", "database.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.ExecContext(ctx, "ROLLBACK"); conn.Close(); db.Close() })
	return app
}

// silentPeer listens on loopback and accepts connections that it never
// answers (or, with hangUp, closes at once), standing in for a wedged
// database server. It returns the port.
func silentPeer(t *testing.T, hangUp bool) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if hangUp {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// A server that accepts the connection and never answers ends check in
// UNKNOWN within -t, and no library writes to standard error. This runs the
// binary, so that anything a driver writes to the process's standard error
// is seen.
func TestCheckGivesUpOnAServerThatNeverAnswers(t *testing.T) {
	// A peer that hangs up may be seen closing (EOF) or resetting the
	// connection, depending on whether the client was writing.
	hungUp := []string{"the server closed the connection", "the connection was reset"}
	for _, tc := range []struct {
		scheme string
		hangUp bool
		want   []string // one of
	}{
		{"mysql", false, []string{"did not answer within 1.5s"}},
		{"pgsql", false, []string{"did not answer within 1.5s"}},
		// The MySQL driver only logs why a connection broke and returns
		// "invalid connection"; the cause must reach the message.
		{"mysql", true, hungUp},
		{"pgsql", true, hungUp},
	} {
		name := tc.scheme + "_silent"
		if tc.hangUp {
			name = tc.scheme + "_hangs_up"
		}
		t.Run(name, func(t *testing.T) {
			port := silentPeer(t, tc.hangUp)
			dsn := fmt.Sprintf("%s://seqwatch:hunter2-Sekr3t@127.0.0.1:%d/shop", tc.scheme, port)
			buildBinary(t) // before the clock starts
			start := time.Now()
			r := runSeqwatch(t, "check", "--dsn", dsn, "-t", "1.5s")
			took := time.Since(start)
			t.Logf("check -t 1.5s took %v: %s", took.Round(time.Millisecond), r.stdout)
			if r.code != 3 {
				t.Errorf("exit %d, want 3", r.code)
			}
			if !strings.HasPrefix(r.stdout, "SEQWATCH UNKNOWN - ") || strings.Count(r.stdout, "\n") != 1 ||
				!slices.ContainsFunc(tc.want, func(w string) bool { return strings.Contains(r.stdout, w) }) {
				t.Errorf("stdout %q, want one UNKNOWN line containing one of %q", r.stdout, tc.want)
			}
			if r.stderr != "" {
				t.Errorf("something wrote to standard error: %q", r.stderr)
			}
			if strings.Contains(r.stdout, "hunter2-Sekr3t") {
				t.Error("the password was printed")
			}
			// Process start and the build cache are outside the budget.
			if took > 2500*time.Millisecond {
				t.Errorf("check -t 1.5s took %v", took.Round(time.Millisecond))
			}
		})
	}
}

// A mistake on check's command line is one UNKNOWN line on standard
// output and nothing on standard error: Icinga 2 adds standard error to
// the plugin output, and Nagios takes what follows a '|' as performance
// data.
func TestCheckUsageErrorsAreOneUnknownLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"word for a number", []string{"--max-pending", "ten"}, `flag -max-pending must be a whole number (got "ten")`},
		{"unknown flag", []string{"--max-pendin", "10"}, "unknown flag -max-pendin (seqwatch check -h lists the flags)"},
		{"extra argument", []string{"--app", "/srv/shop", "now"}, `unexpected argument "now": seqwatch check takes only flags`},
		{"missing value", []string{"--app"}, "flag -app needs a value"},
		{"bad duration", []string{"--stuck-after", "soon"}, `flag -stuck-after must be a duration such as 30s, 10m or 1h (got "soon")`},
		{"zero timeout", []string{"-t", "0s"}, "-t must be a positive duration such as 10s (got 0s)"},
		{"negative timeout", []string{"--timeout", "-5s"}, "-timeout must be a positive duration"},
		{"pipe in a value", []string{"--max-pending", "1|warn=1"}, `(got "1 warn=1")`},
		{"negative max-pending", []string{"--max-pending", "-1"}, "--max-pending must be 0 (off) or more (got -1)"},
		{"negative stuck-after", []string{"--stuck-after", "-5m"}, "--stuck-after must be 0 (off) or a positive duration such as 30m (got -5m0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, append([]string{"check"}, tc.args...)...)
			if r.code != 3 {
				t.Errorf("exit %d, want 3", r.code)
			}
			if r.stderr != "" {
				t.Errorf("stderr is not empty: %q", r.stderr)
			}
			line, rest, _ := strings.Cut(r.stdout, "\n")
			if rest != "" || !strings.HasPrefix(line, "SEQWATCH UNKNOWN - usage: ") || strings.Contains(line, "|") {
				t.Errorf("stdout is not one UNKNOWN line without '|': %q", r.stdout)
			}
			mustContain(t, "check output", line, tc.want)
		})
	}

	t.Run("help only with -h", func(t *testing.T) {
		r := runCmd(t, nil, "check", "-h")
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "Usage: seqwatch check") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("json before the mistake", func(t *testing.T) {
		r := runCmd(t, nil, "check", "--json", "--bogus")
		if r.code != 3 || r.stderr != "" || !strings.Contains(r.stdout, `"status": "UNKNOWN"`) || !strings.Contains(r.stdout, "unknown flag -bogus") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	// The other commands keep the usual convention: the mistake and the
	// help on standard error, exit 2.
	t.Run("status keeps stderr and exit 2", func(t *testing.T) {
		r := runCmd(t, nil, "status", "-t", "0")
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "seqwatch status: -t must be a positive duration") || !strings.Contains(r.stderr, "Usage: seqwatch status") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}

// With the server's lock limit (or all its limits) turned off in the URL,
// the statement limit (or the client's deadline) still ends the wait within
// -t, and the message says what was waited on.
func TestCheckOtherLimitsEndAWaitTheServerWouldNot(t *testing.T) {
	for _, tc := range []struct {
		name, params, want string
	}{
		{"statement timeout", "lock_timeout=0", `"operations" in PostgreSQL at `},
		{"client deadline", "lock_timeout=0&statement_timeout=0", "did not answer within 2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, url := lockingApp(t, dbtest.Postgres)
			sep := "?"
			if strings.Contains(url, "?") {
				sep = "&"
			}
			start := time.Now()
			r := runCmd(t, nil, "check", "--app", app, "--dsn", url+sep+tc.params, "-t", "2s")
			took := time.Since(start)
			t.Logf("check -t 2s took %v: %s", took.Round(time.Millisecond), r.stdout)
			if r.code != 3 || !strings.HasPrefix(r.stdout, "SEQWATCH UNKNOWN - ") || !strings.Contains(r.stdout, tc.want) {
				t.Errorf("exit %d, stdout %q, want UNKNOWN with %q", r.code, r.stdout, tc.want)
			}
			if tc.name == "statement timeout" && !strings.Contains(r.stdout, "took longer than 1.8s, the statement timeout seqwatch set") {
				t.Errorf("stdout %q does not name the statement timeout", r.stdout)
			}
			if took > 3*time.Second {
				t.Errorf("check -t 2s took %v", took.Round(time.Millisecond))
			}
		})
	}
}
