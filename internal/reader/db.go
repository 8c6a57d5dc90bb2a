package reader

import (
	"context"
	"database/sql"
	"database/sql/driver"
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

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/text"
)

// DB is an open connection to an application's database.
type DB struct {
	SQL   *sql.DB
	conn  laravel.Conn
	d     dialect
	count *counter
	lim   limits
	dlog  *driverLog
}

// Stats returns what this DB has fetched so far.
func (db *DB) Stats() Stats {
	if db.count == nil {
		return Stats{}
	}
	return db.count.stats()
}

// SourceError is a failure to reach or read the database: the daemon counts
// these towards source.unreachable. Its message says what went wrong and
// never contains the password; Reason, when not OtherReason, lets a
// command add what to check.
type SourceError struct {
	Reason check.Reason
	// FromURL says the connection was given as a database URL (see
	// Conn.FromURL), so that advice names the URL's parts rather than
	// DB_* variables.
	FromURL bool
	msg     string
	Err     error
}

func (e *SourceError) Error() string { return e.msg }
func (e *SourceError) Unwrap() error { return e.Err }

// SchemaError says that Sequencer's tables are missing.
type SchemaError struct {
	Missing []string
	Where   string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("table %s not found in %s", strings.Join(e.Missing, ", "), e.Where)
}

// Open connects to the database and checks that it answers. The error, if
// any, is one sentence that names the host, port and user (never the
// password) and says what went wrong: a *SourceError whose Reason says
// what a command can advise.
//
// c.Timeout (or else ctx's deadline) bounds each read: the server is asked
// to give up on a lock wait or a statement a little before it (PostgreSQL's
// lock_timeout and statement_timeout, MySQL's max_execution_time or
// MariaDB's max_statement_time and their lock_wait_timeout, SQLite's busy
// timeout), and the MySQL driver's read and write timeouts follow it.
func Open(ctx context.Context, c laravel.Conn) (*DB, error) {
	lim := limitsFor(ctx, c)
	var driverName, dsn string
	// connector is set where a driver needs settings a DSN cannot carry.
	var connector driver.Connector
	var dlog *driverLog
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
			connect := 10
			if lim.total > 0 {
				connect = min(connect, ceilSeconds(lim.total))
			}
			q.Set("connect_timeout", strconv.Itoa(connect))
		}
		// Startup parameters (pgx sends unknown URL parameters in the
		// startup message): no extra round trip, and they hold for every
		// statement of the session.
		// A limit the URL sets itself is the user's; messages then do not
		// claim to know how long the server waited.
		if q.Get("statement_timeout") == "" && lim.total > 0 {
			q.Set("statement_timeout", ms(lim.statement))
		} else {
			lim.statement = 0
		}
		if q.Get("lock_timeout") == "" && lim.total > 0 {
			q.Set("lock_timeout", ms(lim.lock))
		} else {
			lim.lock = 0
		}
		q.Set("application_name", "seqwatch")
		// One round trip per statement (Parse, Bind, Execute and Sync of an
		// unnamed statement), not pgx's default of preparing and caching
		// each statement first: a read asks each question once, and an
		// application of apps: reconnects at every tick, so the cache
		// only cost a round trip and a server-side statement per query.
		// It is also what PgBouncer in transaction mode can serve (see
		// internal/pgstate). A mode the URL sets is the user's.
		if q.Get("default_query_exec_mode") == "" {
			q.Set("default_query_exec_mode", "exec")
		}
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
		if lim.total > 0 {
			mc.Timeout = min(mc.Timeout, lim.total)
			mc.ReadTimeout = lim.total
			mc.WriteTimeout = lim.total
			mc.Params = map[string]string{"lock_wait_timeout": mysqlLimits(lim)}
		}
		mc.ParseTime = false // timestamps are wall-clock text in the app's zone
		if err := mc.Apply(mysql.Charset("utf8mb4", "")); err != nil {
			return nil, classify(c, lim, err)
		}
		dlog = &driverLog{}
		mc.Logger = dlog
		mysqlConnector, err := mysql.NewConnector(mc)
		if err != nil {
			return nil, classify(c, lim, err)
		}
		connector = mysqlConnector
	case "sqlite":
		driverName = "sqlite"
		info, err := os.Stat(c.Database)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &SourceError{Reason: check.NoSQLiteFile, FromURL: c.FromURL, msg: fmt.Sprintf("SQLite database %s does not exist", c.Database), Err: err}
			}
			return nil, &SourceError{msg: fmt.Sprintf("SQLite database %s: %v", c.Database, text.PlainFSError(err)), Err: err}
		}
		if info.IsDir() {
			return nil, &SourceError{msg: fmt.Sprintf("SQLite database %s is a directory, not a database file", c.Database)}
		}
		// Read-only, and wait rather than fail while Laravel writes (but
		// not past the read's own limit).
		busy := 5 * time.Second
		if lim.total > 0 {
			// SQLite's busy handler sleeps in steps of up to 100 ms and
			// a loaded machine adds to each: leave it a wider margin
			// than a server's lock timeout needs, so that a locked file
			// is reported as locked, not as a read that ran out of time.
			busy = lim.lock - min(lim.total/4, 500*time.Millisecond)
		}
		dsn = "file:" + c.Database + "?mode=ro&_pragma=busy_timeout(" + ms(busy) + ")&_pragma=query_only(1)" + sqliteMemoryPragmas
	default:
		_, err := laravel.NormalizeDriver(c.Driver)
		return nil, err
	}
	if connector == nil {
		var err error
		if connector, err = connectorFor(driverName, dsn); err != nil {
			return nil, classify(c, lim, err)
		}
	}
	cnt := &counter{}
	db := sql.OpenDB(countingConnector{Connector: connector, c: cnt})
	db.SetMaxOpenConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, classify(c, lim, withCause(err, dlog))
	}
	return &DB{SQL: db, conn: c, d: dialectFor(c.Driver), count: cnt, lim: lim, dlog: dlog}, nil
}

