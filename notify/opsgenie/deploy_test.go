package opsgenie

import (
	"context"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// A deploy's report creates and closes a P5 alert of its own, as a test
// alert does: it pages nobody.
func TestDeployFinishedCreatesAndClosesAP5Alert(t *testing.T) {
	c := newClock()
	f := newFakeOpsgenie(t, c)
	if _, err := newNotifier(t, f, c).Notify(context.Background(), []notify.Event{notifytest.DeployFinished()}); err != nil {
		t.Fatal(err)
	}
	a := f.allAlerts()
	if len(a) != 1 || !a[0].closed || a[0].priority != "P5" || !strings.HasPrefix(a[0].alias, "shop_deploy.finished_evt_deploy_1~") {
		t.Errorf("alerts %+v, want one P5 alert of the deploy's own, closed", a)
	}
}
