package pagerduty

import (
	"net/http"
	"testing"

	"github.com/seqwatch/seqwatch/internal/daemon/daemontest"
	"github.com/seqwatch/seqwatch/notify"
)

// Through the daemon, from the judged problems to PagerDuty: every
// problem that opens an incident resolves it when it closes, whether its
// close is a recovery or one that people are not told of (a deleted
// failed row, deferred operations processed or reset, a rolled-back run
// out of its window), and across a restart between the two. Before
// problem.closed, the silent ones left the incident open for good.
func TestEveryIncidentIsResolvedWhenItsProblemCloses(t *testing.T) {
	daemontest.EachClose(t, func(t *testing.T, c daemontest.Close, restart bool) {
		clock := newClock()
		f := newFakePagerDuty(t, clock)
		c.Run(t, func() map[string]notify.Notifier {
			return map[string]notify.Notifier{"pagerduty": newNotifier(t, f, clock)}
		}, clock, restart)
		in := f.allIncidents()
		if len(in) != 1 || in[0].key != "shop/"+c.Key || in[0].triggers != 1 || !in[0].resolved {
			t.Fatalf("incidents %+v, want one under shop/%s, triggered once and resolved", in, c.Key)
		}
		if got := f.sentEvents(); len(got) != 2 || got[1].action != "resolve" {
			t.Errorf("sent %v, want a trigger and a resolve", summaries(got))
		}
	})
}

// One event of a batch that PagerDuty refuses (400) goes to the dead
// letters alone; the ones it took are never sent again, not by the next
// tick's retry of the one that met 500s, nor after a restart (a new
// Notifier, which remembers nothing). Before, the 500 kept the whole
// batch in the outbox and the restarted daemon triggered the taken
// problems again.
func TestARefusedEventAloneIsADeadLetterAndATakenOneIsNeverSentAgain(t *testing.T) {
	clock := newClock()
	f := newFakePagerDuty(t, clock)
	keys := daemontest.RefuseOne(t, func() map[string]notify.Notifier {
		return map[string]notify.Notifier{"pagerduty": newNotifier(t, f, clock)}
	}, clock,
		func() {
			f.answerNext(0, http.StatusBadRequest, http.StatusInternalServerError, http.StatusInternalServerError, http.StatusInternalServerError)
		}, "400")
	triggers := map[string]int{}
	for _, s := range f.sentEvents() {
		triggers[s.key]++
	}
	if triggers["shop/"+keys[0]] != 1 || triggers["shop/"+keys[2]] != 1 || triggers["shop/"+keys[1]] != 0 {
		t.Errorf("triggers taken by key %v, want the first and third once each and the refused one never", triggers)
	}
}

// Deferred operations that get stuck again after a quiet close page again:
// the close resolved the first incident, so the trigger under the same
// dedup_key opens a new one instead of adding to a stale one nobody sees.
func TestAProblemBackAfterAQuietClosePagesAgain(t *testing.T) {
	for _, c := range daemontest.Closes() {
		if c.Key != "deferred.stuck" {
			continue
		}
		clock := newClock()
		f := newFakePagerDuty(t, clock)
		d := c.Run(t, func() map[string]notify.Notifier {
			return map[string]notify.Notifier{"pagerduty": newNotifier(t, f, clock)}
		}, clock, true)
		d.Snapshot = c.Open(clock.Now())
		if err := d.Tick(); err != nil {
			t.Fatal(err)
		}
		in := f.allIncidents()
		if len(in) != 2 || !in[0].resolved || in[1].resolved || in[1].key != in[0].key {
			t.Fatalf("incidents %+v, want the first resolved and a second one open under the same key", in)
		}
		return
	}
	t.Fatal("no deferred.stuck among daemontest.Closes")
}
