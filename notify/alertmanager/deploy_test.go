package alertmanager

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

// A deploy's report is no alert: nothing is posted, and the call succeeds.
func TestDeployFinishedPostsNoAlert(t *testing.T) {
	p := newPeer(t, 200, "")
	n, err := New(Config{URLs: []string{p.srv.URL}}, nil, fixed(baseTime()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), []notify.Event{deployFinished()}); err != nil {
		t.Fatal(err)
	}
	if posts := p.posts(); len(posts) != 0 {
		t.Fatalf("posted %v, want nothing", posts)
	}
}
