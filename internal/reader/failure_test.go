package reader_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// closedPort returns a TCP port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestFailureModes: each way of not being able to read an application
// gives the right kind of error, naming what matters, without the password.
func TestFailureModes(t *testing.T) {
	type failCase struct {
		name    string
		dialect []dbtest.Dialect // nil: all
		schema  dbtest.Schema
		// env overrides .env entries; the value "{port}" is replaced by a
		// closed port.
		env map[string]string
		// setup may change the application directory.
		setup func(t *testing.T, a *app)
		kind  string
		// want are fragments of the message; {port}, {user} and {db} are
		// replaced.
		want []string
		// reason is the ConfigError's or SourceError's Reason.
		reason check.Reason
	}
	servers := []dbtest.Dialect{dbtest.Postgres, dbtest.MySQL}
	cases := []failCase{
		{name: "unreachable_port", dialect: servers, env: map[string]string{"DB_PORT": "{port}", "DB_PASSWORD": secret},
			kind: "source", want: []string{"127.0.0.1:{port}", "connection refused"}, reason: check.ConnectionRefused},
		{name: "wrong_password", dialect: servers, env: map[string]string{"DB_PASSWORD": secret},
			kind: "source", want: []string{"refused the login", `user "{user}"`, "127.0.0.1"}, reason: check.LoginRefused},
		{name: "wrong_password_in_db_url", dialect: servers, env: map[string]string{"DB_URL": "{url_with_secret}"},
			kind: "source", want: []string{"refused the login"}, reason: check.LoginRefused},
		{name: "host_not_found", dialect: servers, env: map[string]string{"DB_HOST": "seqwatch-no-such-host.invalid"},
			kind: "source", want: []string{`host "seqwatch-no-such-host.invalid" not found`}, reason: check.HostNotFound},
		{name: "database_does_not_exist", dialect: servers, env: map[string]string{"DB_DATABASE": "seqwatch_no_such_db"},
			kind: "source", want: []string{"seqwatch_no_such_db", "does not exist"}, reason: check.NoSuchDatabase},
		{name: "missing_operations_table", schema: dbtest.Schema{Skip: []string{"operations"}},
			kind: "schema", want: []string{"table operations not found", "{db}"}},
		{name: "missing_errors_and_migrations_tables", schema: dbtest.Schema{Skip: []string{"operation_errors", "migrations"}},
			kind: "schema", want: []string{"operation_errors, migrations", "migrations"}},
		{name: "custom_operations_table_missing", env: map[string]string{"SEQUENCER_OPERATIONS_TABLE": "seq_ops"},
			kind: "schema", want: []string{"table seq_ops not found"}},
		{name: "sqlite_file_missing", dialect: []dbtest.Dialect{dbtest.SQLite}, env: map[string]string{"DB_DATABASE": "database/missing.sqlite"},
			kind: "source", want: []string{filepath.Join("database", "missing.sqlite"), "does not exist"}, reason: check.NoSQLiteFile},
		{name: "unreadable_operations_directory", setup: unreadableOperations,
			kind: "config", want: []string{filepath.Join("database", "operations")}, reason: check.UnreadableFiles},
	}
	for _, d := range dbtest.All {
		for _, tc := range cases {
			if tc.dialect != nil && !containsDialect(tc.dialect, d) {
				continue
			}
			t.Run(string(d)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				db := dbtest.NewDatabase(t, d)
				dbtest.CreateSchema(t, db, tc.schema)
				port := strconv.Itoa(closedPort(t))
				env := map[string]string{}
				for k, v := range tc.env {
					switch v {
					case "{port}":
						v = port
					case "{url_with_secret}":
						u, _ := url.Parse(db.URL)
						u.User = url.UserPassword(db.Username, secret)
						v = u.String()
					}
					env[k] = v
				}
				a := &app{d: d, db: db, dir: t.TempDir()}
				dbtest.WriteApp(t, a.dir, db, dbtest.AppFiles{ExtraEnv: env})
				if tc.setup != nil {
					tc.setup(t, a)
				}
				src, err := laravel.Resolve(laravel.Settings{AppDir: a.dir})
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				var snap *check.Snapshot
				db2, err := reader.Open(context.Background(), src.Conn)
				if err == nil {
					defer db2.Close()
					snap, err = reader.Read(context.Background(), db2, src, baseNow, reader.ReadOptions{})
				}
				if snap != nil {
					t.Fatalf("Read succeeded: %+v", snap)
				}
				var want []string
				for _, w := range tc.want {
					w = replaceAll(w, "{port}", port, "{user}", db.Username, "{db}", db.Database)
					want = append(want, w)
				}
				checkError(t, err, tc.kind, want, secret, url.QueryEscape(secret))
				checkReason(t, err, tc.reason)
				if tc.kind == "source" {
					// Whether to advise on DB_* variables or on the URL.
					var se *reader.SourceError
					if fromURL := tc.env["DB_URL"] != ""; errors.As(err, &se) && se.FromURL != fromURL {
						t.Errorf("SourceError.FromURL = %v, want %v", se.FromURL, fromURL)
					}
				}
				if tc.kind == "schema" {
					// And the missing tables are listed for programs too.
					var se *reader.SchemaError
					if !errors.As(err, &se) || len(se.Missing) == 0 {
						t.Errorf("SchemaError.Missing empty: %v", err)
					}
				}
			})
		}
	}
}

// unreadableOperations makes database/operations unreadable: mode 000, or,
// as root (whom permissions do not stop), a file where the directory
// should be.
func unreadableOperations(t *testing.T, a *app) {
	t.Helper()
	ops := filepath.Join(a.dir, "database", "operations")
	if os.Geteuid() != 0 {
		if err := os.Chmod(ops, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(ops, 0o755) })
		return
	}
	if err := os.RemoveAll(ops); err != nil {
		t.Fatal(err)
	}
	writeFile(t, a.dir, filepath.Join("database", "operations"), "not a directory")
}

func containsDialect(ds []dbtest.Dialect, d dbtest.Dialect) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func replaceAll(s string, oldnew ...string) string {
	for i := 0; i+1 < len(oldnew); i += 2 {
		s = strings.ReplaceAll(s, oldnew[i], oldnew[i+1])
	}
	return s
}
