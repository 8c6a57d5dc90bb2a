package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsSentWithItsSummary(t *testing.T) {
	f := newFakeTelegram(t)
	if _, err := newNotifier(t, f).Notify(context.Background(), []notify.Event{notifytest.DeployFinished()}); err != nil {
		t.Fatal(err)
	}
	got := f.messages()
	if len(got) != 1 || !strings.Contains(got[0].plain, "1 failed operation") {
		t.Fatalf("%d messages, want one with the deploy's summary", len(got))
	}
}
