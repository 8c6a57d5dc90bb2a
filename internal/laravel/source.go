package laravel

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/text"
)

// Tables are the names of Sequencer's tables in one application.
type Tables struct {
	Operations string `yaml:"operations" json:"operations"`
	Errors     string `yaml:"errors" json:"errors"`
	Deferred   string `yaml:"deferred" json:"deferred"`
	Migrations string `yaml:"migrations" json:"migrations"`
}

// WithDefaults fills empty names with Sequencer's and Laravel's defaults.
func (t Tables) WithDefaults() Tables {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&t.Operations, "operations")
	def(&t.Errors, "operation_errors")
	def(&t.Deferred, "deferred_operations")
	def(&t.Migrations, "migrations")
	return t
}

// Settings are what a user says about an application, from flags, the
// configuration file or both. Empty fields are filled from the
// application's .env and then from Laravel's defaults by Resolve.
type Settings struct {
	// AppDir is the Laravel application root (holding .env and database/).
	AppDir string
	// URL is a Laravel-style database URL; it overrides .env.
	URL string
	// Timezone is the application's time zone name; overrides APP_TIMEZONE.
	Timezone string
	// OperationPaths and MigrationPaths override database/operations and
	// database/migrations below AppDir.
	OperationPaths []string
	MigrationPaths []string
	// Tables overrides individual table names.
	Tables Tables
	// Name is the application's display name.
	Name string
	// Environment overrides APP_ENV.
	Environment string
}

// Conn is a parsed database connection.
type Conn struct {
	// Driver is "pgsql", "mysql", "mariadb" or "sqlite".
	Driver   string
	Host     string
	Port     int
	Database string // database name, or the SQLite file path
	Username string
	Password string
	// Params are extra URL query parameters (e.g. sslmode).
	Params url.Values
	// FromURL says the connection was given as a database URL (by
	// ParseURL), not by DB_CONNECTION, DB_HOST and the other DB_* variables.
	FromURL bool
	// Timeout bounds one read through this connection: Open asks the
	// server to give up on a statement or a lock wait a little before it,
	// so that the error says why. 0 takes it from the context's deadline.
	Timeout time.Duration
}

// Where describes the connection for messages, without the password.
func (c Conn) Where() string {
	if c.Driver == "sqlite" {
		return fmt.Sprintf("SQLite database %s", c.Database)
	}
	user := ""
	if c.Username != "" {
		user = fmt.Sprintf(", user %q", c.Username)
	}
	return fmt.Sprintf("%s at %s (database %q%s)", driverTitle(c.Driver), net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.Database, user)
}

func driverTitle(d string) string {
	switch d {
	case "pgsql":
		return "PostgreSQL"
	case "mariadb":
		return "MariaDB"
	case "mysql":
		return "MySQL"
	case "sqlite":
		return "SQLite"
	}
	return d
}

// Source is everything needed to read one application: where its database
// is, how its tables are named, where its files are and its time zone.
type Source struct {
	Name           string
	Environment    string
	Conn           Conn
	Location       *time.Location
	Tables         Tables
	OperationPaths []string
	MigrationPaths []string
}

func configErr(format string, args ...any) error {
	return &check.ConfigError{Err: fmt.Errorf(format, args...)}
}

// configFact is a ConfigError whose remedy a command knows by its reason.
func configFact(r check.Reason, format string, args ...any) error {
	return &check.ConfigError{Reason: r, Err: fmt.Errorf(format, args...)}
}

