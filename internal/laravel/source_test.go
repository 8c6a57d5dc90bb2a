package laravel_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// TestResolve reads .env files as Laravel does and applies settings over
// them.
func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		env      string
		settings laravel.Settings
		// want gets the application directory.
		want func(dir string) laravel.Source
	}{
		{
			name: "comments_quotes_export_and_references",
			env:  readTestdata("laravel.env"),
			want: func(dir string) laravel.Source {
				return laravel.Source{
					Name: filepath.Base(dir), Environment: "production",
					Conn: laravel.Conn{Driver: "pgsql", Host: "db.internal", Port: 6543, Database: "shop_prod", Username: "shop_ro",
						Password: "hunter2-Sekr3t # not a comment", Params: url.Values{"sslmode": {"require"}}},
					Location:       mustZone("Europe/Berlin"),
					Tables:         laravel.Tables{Operations: "seq_ops", Errors: "seq_errors", Deferred: "seq_deferred", Migrations: "migrations"},
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
			want: func(dir string) laravel.Source {
				src := defaultSource(dir)
				src.Conn = laravel.Conn{Driver: "pgsql", Host: "url.example", Port: 5433, Database: "url_db", Username: "url_user", Password: "p@ss", Params: url.Values{"sslmode": {"disable"}}, FromURL: true}
				return src
			},
		},
		{
			name: "database_url_of_older_apps",
			env:  "DATABASE_URL=mariadb://u:pw@maria.example/shop\n",
			want: func(dir string) laravel.Source {
				src := defaultSource(dir)
				src.Conn = laravel.Conn{Driver: "mariadb", Host: "maria.example", Port: 3306, Database: "shop", Username: "u", Password: "pw", Params: url.Values{}, FromURL: true}
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
			want: func(dir string) laravel.Source {
				src := defaultSource(dir)
				src.Conn = laravel.Conn{Driver: "mysql", Host: "127.0.0.1", Port: 3306, Database: "laravel", Username: "root", Params: url.Values{}}
				return src
			},
		},
		{
			name: "relative_sqlite_path_is_under_the_app",
			env:  "DB_CONNECTION=sqlite\nDB_DATABASE=storage/app.sqlite\n",
			want: func(dir string) laravel.Source {
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
			settings: laravel.Settings{
				URL: "mysql://set:setpw@set.example:3310/setdb", Timezone: "Asia/Tokyo",
				Tables: laravel.Tables{Operations: "set_ops", Migrations: "app.set_migrations"},
				Name:   "Shop", Environment: "staging",
				OperationPaths: []string{"ops", "/srv/shared/ops"},
			},
			want: func(dir string) laravel.Source {
				return laravel.Source{
					Name: "Shop", Environment: "staging",
					Conn:           laravel.Conn{Driver: "mysql", Host: "set.example", Port: 3310, Database: "setdb", Username: "set", Password: "setpw", Params: url.Values{}, FromURL: true},
					Location:       mustZone("Asia/Tokyo"),
					Tables:         laravel.Tables{Operations: "set_ops", Errors: "env_errors", Deferred: "deferred_operations", Migrations: "app.set_migrations"},
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
			got, err := laravel.Resolve(s)
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
		got, err := laravel.Resolve(laravel.Settings{URL: "postgresql://u@pg.example/orders"})
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
func defaultSource(dir string) laravel.Source {
	return laravel.Source{
		Name: filepath.Base(dir),
		Conn: laravel.Conn{Driver: "sqlite", Database: filepath.Join(dir, "database", "database.sqlite"), Params: url.Values{}},
		// Location checked apart.
		Location:       mustZone("UTC"),
		Tables:         laravel.Tables{Operations: "operations", Errors: "operation_errors", Deferred: "deferred_operations", Migrations: "migrations"},
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
		settings laravel.Settings
		want     []string
		reason   check.Reason
	}{
		{name: "missing_env_file", env: "-", want: []string{".env does not exist"}, reason: check.NoEnvFile},
		{name: "sqlsrv_is_unsupported", env: "DB_CONNECTION=sqlsrv\nDB_PASSWORD=" + secret + "\n", want: []string{`"sqlsrv"`, "not supported"}},
		{name: "unknown_driver", env: "DB_CONNECTION=oracle\n", want: []string{`"oracle"`, "not supported"}},
		{name: "unknown_time_zone", env: "APP_TIMEZONE=Mars/Olympus\n", want: []string{`"Mars/Olympus"`, "time zone"}, reason: check.UnknownTimezone},
		// "Local" would silently be the monitoring host's zone.
		{name: "local_time_zone_is_not_a_zone", env: "APP_TIMEZONE=Local\n", want: []string{`"Local"`, "time zone"}, reason: check.UnknownTimezone},
		{name: "time_zone_setting", settings: laravel.Settings{Timezone: "Nowhere/Land"}, env: "APP_TIMEZONE=UTC\n", want: []string{`"Nowhere/Land"`}, reason: check.UnknownTimezone},
		{name: "db_port_not_a_number", env: "DB_CONNECTION=pgsql\nDB_PORT=fivefourthreetwo\n", want: []string{"DB_PORT", "fivefourthreetwo"}},
		{name: "invalid_table_name", env: "SEQUENCER_OPERATIONS_TABLE=\"ops; drop table users\"\n", want: []string{"ops; drop table users", "not valid"}},
		{name: "malformed_db_url_host", env: "DB_URL=\"pgsql://app:" + secret + "@db host/shop\"\n", want: []string{"malformed", "PostgreSQL"}},
		{name: "malformed_db_url_escape", env: "DB_URL=\"mysql://app:" + secret + "%zz@db/shop\"\n", want: []string{"malformed", "percent-encoded"}},
		{name: "malformed_db_url_port", env: "DB_URL=\"pgsql://app:" + secret + "@db:54x32/shop\"\n", want: []string{"malformed"}},
		{name: "db_url_port_out_of_range", env: "DB_URL=\"pgsql://app:" + secret + "@db:654321/shop\"\n", want: []string{"port", "654321"}},
		{name: "db_url_without_scheme", env: "DB_URL=\"app:" + secret + "@db/shop\"\n", want: []string{"no scheme"}},
		{name: "db_url_without_driver", env: "DB_URL=\"://app:" + secret + "@db/shop\"\n", want: []string{"no database driver"}, reason: check.NoDriver},
		{name: "db_url_without_database", env: "DB_URL=\"pgsql://app:" + secret + "@db:5432\"\n", want: []string{"no database"}},
		{name: "sqlite_url_without_path", settings: laravel.Settings{URL: "sqlite://"}, env: "", want: []string{"no file path"}},
		{name: "sqlsrv_url", settings: laravel.Settings{URL: "sqlsrv://sa:" + secret + "@mssql/shop"}, env: "", want: []string{"SQL Server", "not supported"}},
		// godotenv's own errors quote the rest of the file.
		{name: "env_line_that_is_not_name_value", env: "APP_NAME=shop\nthis is garbage\nDB_PASSWORD=" + secret + "\n", want: []string{".env is not a valid .env file: line 2, column 16: the line has no ="}},
		{name: "env_unterminated_quote", env: "APP_NAME=\"shop\nDB_PASSWORD=" + secret + "\n", want: []string{"line 1, column 10: the value opens a quote"}},
		{name: "env_bad_character_in_name", env: "DB-HOST=db\nDB_PASSWORD=" + secret + "\n", want: []string{"line 1, column 3: a name may hold only letters"}},
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
			_, err := laravel.Resolve(s)
			checkError(t, err, "config", tc.want, secret, url.QueryEscape(secret))
			checkReason(t, err, tc.reason)
		})
	}

	t.Run("missing_app_directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nope")
		_, err := laravel.Resolve(laravel.Settings{AppDir: dir})
		checkError(t, err, "config", []string{dir})
	})
	t.Run("nothing_given", func(t *testing.T) {
		_, err := laravel.Resolve(laravel.Settings{})
		checkError(t, err, "config", []string{"no application given"})
		checkReason(t, err, check.NoApplication)
	})
}

// TestConnWhere: the connection description names host, port, database and
// user, never the password.
func TestConnWhere(t *testing.T) {
	tests := []struct {
		c    laravel.Conn
		want string
	}{
		{laravel.Conn{Driver: "pgsql", Host: "db", Port: 5432, Database: "shop", Username: "app", Password: secret}, `PostgreSQL at db:5432 (database "shop", user "app")`},
		{laravel.Conn{Driver: "mariadb", Host: "::1", Port: 3306, Database: "shop", Password: secret}, `MariaDB at [::1]:3306 (database "shop")`},
		{laravel.Conn{Driver: "sqlite", Database: "/app/database/database.sqlite"}, `SQLite database /app/database/database.sqlite`},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.c.Driver), func(t *testing.T) {
			if got := tc.c.Where(); got != tc.want {
				t.Errorf("Where() = %q, want %q", got, tc.want)
			}
		})
	}
}
