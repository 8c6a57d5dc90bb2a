// Package notifytest holds what the channels' tests share: the events
// (so that every channel is tested on the same failure, the same cut trace
// and the same hostile text), the golden-message loop, the template and
// preview checks, and the receivers' common parts (an in-memory
// ThreadStore, a closed address). What a service refuses stays in each
// channel's own fake receiver. It is test support: only tests import it.
package notifytest

import (
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// T0 is when the test events' operations started.
var T0 = time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)

// Failure is an operation.failed event of app shop in production under
// key, one error with a two-frame trace, its ID made from key.
func Failure(key string) notify.Event {
	failed := T0.Add(3 * time.Second)
	return notify.Event{
		ID: "evt_" + strings.ReplaceAll(key, "/", "_"), Kind: notify.OperationFailed, Key: key,
		App: "shop", Environment: "production", OccurredAt: failed,
		Summary:   "2024_01_13_120000_FailedOperation failed: QueryException: connection refused",
		Operation: &notify.Operation{ID: "42", Name: "2024_01_13_120000_FailedOperation", Type: "sync", ExecutedAt: T0, FailedAt: &failed},
		Errors: []notify.Error{{
			Exception: `Illuminate\Database\QueryException`, Message: "SQLSTATE[08006] connection refused",
			Trace: "#0 /app/Foo.php(12): Foo->bar()\n#1 {main}", CreatedAt: failed,
		}},
	}
}

// CutTrace is an operation.failed event as the state builds it from
// a 9,187-frame trace.
func CutTrace() notify.Event {
	failed := T0.Add(3 * time.Second)
	return notify.Event{
		ID: "evt_0123456789abcdef0123456789abcdef", Kind: notify.OperationFailed,
		Key: "operation.failed/2024_01_13_120000_FailedOperation/42",
		App: "shop", Environment: "production", OccurredAt: failed,
		Summary: "2024_01_13_120000_FailedOperation failed: Illuminate\\Database\\QueryException: SQLSTATE[08006] connection refused",
		Operation: &notify.Operation{
			ID: "42", Name: "2024_01_13_120000_FailedOperation", Type: "sync", ExecutedAt: T0, FailedAt: &failed,
		},
		Errors: []notify.Error{{
			Exception: `Illuminate\Database\QueryException`, Message: "SQLSTATE[08006] connection refused",
			Trace: frames(25), Context: `{"file":"/app/Foo.php","line":12}`,
			CreatedAt: failed, TraceFrames: 9187, TraceBytes: 812345,
		}},
	}
}

// frames is the first n frames of the cut trace, one a line.
func frames(n int) string {
	var trace strings.Builder
	for i := range n {
		fmt.Fprintf(&trace, "#%d /app/vendor/laravel/framework/src/Foo%d.php(%d): Foo->bar%d()\n", i, i, i+10, i)
	}
	return strings.TrimSuffix(trace.String(), "\n")
}