// sqliteMemoryPragmas bound what each SQLite read connection holds in
// memory. modernc.org/sqlite allocates outside the Go heap (GOMEMLIMIT
// does not see it), and a daemon reads 8 applications at once, each with
// up to 2 connections: at SQLite's default page cache of 2000 KiB a
// connection that scans a 5 MB table keeps 2 MB until it is closed, which
// was most of the first tick's peak over 1,000 SQLite applications (see
// docs/performance.md). A read is index probes and one filtered scan,
// read once: a cache that holds the indexes' upper levels is all it
// reuses. mmap_size(0) keeps the file out of the address space (the
// compiled-in default, stated so that a driver upgrade cannot change it)
// and temp_store(1) puts temporary tables and indexes in files, which the
// cache bounds, not in memory, which nothing does.
// TestSQLiteReadConnectionsAreSmall holds every connection to these values.
//
// cache_size is negative: KiB, whatever the file's page size.
const sqliteMemoryPragmas = "&_pragma=cache_size(-256)&_pragma=mmap_size(0)&_pragma=temp_store(1)"

// Close closes the connection pool.
func (db *DB) Close() error { return db.SQL.Close() }

// withCause adds the cause the MySQL driver logged to its bare "invalid
// connection".
func withCause(err error, dlog *driverLog) error {
	if !errors.Is(err, mysql.ErrInvalidConn) {
		return err
	}
	if cause := dlog.take(); cause != nil {
		return &causedError{err: err, cause: cause}
	}
	return err
}

// classify turns a driver error into one sentence that says what went
// wrong, and the reason a command can advise on.
func classify(c laravel.Conn, lim limits, err error) error {
	where := c.Where()
	var pgErr *pgconn.PgError
	var myErr *mysql.MySQLError
	var msg string
	reason := check.OtherReason
	switch {
	case errors.Is(err, context.Canceled):
		msg = fmt.Sprintf("connecting to %s was interrupted", where)
	case lim.total > 0 && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)):
		msg, reason = fmt.Sprintf("%s did not answer within %s", where, waited(lim.total)), check.NotAnswering
	case errors.Is(err, context.DeadlineExceeded):
		msg, reason = fmt.Sprintf("%s did not answer in time", where), check.NotAnswering
	case c.Driver == "sqlite" && sqliteBusy(err):
		msg = sqliteLocked(c, lim)
	case errors.As(err, &pgErr) && pgErr.Code == "08P01" && strings.Contains(pgErr.Message, "startup parameter"):
		// PgBouncer refuses startup parameters it does not know.
		msg, reason = fmt.Sprintf("%s refused a startup parameter (%s)", where, text.OneLine(pgErr.Message)), check.StartupParameterRefused
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"):
		msg, reason = fmt.Sprintf("%s refused the login: password authentication failed", where), check.LoginRefused
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		msg, reason = fmt.Sprintf("%s: the database does not exist", where), check.NoSuchDatabase
	case errors.As(err, &myErr) && (myErr.Number == 1045 || myErr.Number == 1698):
		msg, reason = fmt.Sprintf("%s refused the login: access denied", where), check.LoginRefused
	case errors.As(err, &myErr) && myErr.Number == 1049:
		msg, reason = fmt.Sprintf("%s: the database does not exist", where), check.NoSuchDatabase
	case errors.Is(err, syscall.ECONNREFUSED):
		msg, reason = fmt.Sprintf("cannot connect to %s: connection refused", where), check.ConnectionRefused
	case isDNS(err):
		msg, reason = fmt.Sprintf("cannot connect to %s: host %q not found", where, c.Host), check.HostNotFound
	case isTimeout(err):
		msg, reason = fmt.Sprintf("cannot connect to %s: timed out", where), check.ConnectTimeout
	case lost(err) != "":
		msg = fmt.Sprintf("cannot use %s: %s", where, lost(err))
	default:
		msg = fmt.Sprintf("cannot use %s: %s", where, text.OneLine(err.Error()))
	}
	return &SourceError{Reason: reason, FromURL: c.FromURL, msg: redact(msg, c.Password), Err: err}
}

