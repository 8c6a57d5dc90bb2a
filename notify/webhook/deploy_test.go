package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// deployFinished is the event of seqwatch deploy --notify, with a failure.
func deployFinished() notify.Event {
	at := time.Date(2026, 3, 14, 12, 1, 0, 0, time.UTC)
	return notify.Event{
		ID: "evt_deploy_1", Kind: notify.DeployFinished, Key: "deploy.finished/evt_deploy_1", App: "shop", Environment: "production", OccurredAt: at,
		Summary: "deploy finished, CRITICAL: 1 failed operation (2026_03_11_090000_ChargeCustomers: CardException: Your card was declined.)",
		Deploy: &notify.Deploy{Command: "php artisan sequencer:process --isolated", Status: "CRITICAL", Seconds: 42,
			Completed:  []string{"2026_03_10_090000_ImportCustomers"},
			Failed:     []notify.DeployFailed{{Name: "2026_03_11_090000_ChargeCustomers", Exception: `Stripe\Exception\CardException`, Message: "Your card was declined."}},
			RolledBack: []string{}, Skipped: []notify.DeploySkip{}, Running: []string{}, Scheduled: []string{}, NotRun: []string{}},
	}
}

func TestDeployFinishedCarriesTheDeploy(t *testing.T) {
	r := newReceiver(t, false, []string{secretA()})
	n := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
	if _, err := n.Notify(context.Background(), []notify.Event{deployFinished()}); err != nil {
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
