package daemontest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

// Close is one way a problem opens and then closes, as the daemon reads
// it: a tick reads Open(now), and a tick After later reads Closed(now).
type Close struct {
	Name string
	// Key is the problem's key.
	Key string
	// Thresholds are what the problem is judged by.
	Thresholds   check.Thresholds
	Open, Closed func(now time.Time) *check.Snapshot
	After        time.Duration
}

// Closes are the ways a problem closes, one of each kind of problem that
// opens an incident on a pager, among them every one that closes without
// a recovery of its own.
func Closes() []Close {
	snap := Empty
	ago := func(now time.Time, d time.Duration) *time.Time { at := now.Add(-d); return &at }
	deferred := func(d check.Deferred) *check.Snapshot { s := snap(); s.Deferred = &d; return s }
	const op = "2024_01_13_120000_FailedOperation"
	failed := func(now time.Time) *check.Snapshot {
		s := snap()
		s.Failing = []check.Failure{{Attempt: check.Attempt{ID: "42", Name: op, Type: "sync", State: "failed", ExecutedAt: now.Add(-time.Minute), FailedAt: ago(now, 50*time.Second)},
			Errors: []check.ErrorRecord{{ID: "1", Exception: "RuntimeException", Message: "boom", Trace: "#0 {main}", CreatedAt: ago(now, 50*time.Second)}}}}
		return s
	}
	th := check.Thresholds{DeferredStuckAfter: time.Hour, DeferredOverdueAfter: time.Hour, RolledBackWindow: time.Hour}
	var rolledAt time.Time
	return []Close{
		{Name: "a failed operation recovers", Key: "operation.failed/" + op + "/42", Thresholds: th, Open: failed,
			Closed: func(now time.Time) *check.Snapshot {
				s := snap()
				s.LastCompleted = map[string]time.Time{op: now}
				return s
			}},
		{Name: "a failed row is deleted", Key: "operation.failed/" + op + "/42", Thresholds: th, Open: failed,
			Closed: func(time.Time) *check.Snapshot { return snap() }},
		{Name: "stuck deferred operations are reclaimed", Key: "deferred.stuck", Thresholds: th,
			Open: func(now time.Time) *check.Snapshot {
				return deferred(check.Deferred{Processing: 2, OldestReservedAt: ago(now, 2*time.Hour)})
			},
			Closed: func(time.Time) *check.Snapshot { return deferred(check.Deferred{}) }},
		{Name: "overdue deferred operations are processed", Key: "deferred.overdue", Thresholds: th,
			Open: func(now time.Time) *check.Snapshot {
				return deferred(check.Deferred{Pending: 3, OldestDueAt: ago(now, 2*time.Hour)})
			},
			Closed: func(time.Time) *check.Snapshot { return deferred(check.Deferred{}) }},
		{Name: "an exhausted deferred operation is reset", Key: "deferred.failed/7", Thresholds: th,
			Open: func(time.Time) *check.Snapshot {
				return deferred(check.Deferred{Exhausted: []check.DeferredFailure{{ID: "7", Operation: `App\Deferred\SendInvoices`, Attempts: 3, MaxAttempts: 3, LastError: "SMTP timeout"}}})
			},
			Closed: func(time.Time) *check.Snapshot { return deferred(check.Deferred{Pending: 1}) }},
		{Name: "a rolled-back run leaves rolled_back_window", Key: "operation.rolled_back/" + op + "/41", Thresholds: th, After: time.Hour,
			Open: func(now time.Time) *check.Snapshot {
				rolledAt = now.Add(-10 * time.Minute)
				return rolledBack(snap(), op, rolledAt)
			},
			Closed: func(time.Time) *check.Snapshot { return rolledBack(snap(), op, rolledAt) }},
	}
}

func rolledBack(s *check.Snapshot, op string, at time.Time) *check.Snapshot {
	done := at.Add(-time.Minute)
	s.RolledBack = []check.RolledBackRun{{Attempt: check.Attempt{ID: "41", Name: op, Type: "sync", State: "rolled_back",
		ExecutedAt: done.Add(-time.Second), CompletedAt: &done, RolledBackAt: &at}}}
	return s
}

