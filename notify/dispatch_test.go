package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)

// fakeClock is the injected clock: Sleep advances it instead of sleeping.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// reply is one scripted answer of the test notifier.
type reply struct {
	retry bool
	err   error
}

var (
	http500 = reply{retry: true, err: errors.New("slack: HTTP 500 Internal Server Error")}
	http404 = reply{retry: false, err: errors.New("webhook: HTTP 404 Not Found")}
)

func http429(after time.Duration) reply {
	return reply{retry: true, err: fmt.Errorf("slack: %w",
		&RetryAfterError{After: after, Err: errors.New("HTTP 429 Too Many Requests")})}
}

type call struct {
	at     time.Time
	events int
}

// recordingNotifier is a real Notifier that records each call's time on the
// fake clock and answers from a script (success once the script runs out).
type recordingNotifier struct {
	clock  *fakeClock
	script []reply
	onCall func(n int)
	calls  []call
}

func (n *recordingNotifier) Notify(_ context.Context, events []Event) (bool, error) {
	n.calls = append(n.calls, call{at: n.clock.Now(), events: len(events)})
	if n.onCall != nil {
		n.onCall(len(n.calls))
	}
	if len(n.script) == 0 {
		return false, nil
	}
	r := n.script[0]
	n.script = n.script[1:]
	return r.retry, r.err
}

func oneEvent() []Event {
	return []Event{{ID: "e1", Kind: OperationFailed, App: "shop", Summary: "operation Foo failed: body text"}}
}

func newTestDispatcher(clock *fakeClock, channels map[string]Notifier, opts DispatcherOptions) *Dispatcher {
	opts.Now = clock.Now
	opts.Sleep = clock.Sleep
	return NewDispatcher(channels, opts)
}

