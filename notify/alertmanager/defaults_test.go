package alertmanager

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The default alerts (labels and annotations), held by golden files (go
// test -update): a template the configuration does not set changes none
// of them.
func TestDefaultAlertsGolden(t *testing.T) {
	now := baseTime()
	at := now.Add(-time.Hour)
	cases := []struct {
		name   string
		events []notify.Event
	}{
		{"failed", []notify.Event{failedEvent("operation.failed/Op/42", "Op", at)}},
		{"recovered", []notify.Event{recoveredEvent("operation.failed/Op/42", "Op", at)}},
		{"digest", []notify.Event{{Kind: notify.Digest, App: "shop", OccurredAt: at, Summary: "2 past failures",
			Items: []notify.Event{failedEvent("operation.failed/Op/42", "Op", at), failedEvent("operation.failed/Other/43", "Other", at)}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPeer(t, http.StatusOK, "")
			n, err := New(Config{URLs: []string{p.srv.URL}, GeneratorURL: "https://seqwatch.example.com/"}, nil, fixed(now), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.Notify(context.Background(), c.events); err != nil {
				t.Fatal(err)
			}
			posts := p.posts()
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			body, err := json.Marshal(posts[0])
			if err != nil {
				t.Fatal(err)
			}
			testkit.GoldenJSON(t, "testdata/"+c.name+".json.golden", body, update)
		})
	}
}
