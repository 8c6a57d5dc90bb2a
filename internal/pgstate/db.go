// Package pgstate keeps seqwatch's daemon state in a PostgreSQL database
// that the operator provides for seqwatch (never an application's
// database), so that K seqwatch instances on K servers can share it with
// one active sender per application.
//
// Each application has one lease row and one state document:
//
//   - seqwatch_leases(app, holder, token, expires_at, renewed_at): who sends
//     for the application. Expiry is judged by the database's clock
//     (clock_timestamp()), so the servers' clock skew does not matter. The
//     token is the lease's generation: it stays while one holder renews and
//     grows by one at each takeover, and it fences every write (see
//     Store.Update).
//   - seqwatch_states(app, doc, rev, token, updated_at): the whole
//     state.State as one document (state.Marshal's JSON), with a revision
//     that grows at every write and the lease token of the last fenced
//     write.
//
// The package takes no session-level advisory lock and prepares no named
// statement, so it works through PgBouncer in transaction mode.
package pgstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seqwatch/seqwatch/internal/text"
)

// Defaults of Options.
const (
	DefaultMaxConns     = 4
	DefaultQueryTimeout = 5 * time.Second
)

// ErrUnavailable is matched (errors.Is) by every error that says the state
// database could not be reached or did not answer in time: a refused or
// timed-out connection, a server shutting down or restarting, a connection
// lost mid-query. Such an error is worth retrying later; others (a bad
// password, a missing privilege, a corrupt document) are not.
var ErrUnavailable = errors.New("state database unavailable")

// ErrSchemaNewer is matched by Open's error when the state database's
// schema was migrated by a newer seqwatch than this one.
var ErrSchemaNewer = errors.New("state database schema is newer than this seqwatch")

// Options tune Open. The zero value takes the defaults.
type Options struct {
	// MaxConns bounds the pool shared by every application's Store
	// (default DefaultMaxConns).
	MaxConns int32
	// QueryTimeout bounds each statement or transaction, and each
	// connection attempt, even when the caller's context has no deadline
	// (default DefaultQueryTimeout). A connect_timeout in the URL takes
	// precedence for connecting.
	QueryTimeout time.Duration
}

// DB is the shared state database: one small pool for all applications.
type DB struct {
	pool    *pgxpool.Pool
	where   string // host:port/database, for messages (never the password)
	timeout time.Duration
}

// Open connects to the state database at rawURL
// (postgres://user:pass@host:port/db, or pgx's key=value form),
// creates or migrates seqwatch's tables (see SchemaVersion), and returns
// the pool. Its errors name host:port/database and never the password; an
// unreachable server matches ErrUnavailable, a schema newer than this
// binary matches ErrSchemaNewer.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	db, err := connect(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	return db, nil
}

// connect makes the pool, as Open does, without touching the schema.
func connect(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, parseError(err)
	}
	cc := cfg.ConnConfig
	// PgBouncer in transaction mode hands each transaction (each statement
	// outside one) to whichever server connection is free, and Debian
	// bookworm's pgbouncer 1.18 does not track prepared statements.
	// Measured through it (pool_mode = transaction, two server
	// connections, clients racing: the tests' pgbouncer route):
	//   - pgx's default, named statements prepared once per connection and
	//     cached, fails: "prepared statement stmtcache_... already exists"
	//     (42P05), or does not exist, on a server connection that another
	//     client prepared on;
	//   - QueryExecModeDescribeExec fails: "unnamed prepared statement does
	//     not exist" (26000), its describe and its execute being two round
	//     trips that can land on two server connections;
	//   - QueryExecModeExec works: Parse, Bind, Execute and Sync of an
	//     unnamed statement go in one round trip, which PgBouncer serves
	//     on one server connection. QueryExecModeSimpleProtocol works too,
	//     but quotes the parameters into the SQL on the client; Exec keeps
	//     them apart.
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = opts.QueryTimeout
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "seqwatch"
	}
	cfg.MaxConns = opts.MaxConns
	// None opened ahead of need; idle ones close after five minutes.
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	db := &DB{where: where(cc), timeout: opts.QueryTimeout}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, db.fail("connect", err)
	}
	db.pool = pool
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Where returns host:port/database of the state database, for messages.
func (db *DB) Where() string { return db.where }

