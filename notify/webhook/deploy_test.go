package webhook

import (
	"context"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedCarriesTheDeploy(t *testing.T) {
	r := newReceiver(t, false, []string{secretA()})
	n := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
	if _, err := n.Notify(context.Background(), []notify.Event{notifytest.DeployFinished()}); err != nil {
		t.Fatal(err)
	}
	got := r.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	p := got[0].payload
	if p.Event != "deploy.finished" || p.Deploy == nil || p.Deploy.Status != "CRITICAL" || len(p.Deploy.Failed) != 1 ||
		p.Deploy.Failed[0].Exception != `Stripe\Exception\CardException` || p.Deploy.Command != "php artisan sequencer:process --isolated" {
		t.Fatalf("payload %+v, deploy %+v", p, p.Deploy)
	}
}