func TestDispatcherSendRetries(t *testing.T) {
	tests := []struct {
		name          string
		script        []reply
		wantDelivered bool
		wantPermanent bool
		wantAttempts  int
		check         func(t *testing.T, n *recordingNotifier, o Outcome)
	}{
		{
			name:          "500 then success is delivered on the second attempt after a jittered backoff",
			script:        []reply{http500},
			wantDelivered: true,
			wantAttempts:  2,
			check: func(t *testing.T, n *recordingNotifier, o Outcome) {
				gap := n.calls[1].at.Sub(n.calls[0].at)
				if gap < 500*time.Millisecond || gap > 1500*time.Millisecond {
					t.Errorf("backoff %s, want within [0.5s, 1.5s]", gap)
				}
				if o.Err != nil {
					t.Errorf("Err = %v, want nil once delivered", o.Err)
				}
			},
		},
		{
			name:          "404 is permanent after one attempt",
			script:        []reply{http404},
			wantPermanent: true,
			wantAttempts:  1,
		},
		{
			name:          "disabled endpoint is permanent even when flagged retryable",
			script:        []reply{{retry: true, err: fmt.Errorf("webhook: HTTP 410: %w", ErrDisabled)}},
			wantPermanent: true,
			wantAttempts:  1,
		},
		{
			name:         "three 500s give up without being permanent",
			script:       []reply{http500, http500, http500},
			wantAttempts: 3,
			check: func(t *testing.T, n *recordingNotifier, o Outcome) {
				if o.Err == nil || !strings.Contains(o.Err.Error(), "500") {
					t.Errorf("Err = %v, want the last 500", o.Err)
				}
				if !o.RetryAt.IsZero() {
					t.Errorf("RetryAt = %s, want zero (no peer-imposed wait)", o.RetryAt)
				}
				// Backoff grows: second wait drawn from [1s, 3s].
				second := n.calls[2].at.Sub(n.calls[1].at)
				if second < time.Second || second > 3*time.Second {
					t.Errorf("second backoff %s, want within [1s, 3s]", second)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			n := &recordingNotifier{clock: clock, script: tt.script}
			d := newTestDispatcher(clock, map[string]Notifier{"slack": n}, DispatcherOptions{})
			o := d.Send(context.Background(), "slack", oneEvent())
			if o.Channel != "slack" || o.Delivered != tt.wantDelivered || o.Permanent != tt.wantPermanent || o.Attempts != tt.wantAttempts {
				t.Fatalf("outcome = %+v, want delivered=%v permanent=%v attempts=%d",
					o, tt.wantDelivered, tt.wantPermanent, tt.wantAttempts)
			}
			if len(n.calls) != tt.wantAttempts {
				t.Fatalf("notifier called %d times, want %d", len(n.calls), tt.wantAttempts)
			}
			if tt.check != nil {
				tt.check(t, n, o)
			}
		})
	}
}

func TestDispatcherUnknownChannelIsPermanent(t *testing.T) {
	clock := newFakeClock()
	d := newTestDispatcher(clock, map[string]Notifier{"slack": &recordingNotifier{clock: clock}}, DispatcherOptions{})
	o := d.Send(context.Background(), "slak", oneEvent())
	if !o.Permanent || o.Delivered || o.Attempts != 0 || !errors.Is(o.Err, ErrUnknownChannel) {
		t.Fatalf("outcome = %+v, want permanent ErrUnknownChannel", o)
	}
	if !strings.Contains(o.Err.Error(), `"slak"`) || !strings.Contains(o.Err.Error(), "slack") {
		t.Errorf("error %q should name the bad channel and the configured ones", o.Err)
	}
}

func TestDispatcherRetryAfter(t *testing.T) {
	t.Run("429 with Retry-After 7s holds every request until the wait is over", func(t *testing.T) {
		clock := newFakeClock()
		n := &recordingNotifier{clock: clock, script: []reply{http429(7 * time.Second)}}
		d := newTestDispatcher(clock, map[string]Notifier{"slack": n}, DispatcherOptions{})
		o := d.Send(context.Background(), "slack", oneEvent())
		if !o.Delivered || o.Attempts != 2 {
			t.Fatalf("outcome = %+v, want delivered in 2 attempts", o)
		}
		if got := n.calls[1].at; got.Before(t0.Add(7 * time.Second)) {
			t.Errorf("second call at +%s, want no call before +7s", got.Sub(t0))
		}
	})

	t.Run("the wait also holds a later Send to the same channel", func(t *testing.T) {
		clock := newFakeClock()
		n := &recordingNotifier{clock: clock, script: []reply{http429(7 * time.Second)}}
		d := newTestDispatcher(clock, map[string]Notifier{"slack": n}, DispatcherOptions{MaxAttempts: 1})
		o := d.Send(context.Background(), "slack", oneEvent())
		if o.Delivered || o.Permanent || !o.RetryAt.Equal(t0.Add(7*time.Second)) {
			t.Fatalf("outcome = %+v, want not delivered, RetryAt +7s", o)
		}
		if got := d.NotBefore("slack"); !got.Equal(t0.Add(7 * time.Second)) {
			t.Errorf("NotBefore = %s, want +7s", got)
		}
		clock.Advance(2 * time.Second)
		o = d.Send(context.Background(), "slack", oneEvent())
		if !o.Delivered {
			t.Fatalf("outcome = %+v, want delivered after waiting", o)
		}
		for i, c := range n.calls[1:] {
			if c.at.Before(t0.Add(7 * time.Second)) {
				t.Errorf("call %d at +%s, want none before +7s", i+2, c.at.Sub(t0))
			}
		}
	})

	t.Run("a wait longer than MaxBackoff returns RetryAt without sleeping or calling", func(t *testing.T) {
		clock := newFakeClock()
		n := &recordingNotifier{clock: clock, script: []reply{http429(2 * time.Minute)}}
		other := &recordingNotifier{clock: clock}
		d := newTestDispatcher(clock, map[string]Notifier{"slack": n, "email": other}, DispatcherOptions{})
		o := d.Send(context.Background(), "slack", oneEvent())
		want := t0.Add(2 * time.Minute)
		if o.Delivered || o.Permanent || o.Attempts != 1 || !o.RetryAt.Equal(want) {
			t.Fatalf("outcome = %+v, want 1 attempt, RetryAt %s", o, want)
		}
		if !clock.Now().Equal(t0) {
			t.Errorf("clock moved to +%s, want no sleep", clock.Now().Sub(t0))
		}

		clock.Advance(time.Minute)
		o = d.Send(context.Background(), "slack", oneEvent())
		if o.Delivered || o.Attempts != 0 || !errors.Is(o.Err, ErrBackingOff) || !o.RetryAt.Equal(want) {
			t.Fatalf("outcome during the wait = %+v, want 0 attempts, ErrBackingOff, RetryAt %s", o, want)
		}
		if len(n.calls) != 1 {
			t.Fatalf("notifier called %d times during the wait, want 1", len(n.calls))
		}

		if o := d.Send(context.Background(), "email", oneEvent()); !o.Delivered {
			t.Errorf("other channel outcome = %+v, want delivered: the wait is per channel", o)
		}

		clock.Advance(time.Minute + time.Second)
		if o := d.Send(context.Background(), "slack", oneEvent()); !o.Delivered || o.Attempts != 1 {
			t.Fatalf("outcome after the wait = %+v, want delivered in 1 attempt", o)
		}
		if got := n.calls[1].at; got.Before(want) {
			t.Errorf("call at +%s, want none before +2m", got.Sub(t0))
		}
	})
}

func TestDispatcherRateLimit(t *testing.T) {
	clock := newFakeClock()
	n := &recordingNotifier{clock: clock}
	d := newTestDispatcher(clock, map[string]Notifier{"slack": n},
		DispatcherOptions{RatePerSecond: map[string]float64{"slack": 1}})
	for i := range 3 {
		if o := d.Send(context.Background(), "slack", oneEvent()); !o.Delivered {
			t.Fatalf("send %d: outcome = %+v", i, o)
		}
	}
	if len(n.calls) != 3 {
		t.Fatalf("notifier called %d times, want 3", len(n.calls))
	}
	for i := 1; i < len(n.calls); i++ {
		if gap := n.calls[i].at.Sub(n.calls[i-1].at); gap < time.Second {
			t.Errorf("calls %d and %d are %s apart, want >= 1s", i, i+1, gap)
		}
	}
}

func TestDispatcherBatching(t *testing.T) {
	many := make([]Event, 1000)
	for i := range many {
		many[i] = Event{ID: fmt.Sprint(i), Kind: OperationFailed}
	}
	tests := []struct {
		name     string
		maxBatch int
		want     []int
	}{
		{"1000 events go out as one message by default", 0, []int{1000}},
		{"MaxBatch splits the events into messages", 400, []int{400, 400, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			n := &recordingNotifier{clock: clock}
			d := newTestDispatcher(clock, map[string]Notifier{"slack": n}, DispatcherOptions{MaxBatch: tt.maxBatch})
			o := d.Send(context.Background(), "slack", many)
			if !o.Delivered || o.Sent != 1000 || o.Attempts != len(tt.want) {
				t.Fatalf("outcome = %+v", o)
			}
			var got []int
			for _, c := range n.calls {
				got = append(got, c.events)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("message sizes %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("a failed later message reports how many events were sent", func(t *testing.T) {
		clock := newFakeClock()
		n := &recordingNotifier{clock: clock, script: []reply{{}, http404}}
		d := newTestDispatcher(clock, map[string]Notifier{"slack": n}, DispatcherOptions{MaxBatch: 400})
		o := d.Send(context.Background(), "slack", many)
		if o.Delivered || !o.Permanent || o.Sent != 400 || o.Attempts != 2 {
			t.Fatalf("outcome = %+v, want permanent failure after 400 sent", o)
		}
	})
}

func TestDispatcherStopsWhenContextEnds(t *testing.T) {
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := &recordingNotifier{clock: clock, script: []reply{http500}, onCall: func(int) { cancel() }}
	d := newTestDispatcher(clock, map[string]Notifier{"slack": n}, DispatcherOptions{})
	o := d.Send(ctx, "slack", oneEvent())
	if o.Delivered || o.Permanent || o.Attempts != 1 || o.RetryAt.IsZero() {
		t.Fatalf("outcome = %+v, want 1 attempt, not permanent, a RetryAt", o)
	}
	if !strings.Contains(o.Err.Error(), "500") {
		t.Errorf("Err = %v, want the delivery error kept", o.Err)
	}
}

func TestDispatcherLogsFailuresWithoutEventBodies(t *testing.T) {
	clock := newFakeClock()
	var logs bytes.Buffer
	n := &recordingNotifier{clock: clock, script: []reply{http500, http404}}
	d := newTestDispatcher(clock, map[string]Notifier{"slack": n},
		DispatcherOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	d.Send(context.Background(), "slack", oneEvent())
	out := logs.String()
	for _, want := range []string{"channel=slack", "attempt=1", "attempt=2", "decision=retry", "not retryable", "HTTP 500"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "body text") {
		t.Errorf("log contains the event body:\n%s", out)
	}
}

func TestDispatcherEdgeCases(t *testing.T) {
	t.Run("no events is delivered without a call", func(t *testing.T) {
		clock := newFakeClock()
		n := &recordingNotifier{clock: clock}
		d := newTestDispatcher(clock, map[string]Notifier{"slack": n}, DispatcherOptions{})
		if o := d.Send(context.Background(), "slack", nil); !o.Delivered || o.Attempts != 0 || len(n.calls) != 0 {
			t.Fatalf("outcome = %+v, calls %d", o, len(n.calls))
		}
	})
	t.Run("an ended context stops before the first call", func(t *testing.T) {
		clock := newFakeClock()
		n := &recordingNotifier{clock: clock}
		d := newTestDispatcher(clock, map[string]Notifier{"slack": n}, DispatcherOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		o := d.Send(ctx, "slack", oneEvent())
		if o.Delivered || o.Permanent || !errors.Is(o.Err, context.Canceled) || len(n.calls) != 0 {
			t.Fatalf("outcome = %+v, calls %d", o, len(n.calls))
		}
	})
	t.Run("a context ending during a rate-limit wait stops with RetryAt", func(t *testing.T) {
		clock := newFakeClock()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := &recordingNotifier{clock: clock}
		d := NewDispatcher(map[string]Notifier{"slack": n}, DispatcherOptions{
			Now: clock.Now,
			// The context ends while the dispatcher waits for its slot.
			Sleep:         func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() },
			RatePerSecond: map[string]float64{"slack": 1},
		})
		if o := d.Send(ctx, "slack", oneEvent()); !o.Delivered {
			t.Fatalf("first outcome = %+v", o)
		}
		o := d.Send(ctx, "slack", oneEvent())
		if o.Delivered || !errors.Is(o.Err, context.Canceled) || !o.RetryAt.Equal(t0.Add(time.Second)) || len(n.calls) != 1 {
			t.Fatalf("outcome = %+v, calls %d; want canceled with RetryAt +1s and no second call", o, len(n.calls))
		}
	})
	t.Run("the default sleep returns at once when the context has ended", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
			t.Fatalf("sleepContext() = %v", err)
		}
		if err := sleepContext(context.Background(), 0); err != nil {
			t.Fatalf("sleepContext(0) = %v", err)
		}
	})
}

// ctxNotifier is a Notifier whose request takes as long as the test
// says: it returns when release is closed or its own context ends.
type ctxNotifier struct {
	started chan struct{}
	release chan struct{}
	calls   int
}

func (n *ctxNotifier) Notify(ctx context.Context, _ []Event) (bool, error) {
	n.calls++
	close(n.started)
	select {
	case <-n.release:
		return false, nil
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// A request in flight when Send's context ends (SIGTERM, a tick's
// deadline) may finish within the grace: an alert the peer accepted is
// recorded as delivered instead of being sent again later. A request that
// outlasts the grace is cut off, and no new attempt starts either way.
func TestDispatcherLetsTheRequestInFlightFinishWithinTheGrace(t *testing.T) {
	for _, tc := range []struct {
		name          string
		peerAnswers   bool
		wantDelivered bool
	}{
		{"peer answers within the grace", true, true},
		{"peer never answers", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			n := &ctxNotifier{started: make(chan struct{}), release: make(chan struct{})}
			d := newTestDispatcher(clock, map[string]Notifier{"hook": n}, DispatcherOptions{AttemptGrace: 200 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan Outcome)
			go func() { done <- d.Send(ctx, "hook", oneEvent()) }()
			<-n.started
			cancel() // the daemon is told to stop while the request runs
			if tc.peerAnswers {
				close(n.release)
			}
			var o Outcome
			select {
			case o = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Send did not return after its context ended and the grace passed")
			}
			if o.Delivered != tc.wantDelivered || n.calls != 1 {
				t.Fatalf("outcome %+v after %d calls, want delivered=%v after exactly 1 call", o, n.calls, tc.wantDelivered)
			}
		})
	}
}

// scriptedEach answers each event from a script by id (delivered once an
// event's script runs out), and records the ids of each call.
type scriptedEach struct {
	script map[string][]reply
	calls  [][]string
}

func (n *scriptedEach) Notify(context.Context, []Event) (bool, error) {
	panic("the dispatcher called Notify on a channel that says what became of each event")
}

func (n *scriptedEach) NotifyEach(_ context.Context, events []Event) []Result {
	var ids []string
	out := make([]Result, len(events))
	for i, ev := range events {
		ids = append(ids, ev.ID)
		if s := n.script[ev.ID]; len(s) > 0 {
			out[i] = Result{Err: s[0].err, Retry: s[0].retry}
			n.script[ev.ID] = s[1:]
		}
	}
	n.calls = append(n.calls, ids)
	return out
}

// A channel that sends each event on its own is retried with the events
// it did not take, and a refusal gives up on that event alone.
func TestDispatcherRetriesOnlyTheEventsNotTakenAndGivesUpOnARefusedOneAlone(t *testing.T) {
	clock := newFakeClock()
	n := &scriptedEach{script: map[string][]reply{"b": {http404}, "c": {http500}}}
	d := newTestDispatcher(clock, map[string]Notifier{"pager": n}, DispatcherOptions{})
	events := []Event{{ID: "a", Kind: OperationFailed}, {ID: "b", Kind: OperationFailed}, {ID: "c", Kind: OperationFailed}}
	o := d.Send(context.Background(), "pager", events)
	if fmt.Sprint(n.calls) != "[[a b c] [c]]" {
		t.Errorf("calls %v, want the three events and then only c", n.calls)
	}
	if o.Delivered || !o.Permanent || o.Attempts != 2 {
		t.Errorf("outcome %+v, want not delivered, nothing left to retry, after 2 attempts", o)
	}
	if !o.Took["a"] || !o.Took["c"] || o.Took["b"] || len(o.Refused) != 1 || !errors.Is(o.Refused["b"], http404.err) || !errors.Is(o.Err, http404.err) {
		t.Errorf("took %v, refused %v (err %v); want a and c taken, b refused with its own error", o.Took, o.Refused, o.Err)
	}

	t.Run("attempts used up: the one still failing waits", func(t *testing.T) {
		n := &scriptedEach{script: map[string][]reply{"b": {http500, http500, http500}}}
		d := newTestDispatcher(newFakeClock(), map[string]Notifier{"pager": n}, DispatcherOptions{})
		o := d.Send(context.Background(), "pager", events)
		if fmt.Sprint(n.calls) != "[[a b c] [b] [b]]" || o.Delivered || o.Permanent || len(o.Refused) != 0 || !o.Took["a"] || !o.Took["c"] || o.Took["b"] {
			t.Errorf("calls %v, outcome %+v; want b alone tried again and left to wait", n.calls, o)
		}
	})
}
