package slack

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsPostedWithItsSummary(t *testing.T) {
	f := newFakeSlack(t)
	all := func() [][]byte {
		return notifytest.Bodies(f.Accepted(), func(r received) []byte { return []byte(r.all) })
	}
	if got := string(notifytest.SendOne(t, webhookNotifier(t, f), all, notifytest.DeployFinished())); !strings.Contains(got, "1 failed operation") || !strings.Contains(got, "CardException") {
		t.Fatalf("the message does not hold the deploy's summary:\n%s", got)
	}
}
