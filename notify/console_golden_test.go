package notify

import (
	"bytes"
	"context"
	"flag"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The console's default blocks, held by golden files (go test -update).
func TestConsoleDefaultsGolden(t *testing.T) {
	done := t0.Add(time.Hour)
	recovered := Event{ID: "e2", Kind: OperationRecovered, App: "shop", Environment: "production", OccurredAt: done,
		Summary:   "2024_01_13_120000_FailedOperation completed",
		Operation: &Operation{ID: "43", Name: "2024_01_13_120000_FailedOperation", Type: "sync", ExecutedAt: done, CompletedAt: &done}}
	digest := Event{ID: "e3", Kind: Digest, App: "shop", OccurredAt: done, Summary: "2 past failures", Items: []Event{failedEvent(), recovered}}
	cases := []struct {
		name   string
		events []Event
	}{
		{"failed", []Event{failedEvent()}},
		{"recovered", []Event{recovered}},
		{"digest", []Event{digest}},
		{"batch", []Event{failedEvent(), recovered}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if _, err := NewConsole(&out).Notify(context.Background(), c.events); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, "testdata/console_"+c.name+".golden", out.Bytes(), update)
		})
	}
}
