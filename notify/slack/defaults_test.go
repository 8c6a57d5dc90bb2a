package slack

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

// The default messages of both modes, held by golden files (go test
// -update): a template the configuration does not set changes none of
// them.
func TestDefaultMessagesGolden(t *testing.T) {
	failed := cutTraceEvent()
	digest := notify.Event{ID: "01HN0000000000000000000009", Kind: notify.Digest, App: "shop", OccurredAt: t0,
		Summary: "2 past failures found on the first check of shop", Items: []notify.Event{failed, recoveredEvent(failed.Key)}}
	cases := []struct {
		name   string
		events []notify.Event
	}{
		{"recovered", []notify.Event{recoveredEvent(failed.Key)}},
		{"digest", []notify.Event{digest}},
		{"batch", []notify.Event{failed, recoveredEvent(failed.Key)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSlack(t)
			if _, err := webhookNotifier(t, f).Notify(context.Background(), c.events); err != nil {
				t.Fatal(err)
			}
			testkit.GoldenJSON(t, filepath.Join("testdata", c.name+".json.golden"), f.requests()[0].body, update)
		})
	}
	// Bot mode's message and thread reply, as buildMessage renders them
	// (the Web API posts them as form fields).
	t.Run("bot", func(t *testing.T) {
		m := buildMessage([]notify.Event{failed}, true, nil)
		body, err := json.Marshal(map[string]any{"text": m.text, "blocks": m.blocks, "thread_text": m.threadText, "thread_blocks": m.thread})
		if err != nil {
			t.Fatal(err)
		}
		testkit.GoldenJSON(t, filepath.Join("testdata", "bot_failed.json.golden"), body, update)
	})
}
