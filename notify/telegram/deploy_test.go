package telegram

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsSentWithItsSummary(t *testing.T) {
	f := newFakeTelegram(t)
	if got := notifytest.SendOne(t, newNotifier(t, f), f.plains, notifytest.DeployFinished()); !strings.Contains(string(got), "1 failed operation") {
		t.Fatalf("the message does not hold the deploy's summary:\n%s", got)
	}
}

// plains are the texts Telegram shows of the messages f accepted.
func (f *fakeTelegram) plains() [][]byte {
	return notifytest.Bodies(f.messages(), func(m message) []byte { return []byte(m.plain) })
}
