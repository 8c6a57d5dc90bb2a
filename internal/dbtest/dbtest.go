// Package dbtest is the harness every database test of seqwatch uses: real,
// throwaway PostgreSQL and MariaDB servers that the test binary starts itself
// (or external ones named by SEQWATCH_TEST_POSTGRES_URL and
// SEQWATCH_TEST_MYSQL_URL), SQLite files, Sequencer's tables created with the
// DDL Laravel's schema grammars emit, fixtures, and Laravel application
// skeletons on disk.
//
// A package that uses it declares
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
//
// and then, in a test, db := dbtest.NewDatabase(t, dbtest.Postgres).
//
// What each database does with awkward error text (checked by this package's
// tests):
//   - SQLite stores any bytes, including invalid UTF-8, and returns them
//     unchanged.
//   - PostgreSQL (UTF8 database) rejects invalid UTF-8 in text with SQLSTATE
//     22021; a Laravel app can therefore never have stored such a message.
//   - MariaDB (utf8mb4, default strict sql_mode) rejects it with error 1366
//     "Incorrect string value".
//   - CRLF, markup such as <!channel>, quotes, emoji and 300 KB traces round
//     trip byte for byte on all three.
//   - JSON in operation_errors.context round trips byte for byte on SQLite
//     and MariaDB (json is longtext there); PostgreSQL's jsonb normalises it
//     (key order, whitespace), so compare it as JSON, not as bytes.
//
// It is for tests (and the benchmark) only: no production package may
// import it. Of seqwatch it imports only internal/testkit (a leaf): nothing
// of the stages, check included, so that check's own in-package tests can
// use it without an import cycle (internal/layering holds it to both).
package dbtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	// The three drivers seqwatch uses, registered as "pgx", "mysql" and
	// "sqlite".
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// Dialect is a database kind, spelled as Laravel's DB_CONNECTION spells it.
type Dialect string

// The dialects seqwatch supports. MySQL is served by MariaDB here.
const (
	Postgres Dialect = "pgsql"
	MySQL    Dialect = "mysql"
	SQLite   Dialect = "sqlite"
)

// All lists every dialect, for tests that run once per database.
var All = []Dialect{Postgres, MySQL, SQLite}

// DB is one fresh, empty database that belongs to one test.
type DB struct {
	Dialect Dialect
	// SQL is an open pool on the database, closed at the end of the test.
	SQL *sql.DB
	// URL is the Laravel-style URL seqwatch accepts:
	// postgres://user:pass@127.0.0.1:port/db?sslmode=disable,
	// mysql://user:pass@127.0.0.1:port/db or sqlite:///abs/path.sqlite.
	URL      string
	Host     string
	Port     int
	Database string
	Username string
	Password string
	// Path is the SQLite file (absolute); empty for the servers.
	Path string
}

// DriverName is the database/sql driver name for the dialect.
func (d Dialect) DriverName() string {
	switch d {
	case Postgres:
		return "pgx"
	case MySQL:
		return "mysql"
	case SQLite:
		return "sqlite"
	}
	return string(d)
}

// DSN returns the database/sql driver name and data source name for db's
// fields. Tests that need a variant (a wrong password, say) copy the DB,
// change a field and call DSN on the copy.
func (db *DB) DSN() (driver, dsn string) {
	switch db.Dialect {
	case Postgres:
		u := url.URL{
			Scheme:   "postgres",
			User:     url.UserPassword(db.Username, db.Password),
			Host:     fmt.Sprintf("%s:%d", db.Host, db.Port),
			Path:     "/" + db.Database,
			RawQuery: "sslmode=disable",
		}
		return "pgx", u.String()
	case MySQL:
		// The charset and collation Laravel's mysql connection uses.
		return "mysql", fmt.Sprintf("%s:%s@tcp(%s:%d)/%s?charset=utf8mb4&collation=utf8mb4_unicode_ci",
			db.Username, db.Password, db.Host, db.Port, db.Database)
	case SQLite:
		// Laravel turns foreign keys on for SQLite (DB_FOREIGN_KEYS=true).
		return "sqlite", "file:" + db.Path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	}
	return "", ""
}

