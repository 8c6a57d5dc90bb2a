package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seqwatch/seqwatch/internal/laravel"
)

// limits are how long one read may take, and the limits the database
// server is asked to apply so that it gives up a little before the client
// does: a lock wait then ends in "table is locked" from the server, not in
// a bare client-side deadline, and nothing is left running on the server.
type limits struct {
	// total is the client's deadline for the whole read; 0 means none.
	total time.Duration
	// statement is the server's limit on one statement.
	statement time.Duration
	// lock is the server's limit on one lock wait, below statement so that
	// a lock wait is reported as such.
	lock time.Duration
}

// limitsFor derives the limits from the connection's Timeout, or else from
// the context's deadline.
func limitsFor(ctx context.Context, c laravel.Conn) limits {
	t := c.Timeout
	if t <= 0 {
		if dl, ok := ctx.Deadline(); ok {
			t = time.Until(dl)
		}
	}
	if t <= 0 {
		return limits{}
	}
	// A tenth of the budget between the three deadlines (at least 100 ms,
	// for the error to travel back; at most 1 s), so that the lock wait
	// ends first, then the statement, then the client. The server's clock
	// for a lock wait starts with the statement, after the connection and
	// any earlier statement of the read: the margin must cover those too,
	// on a loaded machine as well.
	margin := min(max(t/10, 100*time.Millisecond), time.Second, t/4)
	return limits{
		total:     t,
		statement: (t - margin).Round(time.Millisecond),
		lock:      (t - 2*margin).Round(time.Millisecond),
	}
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// mysqlLimits is the value of one session variable assignment that sets
// the limits on MySQL and MariaDB alike, sent by the driver as
// "SET lock_wait_timeout = <this>" right after it connects.
//
// The two servers name the statement limit differently (MySQL:
// max_execution_time in ms, for SELECT; MariaDB: max_statement_time in
// seconds), and setting the other's variable fails the connection. Rather
// than ask the server which it is, the assignments are wrapped in
// executable comments that only the right server runs: MariaDB runs
// /*M!100108 ... */ (10.1.8+, where max_statement_time exists) and MySQL
// treats it as a comment; MySQL 5.7.8+ runs /*!50708 ... */, which MariaDB
// ignores (it skips MySQL version comments from 50700 up, being 5.5-based).
// lock_wait_timeout (metadata locks, such as an ALTER TABLE's) exists on
// both, in whole seconds.
func mysqlLimits(l limits) string {
	lockSecs := max(int64(l.lock/time.Second), 1)
	return fmt.Sprintf("%d /*M!100108 , max_statement_time = %.3f */ /*!50708 , max_execution_time = %d */",
		lockSecs, l.statement.Seconds(), l.statement.Milliseconds())
}

// driverLog is the MySQL driver's logger. The driver's default writes lines
// such as "[mysql] ... packets.go:58 unexpected EOF" to standard error,
// which monitoring systems show as the plugin's output; this one writes
// nothing and keeps the last error, so that the driver's bare "invalid
// connection" can be explained by its cause.
type driverLog struct {
	mu   sync.Mutex
	last error
}

// Print implements mysql.Logger.
func (l *driverLog) Print(v ...any) {
	for _, x := range v {
		if err, ok := x.(error); ok {
			l.mu.Lock()
			l.last = err
			l.mu.Unlock()
		}
	}
}

// take returns the last error logged and forgets it.
func (l *driverLog) take() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.last
	l.last = nil
	return err
}

// causedError is a driver error together with the cause the driver only
// logged.
type causedError struct{ err, cause error }

func (e *causedError) Error() string   { return e.err.Error() + ": " + e.cause.Error() }
func (e *causedError) Unwrap() []error { return []error{e.err, e.cause} }

// lost describes a connection that broke under the client, or "" when err
// is not such a failure.
func lost(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the server closed the connection (unexpected EOF)"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset (by the server, a proxy or a firewall)"
	case errors.Is(err, syscall.EPIPE):
		return "the server closed the connection (broken pipe)"
	}
	return ""
}

// waited formats a wait for messages: 1.8s, 9s, 2m0s.
func waited(d time.Duration) string {
	if d >= 10*time.Second {
		d = d.Round(time.Second)
	} else {
		d = d.Round(100 * time.Millisecond)
	}
	return d.String()
}

// tableIn returns the table named in a query description such as
// `read operations table "operations"`, or "".
func tableIn(what string) string {
	i := strings.IndexByte(what, '"')
	if i < 0 {
		return ""
	}
	name, err := strconv.QuotedPrefix(what[i:])
	if err != nil {
		return ""
	}
	s, err := strconv.Unquote(name)
	if err != nil {
		return ""
	}
	return s
}

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY ("database is
// locked"), which it returns after busy_timeout.
func sqliteBusy(err error) bool {
	var se interface{ Code() int }
	return errors.As(err, &se) && se.Code()&0xff == 5
}

// round up a duration to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}
