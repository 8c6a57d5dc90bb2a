package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsPostedWithItsSummary(t *testing.T) {
	f := newFakeSlack(t)
	if _, err := webhookNotifier(t, f).Notify(context.Background(), []notify.Event{notifytest.DeployFinished()}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].all, "1 failed operation") || !strings.Contains(reqs[0].all, "CardException") {
		t.Fatalf("%d requests, want one message with the deploy's summary: %+v", len(reqs), reqs)
	}
}
