package notifytest

import (
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// Recovery is the operation.recovered event that closes Failure(key): a
// later run of the operation completed an hour after T0.
func Recovery(key string) notify.Event {
	done := T0.Add(time.Hour)
	return notify.Event{
		ID: "evt_rec_" + strings.ReplaceAll(key, "/", "_"), Kind: notify.OperationRecovered, Key: key,
		App: "shop", Environment: "production", OccurredAt: done,
		Summary:   "2024_01_13_120000_FailedOperation recovered: a run started 2024-01-13 13:00:00 completed",
		Operation: &notify.Operation{ID: "43", Name: "2024_01_13_120000_FailedOperation", Type: "sync", ExecutedAt: done, CompletedAt: &done},
	}
}

// HostileTrace is Failure(key) with hostile (a channel's own tricks:
// its mention markup, HTML, CRLF, invalid UTF-8, ...) in every text the
// event carries, a summary and a message far over any service's limits,
// and a trace whose first frame alone is over 1 MiB (the 1 MiB trace of
// the channels' hostile cases).
func HostileTrace(key, hostile string) notify.Event {
	ev := Failure(key)
	var trace strings.Builder
	trace.WriteString("#0 /app/" + strings.Repeat("A<b>&@here", 110_000) + ".php(12): x()\n")
	for i := 1; i < 200; i++ {
		fmt.Fprintf(&trace, "#%d /app/Foo.php(%d): %s\n", i, i, hostile)
	}
	ev.App = "shop " + hostile
	ev.Environment = "production\r\n<i>"
	ev.Summary = hostile + strings.Repeat(" &<>", 500)
	ev.Operation.Name = "2024_01_13_120000_Failed" + hostile
	ev.Errors = []notify.Error{{
		Exception: `Illuminate\Database\QueryException` + hostile,
		Message:   hostile + strings.Repeat("@channel & <i>", 200_000),
		Trace:     trace.String(),
		Context:   `{"file":"/app/<x>.php","line":12}`,
		CreatedAt: T0,
	}}
	return ev
}
