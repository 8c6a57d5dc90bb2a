package reader_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/check/dbtest"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// TestResolve reads .env files as Laravel does and applies settings over
// them.
func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		env      string
		settings check.Settings
		// want gets the application directory.
		want func(dir string) check.Source
	}{
		{
			name: "comments_quotes_export_and_references",
			env:  readTestdata("laravel.env"),
			want: func(dir string) check.Source {
				return check.Source{
					Name: filepath.Base(dir), Environment: "production",
					Conn: check.Conn{Driver: "pgsql", Host: "db.internal", Port: 6543, Database: "shop_prod", Username: "shop_ro",
						Password: "hunter2-Sekr3t # not a comment", Params: url.Values{"sslmode": {"require"}}},
					Location:       mustZone("Europe/Berlin"),
					Tables:         check.Tables{Operations: "seq_ops", Errors: "seq_errors", Deferred: "seq_deferred", Migrations: "migrations"},
					OperationPaths: []string{filepath.Join(dir, "database", "operations")},
					MigrationPaths: []string{filepath.Join(dir, "database", "migrations")},
				}
			},
		},
		{
			name: "db_url_overrides_db_settings",
			env: `DB_CONNECTION=mysql
DB_HOST=ignored.example
DB_PORT=3307
DB_DATABASE=ignored
DB_USERNAME=ignored
DB_PASSWORD=ignored
DB_URL="pgsql://url_user:p%40ss@url.example:5433/url_db?sslmode=disable"
`,
			want: func(dir string) check.Source {
				src := defaultSource(dir)
				src.Conn = check.Conn{Driver: "pgsql", Host: "url.example", Port: 5433, Database: "url_db", Username: "url_user", Password: "p@ss", Params: url.Values{"sslmode": {"disable"}}, FromURL: true}
				return src
			},
		},
		{
			name: "database_url_of_older_apps",
			env:  "DATABASE_URL=mariadb://u:pw@maria.example/shop\n",
			want: func(dir string) check.Source {
				src := defaultSource(dir)
				src.Conn = check.Conn{Driver: "mariadb", Host: "maria.example", Port: 3306, Database: "shop", Username: "u", Password: "pw", Params: url.Values{}, FromURL: true}
				return src
			},
		},
		{
			name: "laravel_defaults_sqlite",
			env:  "APP_NAME=Shop\n",
			want: defaultSource,
		},
		{
			name: "mysql_defaults",
			env:  "DB_CONNECTION=mysql\n",
			want: func(dir string) check.Source {
				src := defaultSource(dir)
				src.Conn = check.Conn{Driver: "mysql", Host: "127.0.0.1", Port: 3306, Database: "laravel", Username: "root", Params: url.Values{}}
				return src
			},
		},
		{
			name: "relative_sqlite_path_is_under_the_app",
			env:  "DB_CONNECTION=sqlite\nDB_DATABASE=storage/app.sqlite\n",
			want: func(dir string) check.Source {
				src := defaultSource(dir)
				src.Conn.Database = filepath.Join(dir, "storage", "app.sqlite")
				return src
			},
		},
		{
			name: "settings_override_env",
			env: `APP_ENV=production
APP_TIMEZONE=Europe/Berlin
DB_URL=pgsql://env:envpw@env.example/envdb
SEQUENCER_OPERATIONS_TABLE=env_ops
SEQUENCER_ERRORS_TABLE=env_errors
`,
			settings: check.Settings{
				URL: "mysql://set:setpw@set.example:3310/setdb", Timezone: "Asia/Tokyo",
				Tables: check.Tables{Operations: "set_ops", Migrations: "app.set_migrations"},
				Name:   "Shop", Environment: "staging",
				OperationPaths: []string{"ops", "/srv/shared/ops"},
			},
			want: func(dir string) check.Source {
				return check.Source{
					Name: "Shop", Environment: "staging",
					Conn:           check.Conn{Driver: "mysql", Host: "set.example", Port: 3310, Database: "setdb", Username: "set", Password: "setpw", Params: url.Values{}, FromURL: true},
					Location:       mustZone("Asia/Tokyo"),
					Tables:         check.Tables{Operations: "set_ops", Errors: "env_errors", Deferred: "deferred_operations", Migrations: "app.set_migrations"},
					OperationPaths: []string{filepath.Join(dir, "ops"), "/srv/shared/ops"},
					MigrationPaths: []string{filepath.Join(dir, "database", "migrations")},
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFile(t, dir, ".env", tc.env)
			s := tc.settings
			s.AppDir = dir
			got, err := check.Resolve(s)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			want := tc.want(dir)
			if got.Location.String() != want.Location.String() {
				t.Errorf("zone = %s, want %s", got.Location, want.Location)
			}
			got.Location, want.Location = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Resolve =\n%+v\nwant\n%+v", got, want)
			}
		})
	}

	t.Run("url_without_app_directory", func(t *testing.T) {
		got, err := check.Resolve(check.Settings{URL: "postgresql://u@pg.example/orders"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "orders" || got.OperationPaths != nil || got.Location.String() != "UTC" || got.Conn.Port != 5432 || got.Conn.Params.Get("sslmode") != "prefer" {
			t.Errorf("Resolve = %+v", got)
		}
	})
}

// readTestdata returns a file of testdata/.
func readTestdata(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// defaultSource is what an application with an empty .env resolves to.
func defaultSource(dir string) check.Source {
	return check.Source{
		Name: filepath.Base(dir),
		Conn: check.Conn{Driver: "sqlite", Database: filepath.Join(dir, "database", "database.sqlite"), Params: url.Values{}},
		// Location checked apart.
		Location:       mustZone("UTC"),
		Tables:         check.Tables{Operations: "operations", Errors: "operation_errors", Deferred: "deferred_operations", Migrations: "migrations"},
		OperationPaths: []string{filepath.Join(dir, "database", "operations")},
		MigrationPaths: []string{filepath.Join(dir, "database", "migrations")},
	}
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// TestResolveErrors: configuration mistakes are ConfigErrors that say what
// is wrong, with the reason a command advises on, and never echo the
// password.
func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		// env is the .env content; "-" writes no .env.
		env      string
		settings check.Settings
		want     []string
		reason   check.Reason
	}{
		{name: "missing_env_file", env: "-", want: []string{".env does not exist"}, reason: check.NoEnvFile},
		{name: "sqlsrv_is_unsupported", env: "DB_CONNECTION=sqlsrv\nDB_PASSWORD=" + secret + "\n", want: []string{`"sqlsrv"`, "not supported"}},
		{name: "unknown_driver", env: "DB_CONNECTION=oracle\n", want: []string{`"oracle"`, "not supported"}},
		{name: "unknown_time_zone", env: "APP_TIMEZONE=Mars/Olympus\n", want: []string{`"Mars/Olympus"`, "time zone"}, reason: check.UnknownTimezone},
		// "Local" would silently be the monitoring host's zone.
		{name: "local_time_zone_is_not_a_zone", env: "APP_TIMEZONE=Local\n", want: []string{`"Local"`, "time zone"}, reason: check.UnknownTimezone},
		{name: "time_zone_setting", settings: check.Settings{Timezone: "Nowhere/Land"}, env: "APP_TIMEZONE=UTC\n", want: []string{`"Nowhere/Land"`}, reason: check.UnknownTimezone},
		{name: "db_port_not_a_number", env: "DB_CONNECTION=pgsql\nDB_PORT=fivefourthreetwo\n", want: []string{"DB_PORT", "fivefourthreetwo"}},
		{name: "invalid_table_name", env: "SEQUENCER_OPERATIONS_TABLE=\"ops; drop table users\"\n", want: []string{"ops; drop table users", "not valid"}},
		{name: "malformed_db_url_host", env: "DB_URL=\"pgsql://app:" + secret + "@db host/shop\"\n", want: []string{"malformed", "PostgreSQL"}},
		{name: "malformed_db_url_escape", env: "DB_URL=\"mysql://app:" + secret + "%zz@db/shop\"\n", want: []string{"malformed", "percent-encoded"}},
		{name: "malformed_db_url_port", env: "DB_URL=\"pgsql://app:" + secret + "@db:54x32/shop\"\n", want: []string{"malformed"}},
		{name: "db_url_port_out_of_range", env: "DB_URL=\"pgsql://app:" + secret + "@db:654321/shop\"\n", want: []string{"port", "654321"}},
		{name: "db_url_without_scheme", env: "DB_URL=\"app:" + secret + "@db/shop\"\n", want: []string{"no scheme"}},
		{name: "db_url_without_driver", env: "DB_URL=\"://app:" + secret + "@db/shop\"\n", want: []string{"no database driver"}, reason: check.NoDriver},
		{name: "db_url_without_database", env: "DB_URL=\"pgsql://app:" + secret + "@db:5432\"\n", want: []string{"no database"}},
		{name: "sqlite_url_without_path", settings: check.Settings{URL: "sqlite://"}, env: "", want: []string{"no file path"}},
		{name: "sqlsrv_url", settings: check.Settings{URL: "sqlsrv://sa:" + secret + "@mssql/shop"}, env: "", want: []string{"SQL Server", "not supported"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tc.env != "-" {
				writeFile(t, dir, ".env", tc.env)
			}
			s := tc.settings
			s.AppDir = dir
			_, err := check.Resolve(s)
			checkError(t, err, "config", tc.want, secret, url.QueryEscape(secret))
			checkReason(t, err, tc.reason)
		})
	}

	t.Run("missing_app_directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nope")
		_, err := check.Resolve(check.Settings{AppDir: dir})
		checkError(t, err, "config", []string{dir})
	})
	t.Run("nothing_given", func(t *testing.T) {
		_, err := check.Resolve(check.Settings{})
		checkError(t, err, "config", []string{"no application given"})
		checkReason(t, err, check.NoApplication)
	})
}

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
				src, err := check.Resolve(check.Settings{AppDir: a.dir})
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

// TestConnWhere: the connection description names host, port, database and
// user, never the password.
func TestConnWhere(t *testing.T) {
	tests := []struct {
		c    check.Conn
		want string
	}{
		{check.Conn{Driver: "pgsql", Host: "db", Port: 5432, Database: "shop", Username: "app", Password: secret}, `PostgreSQL at db:5432 (database "shop", user "app")`},
		{check.Conn{Driver: "mariadb", Host: "::1", Port: 3306, Database: "shop", Password: secret}, `MariaDB at [::1]:3306 (database "shop")`},
		{check.Conn{Driver: "sqlite", Database: "/app/database/database.sqlite"}, `SQLite database /app/database/database.sqlite`},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.c.Driver), func(t *testing.T) {
			if got := tc.c.Where(); got != tc.want {
				t.Errorf("Where() = %q, want %q", got, tc.want)
			}
		})
	}
}