// Resolve turns Settings into a Source: it reads AppDir/.env when there is
// an application directory, applies the settings over it, and fills in
// Laravel's defaults.
func Resolve(s Settings) (Source, error) {
	env := map[string]string{}
	if s.AppDir != "" {
		// Absolute from here on: the default discovery paths and the
		// SQLite file are joined to it, and a relative root joined to a
		// relative path would name shop/shop/database/operations.
		// Symbolic links are kept (a deploy that switches current/ to a
		// new release is followed at the next read).
		abs, err := filepath.Abs(s.AppDir)
		if err != nil {
			return Source{}, configErr("application directory %s: %w", s.AppDir, text.PlainFSError(err))
		}
		s.AppDir = abs
		info, err := os.Stat(s.AppDir)
		if err != nil {
			return Source{}, configErr("application directory %s: %w", s.AppDir, text.PlainFSError(err))
		}
		if !info.IsDir() {
			return Source{}, configErr("application directory %s is not a directory", s.AppDir)
		}
		envPath := filepath.Join(s.AppDir, ".env")
		env, err = ReadEnvFile(envPath)
		var syntax *EnvSyntaxError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if s.URL == "" {
				return Source{}, configFact(check.NoEnvFile, "%s does not exist", envPath)
			}
			env = map[string]string{}
		case errors.As(err, &syntax):
			return Source{}, configErr("%s is not a valid .env file: %w", envPath, err)
		case err != nil:
			return Source{}, configErr("read %s: %w", envPath, text.PlainFSError(err))
		}
	}
	if s.AppDir == "" && s.URL == "" {
		return Source{}, configFact(check.NoApplication, "no application given")
	}

	src := Source{Name: s.Name, Environment: firstNonEmpty(s.Environment, env["APP_ENV"])}
	var err error
	switch rawURL := firstNonEmpty(s.URL, env["DB_URL"], env["DATABASE_URL"]); {
	case rawURL != "":
		src.Conn, err = ParseURL(rawURL)
		// Like Laravel, what the URL leaves out comes from DB_*.
		if err == nil && src.Conn.Driver != "sqlite" {
			if src.Conn.Username == "" {
				src.Conn.Username = env["DB_USERNAME"]
			}
			if src.Conn.Password == "" {
				src.Conn.Password = env["DB_PASSWORD"]
			}
		}
	default:
		src.Conn, err = connFromEnv(env, s.AppDir)
	}
	if err != nil {
		return Source{}, err
	}
	if src.Conn.Driver == "sqlite" && !filepath.IsAbs(src.Conn.Database) && s.AppDir != "" {
		src.Conn.Database = filepath.Join(s.AppDir, src.Conn.Database)
	}

	tz := firstNonEmpty(s.Timezone, env["APP_TIMEZONE"], "UTC")
	src.Location, err = time.LoadLocation(tz)
	// time.LoadLocation("Local") is the monitoring host's zone: never the app's.
	if err != nil || tz == "Local" {
		return Source{}, configFact(check.UnknownTimezone, "unknown time zone %q", tz)
	}

	src.Tables = Tables{
		Operations: firstNonEmpty(s.Tables.Operations, env["SEQUENCER_OPERATIONS_TABLE"]),
		Errors:     firstNonEmpty(s.Tables.Errors, env["SEQUENCER_ERRORS_TABLE"]),
		Deferred:   firstNonEmpty(s.Tables.Deferred, env["SEQUENCER_DEFERRED_OPERATIONS_TABLE"]),
		Migrations: s.Tables.Migrations,
	}.WithDefaults()
	for _, name := range []string{src.Tables.Operations, src.Tables.Errors, src.Tables.Deferred, src.Tables.Migrations} {
		if !validIdent(name) {
			return Source{}, configErr("table name %q is not valid: use letters, digits, _ and an optional schema prefix (schema.table)", name)
		}
	}

	src.OperationPaths = s.OperationPaths
	src.MigrationPaths = s.MigrationPaths
	if s.AppDir != "" {
		if len(src.OperationPaths) == 0 {
			src.OperationPaths = []string{filepath.Join(s.AppDir, "database", "operations")}
		}
		if len(src.MigrationPaths) == 0 {
			src.MigrationPaths = []string{filepath.Join(s.AppDir, "database", "migrations")}
		}
		src.OperationPaths = relativeTo(s.AppDir, src.OperationPaths)
		src.MigrationPaths = relativeTo(s.AppDir, src.MigrationPaths)
	}

	if src.Name == "" {
		switch {
		case s.AppDir != "":
			abs, _ := filepath.Abs(s.AppDir)
			src.Name = filepath.Base(abs)
		case env["APP_NAME"] != "":
			src.Name = env["APP_NAME"]
		default:
			src.Name = filepath.Base(src.Conn.Database)
		}
	}
	return src, nil
}

func relativeTo(dir string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		out[i] = p
	}
	return out
}

func validIdent(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".")
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func defaultPort(driver string) int {
	switch driver {
	case "pgsql":
		return 5432
	case "mysql", "mariadb":
		return 3306
	}
	return 0
}

