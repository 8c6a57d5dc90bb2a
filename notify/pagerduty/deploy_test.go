package pagerduty

import (
	"context"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// A deploy's report opens and resolves an info incident of its own, as a
// test alert does: it pages nobody.
func TestDeployFinishedOpensAndResolvesAnInfoIncident(t *testing.T) {
	c := newClock()
	f := newFakePagerDuty(t, c)
	if _, err := newNotifier(t, f, c).Notify(context.Background(), []notify.Event{notifytest.DeployFinished()}); err != nil {
		t.Fatal(err)
	}
	in := f.allIncidents()
	if len(in) != 1 || !in[0].resolved || in[0].severity != "info" || in[0].key != "shop/deploy.finished/evt_deploy_1" ||
		!strings.Contains(in[0].summary, "1 failed operation") {
		t.Errorf("incidents %+v, want one info incident of the deploy's own, resolved", in)
	}
}
