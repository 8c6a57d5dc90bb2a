package reader

import (
	"context"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/laravel"
)

// TestLimitsEndInOrder: for any budget, the server gives up on a lock wait
// first, then on the statement, and both before the client's deadline, so
// that the error that arrives says why.
func TestLimitsEndInOrder(t *testing.T) {
	for _, tc := range []struct {
		total, statement, lock time.Duration
		mysql                  string
	}{
		{100 * time.Millisecond, 75 * time.Millisecond, 50 * time.Millisecond, "1 /*M!100108 , max_statement_time = 0.075 */ /*!50708 , max_execution_time = 75 */"},
		{2 * time.Second, 1800 * time.Millisecond, 1600 * time.Millisecond, "1 /*M!100108 , max_statement_time = 1.800 */ /*!50708 , max_execution_time = 1800 */"},
		{10 * time.Second, 9 * time.Second, 8 * time.Second, "8 /*M!100108 , max_statement_time = 9.000 */ /*!50708 , max_execution_time = 9000 */"},
		{time.Minute, 59 * time.Second, 58 * time.Second, "58 /*M!100108 , max_statement_time = 59.000 */ /*!50708 , max_execution_time = 59000 */"},
	} {
		t.Run(tc.total.String(), func(t *testing.T) {
			l := limitsFor(context.Background(), laravel.Conn{Timeout: tc.total})
			if l.total != tc.total || l.statement != tc.statement || l.lock != tc.lock {
				t.Errorf("limits %+v, want total %v statement %v lock %v", l, tc.total, tc.statement, tc.lock)
			}
			if !(0 < l.lock && l.lock < l.statement && l.statement < l.total) {
				t.Errorf("limits out of order: %+v", l)
			}
			if got := mysqlLimits(l); got != tc.mysql {
				t.Errorf("mysqlLimits = %q, want %q", got, tc.mysql)
			}
		})
	}
	t.Run("from the context's deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if l := limitsFor(ctx, laravel.Conn{}); l.total <= 4*time.Second || l.total > 5*time.Second || l.lock >= l.statement {
			t.Errorf("limits %+v", l)
		}
	})
	t.Run("none without a budget", func(t *testing.T) {
		if l := limitsFor(context.Background(), laravel.Conn{}); l != (limits{}) {
			t.Errorf("limits %+v, want none", l)
		}
	})
}

func TestTableIn(t *testing.T) {
	for what, want := range map[string]string{
		`read operations table "operations"`:                    "operations",
		`read failed and running operations from "app.ops"`:     "app.ops",
		`read operation errors from "operation_errors" (again)`: "operation_errors",
		`look up Sequencer's tables`:                            "",
		`read "unterminated`:                                    "",
	} {
		if got := tableIn(what); got != want {
			t.Errorf("tableIn(%q) = %q, want %q", what, got, want)
		}
	}
}
