package check

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// DB is an open connection to an application's database.
type DB struct {
	SQL   *sql.DB
	conn  Conn
	d     dialect
	count *counter
}

// Stats returns what this DB has fetched so far.
func (db *DB) Stats() Stats {
	if db.count == nil {
		return Stats{}
	}
	return db.count.stats()
}

// SourceError is a failure to reach or read the database: the daemon counts
// these towards source.unreachable. Its message never contains the password.
type SourceError struct {
	msg string
	Err error
}

func (e *SourceError) Error() string { return e.msg }
func (e *SourceError) Unwrap() error { return e.Err }

// SchemaError says that Sequencer's tables are missing.
type SchemaError struct {
	Missing []string
	Where   string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("table %s not found in %s: has Sequencer been installed and have its migrations run (php artisan migrate)? If the tables have other names, set SEQUENCER_*_TABLE in .env or tables: in seqwatch.yaml", strings.Join(e.Missing, ", "), e.Where)
}

// Open connects to the database and checks that it answers. The error, if
// any, is one sentence that names the host, port and user (never the
// password) and says what to check.
func Open(ctx context.Context, c Conn) (*DB, error) {
	var driverName, dsn string
	switch c.Driver {
	case "pgsql":
		driverName = "pgx"
		u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), Path: "/" + c.Database}
		if c.Password != "" {
			u.User = url.UserPassword(c.Username, c.Password)
		} else if c.Username != "" {
			u.User = url.User(c.Username)
		}
		q := url.Values{}
		for k, v := range c.Params {
			q[k] = v
		}
		if q.Get("connect_timeout") == "" {
			q.Set("connect_timeout", "10")
		}
		q.Set("application_name", "seqwatch")
		u.RawQuery = q.Encode()
		dsn = u.String()
	case "mysql", "mariadb":
		driverName = "mysql"
		mc := mysql.NewConfig()
		mc.User = c.Username
		mc.Passwd = c.Password
		mc.Net = "tcp"
		mc.Addr = net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
		mc.DBName = c.Database
		mc.Timeout = 10 * time.Second
		mc.ReadTimeout = 60 * time.Second
		mc.ParseTime = false // timestamps are wall-clock text in the app's zone
		mc.Params = map[string]string{"charset": "utf8mb4"}
		dsn = mc.FormatDSN()
	case "sqlite":
		driverName = "sqlite"
		info, err := os.Stat(c.Database)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &SourceError{msg: fmt.Sprintf("SQLite database %s does not exist: check DB_DATABASE (relative paths are taken from the application root)", c.Database), Err: err}
			}
			return nil, &SourceError{msg: fmt.Sprintf("SQLite database %s: %v", c.Database, plainFSError(err)), Err: err}
		}
		if info.IsDir() {
			return nil, &SourceError{msg: fmt.Sprintf("SQLite database %s is a directory, not a database file", c.Database)}
		}
		// Read-only, and wait rather than fail while Laravel writes.
		dsn = "file:" + c.Database + "?mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)"
	default:
		_, err := normalizeDriver(c.Driver)
		return nil, err
	}
	connector, err := connectorFor(driverName, dsn)
	if err != nil {
		return nil, classify(c, err)
	}
	cnt := &counter{}
	db := sql.OpenDB(countingConnector{Connector: connector, c: cnt})
	db.SetMaxOpenConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, classify(c, err)
	}
	return &DB{SQL: db, conn: c, d: dialectFor(c.Driver), count: cnt}, nil
}

// Close closes the connection pool.
func (db *DB) Close() error { return db.SQL.Close() }

// classify turns a driver error into one sentence a person can act on.
func classify(c Conn, err error) error {
	where := c.Where()
	var pgErr *pgconn.PgError
	var myErr *mysql.MySQLError
	var msg string
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("%s did not answer in time: check that the server is up and reachable", where)
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"):
		msg = fmt.Sprintf("%s refused the login: password authentication failed; check DB_USERNAME and DB_PASSWORD (or the URL's user and password)", where)
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		msg = fmt.Sprintf("%s: the database does not exist; check DB_DATABASE", where)
	case errors.As(err, &myErr) && (myErr.Number == 1045 || myErr.Number == 1698):
		msg = fmt.Sprintf("%s refused the login: access denied; check DB_USERNAME and DB_PASSWORD (or the URL's user and password)", where)
	case errors.As(err, &myErr) && myErr.Number == 1049:
		msg = fmt.Sprintf("%s: the database does not exist; check DB_DATABASE", where)
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = fmt.Sprintf("cannot connect to %s: connection refused; is the server running, and are DB_HOST and DB_PORT right?", where)
	case isDNS(err):
		msg = fmt.Sprintf("cannot connect to %s: host %q not found; check DB_HOST", where, c.Host)
	case isTimeout(err):
		msg = fmt.Sprintf("cannot connect to %s: timed out; check DB_HOST, DB_PORT and any firewall", where)
	default:
		msg = fmt.Sprintf("cannot use %s: %s", where, oneLine(err.Error()))
	}
	return &SourceError{msg: redact(msg, c.Password), Err: err}
}

func isDNS(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// redact removes a password from a message, in case a driver echoed it.
func redact(msg, password string) string {
	if len(password) < 3 {
		return msg
	}
	msg = strings.ReplaceAll(msg, password, "********")
	return strings.ReplaceAll(msg, url.QueryEscape(password), "********")
}

// queryError wraps an error from a query on table t.
func (db *DB) queryError(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &SourceError{msg: fmt.Sprintf("%s: %s did not answer in time", what, db.conn.Where()), Err: err}
	}
	var se *SourceError
	if errors.As(err, &se) {
		return err
	}
	if isConnErr(err) {
		return classify(db.conn, err)
	}
	return &SourceError{msg: redact(fmt.Sprintf("%s in %s: %s", what, db.conn.Where(), oneLine(err.Error())), db.conn.Password), Err: err}
}

func isConnErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, mysql.ErrInvalidConn)
}
