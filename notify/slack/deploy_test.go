package slack

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsPostedWithItsSummary(t *testing.T) {
	got := notifytest.CheckDeployFinished(t, func(t *testing.T) (notify.Notifier, func() [][]byte) {
		f := newFakeSlack(t)
		return webhookNotifier(t, f), func() [][]byte {
			return notifytest.Bodies(f.Accepted(), func(r received) []byte { return []byte(r.all) })
		}
	})
	if !strings.Contains(string(got), "CardException") {
		t.Fatalf("the message does not name the failed operation's exception:\n%s", got)
	}
}