// Run runs c through a daemon with the channels that channels builds: a
// first tick on nothing (the first run), a tick that opens the problem,
// with restart a new daemon on the same state, then the tick After later
// that closes it. Every tick must deliver everything. It returns the
// daemon, for what a test checks of its state.
func (c Close) Run(t *testing.T, channels func() map[string]notify.Notifier, clock *testkit.Clock, restart bool) *Daemon {
	t.Helper()
	d := Start(t, channels(), c.Thresholds, clock.Now, clock.Sleep, Empty())
	tick := func(what string) {
		t.Helper()
		if err := d.Tick(); err != nil {
			t.Fatalf("the tick that %s: %v", what, err)
		}
	}
	tick("reads nothing")
	d.Snapshot = c.Open(clock.Now())
	tick("opens the problem")
	if _, open := d.State().Open[c.Key]; !open {
		t.Fatalf("%s is not open after the tick that opens it (open: %v)", c.Key, d.State().Open)
	}
	if restart {
		d.Restart(channels())
	}
	clock.Add(c.After + time.Minute)
	d.Snapshot = c.Closed(clock.Now())
	tick("closes the problem")
	if _, open := d.State().Open[c.Key]; open {
		t.Fatalf("%s is still open after the tick that closes it", c.Key)
	}
	return d
}

// Empty is the snapshot of application shop in production with nothing
// wrong.
func Empty() *check.Snapshot { return &check.Snapshot{App: "shop", Environment: "production"} }

// Failures is a snapshot of n failed runs of n operations, keys
// FailedKey(name, "1"), oldest first, names returned in that order.
func Failures(now time.Time, n int) (*check.Snapshot, []string) {
	s := Empty()
	var keys []string
	for i := range n {
		name := fmt.Sprintf("2024_01_13_12000%d_Operation%c", i, 'A'+i)
		at := now.Add(time.Duration(i-n) * time.Minute)
		failed := at.Add(time.Second)
		// Newest first, as the reader lists them.
		s.Failing = append([]check.Failure{{Attempt: check.Attempt{ID: "1", Name: name, Type: "sync", State: "failed", ExecutedAt: at, FailedAt: &failed},
			Errors: []check.ErrorRecord{{ID: "1", Exception: "RuntimeException", Message: "boom " + name, Trace: "#0 {main}", CreatedAt: &failed}}}}, s.Failing...)
		keys = append(keys, check.FailedKey(name, "1"))
	}
	return s, keys
}

// EachClose runs test for every Close, with and without a restart between
// the open and the close, each as a subtest.
func EachClose(t *testing.T, test func(t *testing.T, c Close, restart bool)) {
	for _, c := range Closes() {
		for _, restart := range []bool{false, true} {
			name := c.Name
			if restart {
				name += ", restarted between"
			}
			t.Run(name, func(t *testing.T) { test(t, c, restart) })
		}
	}
}

// RefuseOne runs three failures through a daemon with the channels that
// channels builds, in one tick whose batch the channel's receiver answers
// as script says (the test scripts: the first taken, the second refused
// for good with status, the third failing on every attempt), then
// restarts the daemon and runs the next tick. It fails t unless the
// refused event alone is a dead letter, with status in its reason, the
// third waits after the first tick and is delivered by the second. It
// returns the three problems' keys, for what the test checks of its
// receiver: nothing of the first sent again.
func RefuseOne(t *testing.T, channels func() map[string]notify.Notifier, clock *testkit.Clock, script func(), status string) []string {
	t.Helper()
	d := Start(t, channels(), check.Thresholds{}, clock.Now, clock.Sleep, Empty())
	if err := d.Tick(); err != nil {
		t.Fatal(err)
	}
	snap, keys := Failures(clock.Now(), 3)
	d.Snapshot = snap
	script()
	if err := d.Tick(); err == nil {
		t.Fatal("the tick reported everything delivered")
	}
	st := d.State()
	if len(st.Dead) != 1 || st.Dead[0].Event.Key != keys[1] || !strings.Contains(st.Dead[0].LastError, status) {
		t.Fatalf("dead letters %+v, want the refused %s alone, with its %s", st.Dead, keys[1], status)
	}
	if len(st.Outbox) != 1 || st.Outbox[0].Event.Key != keys[2] {
		t.Fatalf("outbox %+v, want %s alone waiting", st.Outbox, keys[2])
	}
	d.Restart(channels())
	clock.Add(time.Minute)
	if err := d.Tick(); err == nil {
		t.Fatal("the tick reported no dead letter")
	}
	if st := d.State(); len(st.Outbox) != 0 || len(st.Dead) != 1 {
		t.Fatalf("outbox %d, dead %d after the retry; want 0 and 1", len(st.Outbox), len(st.Dead))
	}
	return keys
}
