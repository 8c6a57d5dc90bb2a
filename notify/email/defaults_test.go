package email

import (
	"flag"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The default messages (subject, text and HTML bodies), held by golden
// files (go test -update): a template the configuration does not set
// changes none of them.
func TestDefaultMessagesGolden(t *testing.T) {
	at := time.Date(2024, 1, 13, 13, 0, 0, 0, time.UTC)
	failed := failedEvent(`Illuminate\Database\QueryException`, "SQLSTATE[08006] <b>Connection</b> refused\nDETAIL: host=db", "#0 /app/Foo.php(12): Foo->bar()\n#1 {main}")
	recovered := notify.Event{
		ID: "01HM0000000000000000000002", Kind: notify.OperationRecovered, Key: failed.Key, App: "app", Environment: "production",
		OccurredAt: at, Summary: "2024_01_13_120000_FailedOperation completed",
		Operation: &notify.Operation{ID: "43", Name: "2024_01_13_120000_FailedOperation", Type: "sync", ExecutedAt: at, CompletedAt: &at},
	}
	digest := notify.Event{ID: "01HM0000000000000000000003", Kind: notify.Digest, App: "app", Environment: "production",
		OccurredAt: at, Summary: "2 past failures found on the first check of app", Items: []notify.Event{failed, recovered}}
	cases := []struct {
		name   string
		events []notify.Event
	}{
		{"failed", []notify.Event{failed}},
		{"recovered", []notify.Event{recovered}},
		{"digest", []notify.Event{digest}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := render("[seqwatch]", c.events, nil)
			if err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, "testdata/"+c.name+".golden", []byte("Subject: "+m.Subject+"\n\n"+m.Text+"\n---- HTML ----\n"+m.HTML), update)
		})
	}
}
