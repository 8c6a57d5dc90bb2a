package notifytest

import (
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// HostileCutTrace is the operation.failed event of the chat channels'
// golden failure: CutTrace with 12 frames of the 9,187, and zero-width
// and bidi characters in the application, summary and message. mention is
// the service's mention markup, put before the summary ("" for none);
// message is the error's message, which carries what the service's markup
// would act on.
func HostileCutTrace(mention, message string) notify.Event {
	ev := CutTrace()
	ev.ID, ev.App = "evt_00000000000000000000000000000001", "sh\u200bop"
	ev.Summary = mention + "2024_01_13_120000_FailedOperation failed: pay\u200bment & <b>refund</b> \u202eevil\u202c"
	ev.Errors[0].Message, ev.Errors[0].Trace = message, frames(12)
	return ev
}

// ChatHostileFailure is the chat channels' operation.failed event under
// key that carries hostile (the service's markup, HTML, CRLF, invalid
// UTF-8) in every text: a 1 MiB first trace frame made of frame repeated,
// 39 more frames, three errors of 500 lines each, 30 pending names and a
// deferred error.
func ChatHostileFailure(key, hostile, frame string) notify.Event {
	var trace strings.Builder
	trace.WriteString("#0 /app/" + strings.Repeat(frame, 1<<20/len(frame)) + ".php(12): x()\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&trace, "#%d /app/Foo.php(%d): %s Foo->bar()\n", i, i, hostile)
	}
	failed := T0.Add(time.Minute)
	errs := make([]notify.Error, 3)
	for i := range errs {
		errs[i] = notify.Error{Exception: `Illuminate\Database\QueryException` + hostile, Message: strings.Repeat(hostile+"\n", 500),
			Trace: trace.String(), Context: `{"file":"/app/<x>.php","line":12}`, CreatedAt: failed}
	}
	names := make([]string, 30)
	for i := range names {
		names[i] = fmt.Sprintf("%s %d", hostile, i)
	}
	return notify.Event{
		ID: "evt_0123456789abcdef0123456789abcdef", Kind: notify.OperationFailed, Key: key,
		App: "shop" + hostile, Environment: "production\r\n", OccurredAt: failed, Summary: hostile,
		Operation: &notify.Operation{ID: "42", Name: "2024_01_13_120000_Failed" + hostile, Type: "sync", ExecutedAt: T0, FailedAt: &failed},
		Errors:    errs, Source: hostile,
		Pending:  &notify.PendingCount{Count: 30, Threshold: 10, Names: names},
		Deferred: &notify.DeferredError{ID: "7", Operation: hostile, Attempts: 3, MaxAttempts: 3, LastError: hostile},
	}
}

// ChatRecovery is the chat channels' operation.recovered event under key,
// of application shop, an hour after T0.
func ChatRecovery(key string) notify.Event {
	done := T0.Add(time.Hour)
	return notify.Event{
		ID: "evt_fedcba9876543210fedcba9876543210", Kind: notify.OperationRecovered, Key: key,
		App: "shop", Environment: "production", OccurredAt: done, Summary: "2024_01_13_120000_Failed completed",
		Operation: &notify.Operation{ID: "43", Name: "2024_01_13_120000_Failed", Type: "sync", ExecutedAt: done, CompletedAt: &done},
	}
}

// DeployFinished is the event of seqwatch deploy --notify, with a failure.
func DeployFinished() notify.Event {
	at := time.Date(2026, 3, 14, 12, 1, 0, 0, time.UTC)
	return notify.Event{
		ID: "evt_deploy_1", Kind: notify.DeployFinished, Key: "deploy.finished/evt_deploy_1", App: "shop", Environment: "production", OccurredAt: at,
		Summary: "deploy finished, CRITICAL: 1 failed operation (2026_03_11_090000_ChargeCustomers: CardException: Your card was declined.)",
		Deploy: &notify.Deploy{Command: "php artisan sequencer:process --isolated", Status: "CRITICAL", Seconds: 42,
			Completed:  []string{"2026_03_10_090000_ImportCustomers"},
			Failed:     []notify.DeployFailed{{Name: "2026_03_11_090000_ChargeCustomers", Exception: `Stripe\Exception\CardException`, Message: "Your card was declined."}},
			RolledBack: []string{}, Skipped: []notify.DeploySkip{}, Running: []string{}, Scheduled: []string{}, NotRun: []string{}},
	}
}
