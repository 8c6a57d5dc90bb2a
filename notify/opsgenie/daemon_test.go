package opsgenie

import (
	"net/http"
	"testing"

	"github.com/seqwatch/seqwatch/internal/daemon/daemontest"
	"github.com/seqwatch/seqwatch/notify"
)

// aliasOf is the alias of application shop's problem key.
func aliasOf(key string) string {
	return alias(notify.Event{App: "shop", Key: key, Kind: notify.OperationFailed})
}

// Through the daemon, from the judged problems to Opsgenie: every problem
// that opens an alert closes it when it closes, whether its close is a
// recovery or one that people are not told of, and across a restart
// between the two. Before problem.closed, the silent ones left the alert
// open for good.
func TestEveryAlertIsClosedWhenItsProblemCloses(t *testing.T) {
	daemontest.EachClose(t, func(t *testing.T, c daemontest.Close, restart bool) {
		clock := newClock()
		f := newFakeOpsgenie(t, clock)
		c.Run(t, func() map[string]notify.Notifier {
			return map[string]notify.Notifier{"opsgenie": newNotifier(t, f, clock)}
		}, clock, restart)
		a := f.allAlerts()
		if len(a) != 1 || a[0].alias != aliasOf(c.Key) || a[0].count != 1 || !a[0].closed {
			t.Fatalf("alerts %+v, want one under %s, created once and closed", a, aliasOf(c.Key))
		}
		if got := f.taken(); len(got) != 2 || got[1].action != "close" {
			t.Errorf("requests %+v, want a create and a close", got)
		}
	})
}

// One event of a batch that Opsgenie refuses (422) goes to the dead
// letters alone; the ones it took are never created again, not by the
// next tick's retry of the one that met 500s, nor after a restart.
func TestARefusedEventAloneIsADeadLetterAndATakenOneIsNeverSentAgain(t *testing.T) {
	clock := newClock()
	f := newFakeOpsgenie(t, clock)
	keys := daemontest.RefuseOne(t, func() map[string]notify.Notifier {
		return map[string]notify.Notifier{"opsgenie": newNotifier(t, f, clock)}
	}, clock,
		func() {
			f.answerNext(0, http.StatusUnprocessableEntity, http.StatusInternalServerError, http.StatusInternalServerError, http.StatusInternalServerError)
		}, "422")
	created := map[string]int{}
	for _, a := range f.allAlerts() {
		created[a.alias] += a.count
	}
	if created[aliasOf(keys[0])] != 1 || created[aliasOf(keys[2])] != 1 || created[aliasOf(keys[1])] != 0 {
		t.Errorf("creates taken by alias %v, want the first and third once each and the refused one never", created)
	}
}