// sqliteLocked says that SQLite's file stayed locked for the busy timeout.
func sqliteLocked(c laravel.Conn, lim limits) string {
	wait := lim.lock
	if wait <= 0 {
		wait = 5 * time.Second // the busy timeout Open sets without a limit
	}
	return fmt.Sprintf("%s is locked (waited %s): another process is writing to it", c.Where(), waited(wait))
}

func isDNS(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// redact removes a password, as written and as escaped in a URL, from a
// message, in case a driver echoed it. The mark is `seqwatch check`'s own
// (the line monitoring systems show); the minimum length is
// text.MinSecretLen.
func redact(msg, password string) string {
	return text.RedactAs(msg, "********", password, url.QueryEscape(password))
}

// queryError wraps an error from a query described by what (such as
// `read operations table "operations"`).
func (db *DB) queryError(what string, err error) error {
	var se *SourceError
	if errors.As(err, &se) {
		return err
	}
	err = withCause(err, db.dlog)
	where := db.conn.Where()
	var pgErr *pgconn.PgError
	var myErr *mysql.MySQLError
	locked := func(wait time.Duration) error {
		table := "a table"
		if t := tableIn(what); t != "" {
			table = t + " table"
		}
		if wait > 0 {
			table += fmt.Sprintf(" is locked (waited %s)", waited(wait))
		} else {
			table += " is locked"
		}
		return &SourceError{msg: fmt.Sprintf("%s in %s: another session holds a lock on it, such as a migration's ALTER TABLE or a LOCK TABLE in an open transaction", table, where), Err: err}
	}
	slow := func() error {
		limit := "the statement timeout"
		if db.lim.statement > 0 {
			limit = fmt.Sprintf("%s, the statement timeout seqwatch set", waited(db.lim.statement))
		}
		return &SourceError{msg: fmt.Sprintf("%s in %s took longer than %s: the server is overloaded or a table is locked", what, where, limit), Err: err}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &SourceError{msg: fmt.Sprintf("%s: interrupted while waiting for %s", what, where), Err: err}
	case errors.Is(err, context.DeadlineExceeded) && db.lim.total > 0:
		return &SourceError{msg: fmt.Sprintf("%s: %s did not answer within %s: the server is overloaded or a table is locked", what, where, waited(db.lim.total)), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &SourceError{msg: fmt.Sprintf("%s: %s did not answer in time", what, where), Err: err}
	case errors.As(err, &pgErr) && pgErr.Code == "55P03": // lock_not_available: lock_timeout
		return locked(db.lim.lock)
	case errors.As(err, &pgErr) && pgErr.Code == "57014" && strings.Contains(pgErr.Message, "statement timeout"):
		return slow()
	case errors.As(err, &myErr) && myErr.Number == 1205: // ER_LOCK_WAIT_TIMEOUT: lock_wait_timeout, whole seconds
		wait := time.Duration(0)
		if db.lim.lock > 0 {
			wait = time.Duration(max(int64(db.lim.lock/time.Second), 1)) * time.Second
		}
		return locked(wait)
	case errors.As(err, &myErr) && (myErr.Number == 3024 || myErr.Number == 1969): // MySQL's max_execution_time, MariaDB's max_statement_time
		return slow()
	case db.conn.Driver == "sqlite" && sqliteBusy(err):
		return &SourceError{msg: sqliteLocked(db.conn, db.lim), Err: err}
	}
	if isConnErr(err) {
		return classify(db.conn, db.lim, err)
	}
	return &SourceError{msg: redact(fmt.Sprintf("%s in %s: %s", what, where, text.OneLine(err.Error())), db.conn.Password), Err: err}
}

func isConnErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, mysql.ErrInvalidConn) || lost(err) != ""
}
