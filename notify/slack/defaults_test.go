package slack

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// The default messages of both modes, held by golden files (go test
// -update): a template the configuration does not set changes none of
// them.
func TestDefaultMessagesGolden(t *testing.T) {
	failed := cutTraceEvent()
	digest := notify.Event{ID: "01HN0000000000000000000009", Kind: notify.Digest, App: "shop", OccurredAt: t0,
		Summary: "2 past failures found on the first check of shop", Items: []notify.Event{failed, recoveredEvent(failed.Key)}}
	notifytest.GoldenMessages(t, ".json.golden", []notifytest.Golden{
		{Name: "recovered", Events: []notify.Event{recoveredEvent(failed.Key)}},
		{Name: "digest", Events: []notify.Event{digest}},
		{Name: "batch", Events: []notify.Event{failed, recoveredEvent(failed.Key)}},
	}, func(t *testing.T) (notify.Notifier, func() [][]byte) {
		f := newFakeSlack(t)
		return webhookNotifier(t, f), f.bodies
	}, update)
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

// bodies are the bodies of the requests f accepted.
func (f *fakeSlack) bodies() [][]byte {
	return notifytest.Bodies(f.Accepted(), func(r received) []byte { return r.body })
}