// Store returns the state of one application, app, as kept by this
// instance, holder (see NewHolderID). Every process must use a holder id
// of its own: a process that reused its predecessor's would renew the
// predecessor's lease, token and all, and the fence could not tell the two
// apart.
func (db *DB) Store(app, holder string) *Store {
	return &Store{db: db, app: app, holder: holder}
}

// NewHolderID returns an id for this process as a lease holder:
// hostname:pid:random, unique even across restarts and containers that
// reuse pids.
func NewHolderID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 4)
	// crypto/rand.Read never fails (it aborts the program instead).
	_, _ = rand.Read(b)
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b)
}

// where returns host:port/database of a connection configuration.
func where(cc *pgx.ConnConfig) string {
	return net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))) + "/" + cc.Database
}

// parseError reports an unusable URL without echoing it: it holds the
// password, and pgx's own message masks it only on a best-effort basis.
func parseError(err error) error {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return errors.New("state database URL is not valid")
	}
	cause := pce.Unwrap()
	var ue *url.Error
	switch {
	case errors.As(cause, &ue):
		cause = ue.Err // url.Error quotes the whole URL
	case cause == nil:
		// pgx says "cannot parse `URL`: what"; keep what.
		msg := pce.Error()
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			return fmt.Errorf("state database URL is not valid: %s", msg[i+3:])
		}
		return errors.New("state database URL is not valid")
	}
	return fmt.Errorf("state database URL is not valid: %w", cause)
}

// opError is a complete message that still matches its causes with
// errors.Is and errors.As.
type opError struct {
	msg  string
	errs []error
}

func (e *opError) Error() string   { return e.msg }
func (e *opError) Unwrap() []error { return e.errs }

// fail turns a database error met while doing action into one that names
// the database, and matches ErrUnavailable when the database could not be
// reached.
func (db *DB) fail(action string, err error) error {
	if err == nil {
		return nil
	}
	var oe *opError
	if errors.As(err, &oe) {
		return err // already ours
	}
	if unavailable(err) {
		return &opError{
			msg:  fmt.Sprintf("state database %s unreachable (%s): %s", db.where, action, reason(err, db.timeout)),
			errs: []error{ErrUnavailable, err},
		}
	}
	return &opError{msg: fmt.Sprintf("state database %s: %s: %s", db.where, action, text.OneLine(err.Error())), errs: []error{err}}
}

// reason is the short cause of an unavailability.
func reason(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	// pgx's connect error says "failed to connect to `user=... database=...`:
	// host:port (host): dial error: ..."; the innermost network error is
	// the fact.
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Error()
	}
	return text.OneLine(err.Error())
}

// unavailable reports whether err means the database could not be reached
// or stopped answering, as opposed to refusing what was asked.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up: nothing is known of the database
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case len(pe.Code) == 5 && pe.Code[:2] == "08": // connection exception (also PgBouncer's own errors)
			return true
		case len(pe.Code) == 5 && pe.Code[:2] == "53": // insufficient resources: too many connections, disk full
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shutting down, crashed, starting up
			return true
		}
		return false // a bad password, a missing privilege, an SQL error
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// staleConn reports whether err came from a pooled connection that died
// while idle (the server restarted, or PgBouncer closed it): worth one
// immediate retry on a fresh connection. A failure to connect is not: the
// retry would only wait as long again.
func staleConn(err error) bool {
	if !unavailable(err) {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return false
	}
	return true
}

// withTimeout bounds one operation by the query timeout, whatever ctx's
// own deadline.
func (db *DB) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, db.timeout)
}

// inTx runs f in one transaction under the query timeout and commits it.
// A failure on a connection that died while idle is tried once more on a
// fresh one, but only while f reports (through retryable) that nothing of
// the caller's was done yet.
func (db *DB) inTx(ctx context.Context, action string, f func(ctx context.Context, tx pgx.Tx) error, retryable func() bool) error {
	for attempt := 0; ; attempt++ {
		err := db.tryTx(ctx, f)
		if err != nil && attempt == 0 && staleConn(err) && retryable() {
			continue
		}
		return db.fail(action, err)
	}
}

func (db *DB) tryTx(ctx context.Context, f func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := db.withTimeout(ctx)
	defer cancel()
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// A no-op after Commit. ctx may be over: roll back under a
		// deadline of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), db.timeout)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := f(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return &commitError{err: err}
	}
	return nil
}

// commitError is a failure of COMMIT itself: the transaction may or may
// not have been committed.
type commitError struct{ err error }

func (e *commitError) Error() string { return "commit: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }
