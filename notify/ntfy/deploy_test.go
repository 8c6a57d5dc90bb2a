package ntfy

import (
	"context"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsPublishedWithItsSummary(t *testing.T) {
	f := newFakeNtfy(t, "")
	if _, err := newNotifier(t, f, Config{}).Notify(context.Background(), []notify.Event{notifytest.DeployFinished()}); err != nil {
		t.Fatal(err)
	}
	got := f.Accepted()
	if len(got) != 1 || !strings.Contains(got[0].body, "1 failed operation") || got[0].priority != 3 {
		t.Fatalf("published %+v, want one at priority 3 with the deploy's summary", got)
	}
}
