package state

import (
	"slices"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/event"
)

// batchOf is a state with the events ids queued for channel, each with the
// failed rounds given (0: never attempted), as one batch.
func batchOf(channel string, attempts []int, ids ...string) (*State, Batch) {
	st := New()
	b := Batch{Channel: channel}
	for i, id := range ids {
		st.Enqueue(event.Event{ID: id, Kind: event.OperationFailed, Key: "k/" + id}, []string{channel}, t0)
		st.Outbox[i].Attempts = attempts[i]
		b.Deliveries = append(b.Deliveries, st.Outbox[i])
	}
	return st, b
}

// TestRecordKeepsWhatBecameOfEachDelivery: one table of what an outcome
// does to the outbox, the dead letters and the disabled channels.
func TestRecordKeepsWhatBecameOfEachDelivery(t *testing.T) {
	at := t0.Add(time.Minute)
	type want struct {
		outbox, dead int
		next         []time.Time // of the deliveries left, in order
		attempts     []int
		disabled     bool
	}
	cases := []struct {
		name     string
		attempts []int
		o        Outcome
		want     want
	}{
		{"delivered leaves the outbox", []int{0, 2}, Outcome{Delivered: true, Attempts: 1, Sent: 2}, want{}},
		{"refused for good goes to the dead letters", []int{0, 1}, Outcome{Permanent: true, Err: "400", Attempts: 1}, want{dead: 2}},
		{"410 disables the channel", []int{0}, Outcome{Permanent: true, Disabled: true, Config: "h1", Err: "410", Attempts: 1}, want{dead: 1, disabled: true}},
		{"a failed round backs off per delivery", []int{0, 3}, Outcome{Err: "503", Attempts: 3},
			want{outbox: 2, next: []time.Time{at.Add(10 * time.Second), at.Add(80 * time.Second)}, attempts: []int{1, 4}}},
		{"the peer's Retry-After wins when later", []int{0}, Outcome{Err: "429", Attempts: 1, RetryAt: at.Add(90 * time.Second)},
			want{outbox: 1, next: []time.Time{at.Add(90 * time.Second)}, attempts: []int{1}}},
		{"no request made is no failed round", []int{2}, Outcome{Err: "backing off", RetryAt: at.Add(time.Minute)},
			want{outbox: 1, next: []time.Time{at.Add(time.Minute)}, attempts: []int{2}}},
		{"what was sent before a failure is delivered", []int{0, 0}, Outcome{Err: "503", Attempts: 2, Sent: 1},
			want{outbox: 1, next: []time.Time{at.Add(10 * time.Second)}, attempts: []int{1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids := []string{"evt_a", "evt_b"}[:len(c.attempts)]
			st, b := batchOf("hook", c.attempts, ids...)
			st.Record("hook", b, c.o, at)
			if len(st.Outbox) != c.want.outbox || len(st.Dead) != c.want.dead {
				t.Fatalf("outbox %d, dead %d; want %d, %d", len(st.Outbox), len(st.Dead), c.want.outbox, c.want.dead)
			}
			for i, d := range st.Outbox {
				if !d.NextAttempt.Equal(c.want.next[i]) || d.Attempts != c.want.attempts[i] {
					t.Errorf("delivery %s: next %s, attempts %d; want %s, %d", d.Event.ID, d.NextAttempt, d.Attempts, c.want.next[i], c.want.attempts[i])
				}
			}
			if _, disabled, _ := st.IsDisabled("hook", "h1"); disabled != c.want.disabled {
				t.Errorf("disabled = %v, want %v", disabled, c.want.disabled)
			}
		})
	}
}

// TestRecordMakesTheRoundTheChannels: a delivery makes what else waits for
// the channel due at once; a failed round holds it until the batch's next
// attempt, so a channel that is down costs one round per backoff. Other
// channels are left alone.
func TestRecordMakesTheRoundTheChannels(t *testing.T) {
	at := t0.Add(time.Hour)
	later := at.Add(90 * time.Second)
	setup := func() (*State, Batch) {
		st, b := batchOf("hook", []int{3}, "evt_lead")
		st.Enqueue(event.Event{ID: "evt_waiting", Kind: event.OperationFailed, Key: "k/w"}, []string{"hook"}, later)
		st.Enqueue(event.Event{ID: "evt_fresh", Kind: event.OperationFailed, Key: "k/f"}, []string{"hook"}, at)
		st.Enqueue(event.Event{ID: "evt_other", Kind: event.OperationFailed, Key: "k/o"}, []string{"mail"}, later)
		return st, b
	}
	next := func(st *State, id, channel string) time.Time {
		return st.Outbox[st.find(id, channel)].NextAttempt
	}

	st, b := setup()
	st.Record("hook", b, Outcome{Delivered: true, Attempts: 1, Sent: 1}, at)
	if !next(st, "evt_waiting", "hook").Equal(at) || !next(st, "evt_fresh", "hook").Equal(at) {
		t.Errorf("after a delivery the channel's waiting alerts are due at %s and %s, want %s", next(st, "evt_waiting", "hook"), next(st, "evt_fresh", "hook"), at)
	}
	if !next(st, "evt_other", "mail").Equal(later) {
		t.Error("another channel's delivery was made due")
	}

	st, b = setup()
	started := at.Add(-20 * time.Second)
	st.Record("hook", b, Outcome{Err: "503", Attempts: 3, Started: started}, at)
	want := started.Add(Backoff(4))
	if got := next(st, "evt_lead", "hook"); !got.Equal(want) {
		t.Errorf("the failed batch's next attempt %s, want %s (counted from the round's start)", got, want)
	}
	for id, wantNext := range map[string]time.Time{"evt_fresh": want, "evt_waiting": later} {
		i := st.find(id, "hook")
		if got := st.Outbox[i]; !got.NextAttempt.Equal(wantNext) || got.Attempts != 0 {
			t.Errorf("%s: next %s, attempts %d; want %s (held to the round, never brought forward) without a failed round", id, got.NextAttempt, got.Attempts, wantNext)
		}
	}
	if !next(st, "evt_other", "mail").Equal(later) {
		t.Error("another channel's delivery was held")
	}
}

// A pager says what became of each event of a batch: the one it refused
// goes to the dead letters alone, with its own reason; the ones it took
// leave the outbox; the rest waits. Before, one refusal dead-lettered the
// whole batch, and a 5xx after it kept the events already taken, to be
// sent again.
func TestRecordTakesEachEventsOwnResult(t *testing.T) {
	at := t0.Add(time.Minute)
	for _, tc := range []struct {
		name    string
		o       Outcome
		outbox  []string // ids left, in order
		nextAt  time.Time
		dueNow  bool // the channel's other waiting delivery is due at once
		lastErr string
	}{
		{"taken, refused, then a 5xx", Outcome{Err: "503", Attempts: 1, Took: map[string]bool{"evt_a": true}, Refused: map[string]string{"evt_b": "400 bad summary"}},
			[]string{"evt_c", "evt_later"}, at.Add(10 * time.Second), false, "503"},
		{"taken and refused: nothing waits", Outcome{Permanent: true, Err: "400 bad summary", Attempts: 1, Took: map[string]bool{"evt_a": true, "evt_c": true}, Refused: map[string]string{"evt_b": "400 bad summary"}},
			[]string{"evt_later"}, at, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := batchOf("pagerduty", []int{0, 0, 0}, "evt_a", "evt_b", "evt_c")
			st.Enqueue(event.Event{ID: "evt_later", Kind: event.OperationFailed, Key: "k/later"}, []string{"pagerduty"}, t0)
			st.Outbox[3].NextAttempt = at.Add(time.Hour) // waiting out a backoff
			st.Record("pagerduty", b, tc.o, at)
			var left []string
			for _, d := range st.Outbox {
				left = append(left, d.Event.ID)
			}
			if !slices.Equal(left, tc.outbox) {
				t.Fatalf("outbox %v, want %v", left, tc.outbox)
			}
			if len(st.Dead) != 1 || st.Dead[0].Event.ID != "evt_b" || st.Dead[0].LastError != "400 bad summary" {
				t.Fatalf("dead letters %+v, want evt_b alone with its own reason", st.Dead)
			}
			if tc.lastErr != "" && (st.Outbox[0].LastError != tc.lastErr || st.Outbox[0].Attempts != 1 || !st.Outbox[0].NextAttempt.Equal(tc.nextAt)) {
				t.Errorf("the waiting one: %+v", st.Outbox[0])
			}
			later := st.Outbox[len(st.Outbox)-1]
			if got := later.NextAttempt.Equal(at); got != tc.dueNow {
				t.Errorf("the channel's other delivery due at %s (due now: %v, want %v)", later.NextAttempt, got, tc.dueNow)
			}
		})
	}
}