// NormalizeDriver returns the name seqwatch uses for a database driver
// ("pgsql", "mysql", "mariadb" or "sqlite") given any of its spellings, or
// a ConfigError for a driver seqwatch does not read.
func NormalizeDriver(d string) (string, error) {
	switch strings.ToLower(d) {
	case "pgsql", "postgres", "postgresql":
		return "pgsql", nil
	case "mysql":
		return "mysql", nil
	case "mariadb":
		return "mariadb", nil
	case "sqlite", "sqlite3":
		return "sqlite", nil
	case "sqlsrv", "mssql", "sqlserver":
		return "", configErr("database driver %q (SQL Server) is not supported by seqwatch: it reads pgsql, mysql, mariadb and sqlite", d)
	case "":
		return "", configFact(check.NoDriver, "no database driver")
	}
	return "", configErr("database driver %q is not supported: use pgsql, mysql, mariadb or sqlite", d)
}

// connFromEnv reads DB_CONNECTION and friends as Laravel 11 does, with its
// defaults (SQLite at database/database.sqlite when DB_CONNECTION is unset).
func connFromEnv(env map[string]string, appDir string) (Conn, error) {
	driver, err := NormalizeDriver(firstNonEmpty(env["DB_CONNECTION"], "sqlite"))
	if err != nil {
		return Conn{}, err
	}
	c := Conn{Driver: driver, Params: url.Values{}}
	if driver == "sqlite" {
		c.Database = firstNonEmpty(env["DB_DATABASE"], filepath.Join("database", "database.sqlite"))
		return c, nil
	}
	c.Host = firstNonEmpty(env["DB_HOST"], "127.0.0.1")
	c.Port = defaultPort(driver)
	if p := env["DB_PORT"]; p != "" {
		c.Port, err = strconv.Atoi(p)
		if err != nil || c.Port <= 0 || c.Port > 65535 {
			return Conn{}, configErr("DB_PORT %q is not a port number", p)
		}
	}
	c.Database = firstNonEmpty(env["DB_DATABASE"], "laravel")
	c.Username = firstNonEmpty(env["DB_USERNAME"], "root")
	c.Password = env["DB_PASSWORD"]
	if driver == "pgsql" {
		c.Params.Set("sslmode", firstNonEmpty(env["DB_SSLMODE"], "prefer"))
	}
	return c, nil
}

// ParseURL parses a Laravel-style database URL: pgsql://, postgres://,
// postgresql://, mysql://, mariadb:// or sqlite:///absolute/path.sqlite.
// Errors never contain the password.
func ParseURL(raw string) (Conn, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Conn{}, configErr("database URL must look like pgsql://user:password@host:5432/database (or mysql://, mariadb://, sqlite:///path): no scheme found")
	}
	driver, err := NormalizeDriver(scheme)
	if err != nil {
		return Conn{}, err
	}
	if driver == "sqlite" {
		path, query, _ := strings.Cut(rest, "?")
		_ = query
		if path == "" {
			return Conn{}, configErr("sqlite URL has no file path: use sqlite:///absolute/path/database.sqlite")
		}
		p, err := url.PathUnescape(path)
		if err != nil {
			p = path
		}
		return Conn{Driver: driver, Database: p, Params: url.Values{}, FromURL: true}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse echoes the whole URL, password included: do not wrap it.
		return Conn{}, configErr("database URL for %s is malformed: check it has the form %s://user:password@host:port/database (special characters in the password must be percent-encoded)", driverTitle(driver), scheme)
	}
	c := Conn{Driver: driver, Host: u.Hostname(), Port: defaultPort(driver), Params: u.Query(), FromURL: true}
	if p := u.Port(); p != "" {
		c.Port, err = strconv.Atoi(p)
		if err != nil || c.Port <= 0 || c.Port > 65535 {
			return Conn{}, configErr("database URL port %q is not a port number", p)
		}
	}
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	c.Database = strings.TrimPrefix(u.Path, "/")
	if c.Database == "" {
		return Conn{}, configErr("database URL names no database: add /databasename after the host")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if driver == "pgsql" && c.Params.Get("sslmode") == "" {
		c.Params.Set("sslmode", "prefer")
	}
	return c, nil
}
