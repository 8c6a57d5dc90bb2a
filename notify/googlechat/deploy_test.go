package googlechat

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsPostedWithItsSummary(t *testing.T) {
	n, accepted := setup(t)
	if got := notifytest.SendOne(t, n, accepted, notifytest.DeployFinished()); !strings.Contains(string(got), "1 failed operation") {
		t.Fatalf("the message does not hold the deploy's summary:\n%s", got)
	}
}