// laravelURL builds DB.URL.
func (db *DB) laravelURL() string {
	switch db.Dialect {
	case Postgres, MySQL:
		scheme := "postgres"
		q := "sslmode=disable"
		if db.Dialect == MySQL {
			scheme, q = "mysql", ""
		}
		u := url.URL{
			Scheme:   scheme,
			User:     url.UserPassword(db.Username, db.Password),
			Host:     fmt.Sprintf("%s:%d", db.Host, db.Port),
			Path:     "/" + db.Database,
			RawQuery: q,
		}
		return u.String()
	case SQLite:
		return "sqlite://" + filepath.ToSlash(db.Path)
	}
	return ""
}

// registry holds the servers shared by all tests of one test binary. It is
// the package's only mutable package-level state, and it has to be: Main and
// NewDatabase are the only two points a test binary gives us, and a server
// start costs seconds, so it cannot be per test.
type registry struct {
	mu      sync.Mutex
	inMain  bool
	slots   map[Dialect]*slot
	started []*Server
}

// slot is one dialect's shared server, started at most once.
type slot struct {
	once sync.Once
	srv  *Server
	err  error
}

var shared = &registry{slots: map[Dialect]*slot{}}

// Main runs the tests of a package and then stops the servers this test
// binary started and removes their directories. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	started := shared.started
	shared.started = nil
	shared.mu.Unlock()
	for _, s := range started {
		if err := s.close(); err != nil {
			fmt.Fprintf(os.Stderr, "dbtest: stopping %s server: %v\n", s.Dialect, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// sharedServer returns the binary's server for d, starting it on first use.
func sharedServer(t testing.TB, d Dialect) *Server {
	t.Helper()
	shared.mu.Lock()
	if !shared.inMain {
		shared.mu.Unlock()
		t.Fatalf("dbtest: the package's TestMain must call dbtest.Main so the %s server it starts is stopped afterwards:\n\tfunc TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }", d)
	}
	sl := shared.slots[d]
	if sl == nil {
		sl = &slot{}
		shared.slots[d] = sl
	}
	shared.mu.Unlock()

	sl.once.Do(func() {
		sl.srv, sl.err = startServer(d, true)
		if sl.srv != nil {
			shared.mu.Lock()
			shared.started = append(shared.started, sl.srv)
			shared.mu.Unlock()
		}
	})
	if sl.err != nil {
		t.Fatalf("dbtest: %v", sl.err)
	}
	return sl.srv
}

// NewDatabase creates a fresh, empty database for one test: a new database on
// the binary's shared PostgreSQL or MariaDB server (dropped when the test
// ends), or a new SQLite file in t.TempDir().
func NewDatabase(t testing.TB, d Dialect) *DB {
	t.Helper()
	switch d {
	case Postgres, MySQL:
		return sharedServer(t, d).NewDatabase(t)
	case SQLite:
		path := filepath.Join(t.TempDir(), "database.sqlite")
		db := &DB{Dialect: SQLite, Path: path, Database: path}
		db.URL = db.laravelURL()
		db.open(t)
		return db
	}
	t.Fatalf("dbtest: unknown dialect %q", d)
	return nil
}

// open opens db.SQL, checks it answers, and closes it at the end of the test.
func (db *DB) open(t testing.TB) {
	t.Helper()
	driver, dsn := db.DSN()
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("dbtest: open %s database %s: %v", db.Dialect, db.Database, err)
	}
	if err := pool.Ping(); err != nil {
		pool.Close()
		t.Fatalf("dbtest: connect to %s database %s: %v", db.Dialect, db.Database, err)
	}
	db.SQL = pool
	t.Cleanup(func() { pool.Close() })
}

// randomName returns a database name unique across test binaries that share
// an external server.
func randomName() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return "seqwatch_test_" + hex.EncodeToString(b[:])
}
