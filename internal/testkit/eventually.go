package testkit

import (
	"testing"
	"time"
)

// PollInterval is how often Eventually and Consistently look: often enough
// that a wait ends soon after its condition holds, seldom enough that
// polling a real server (an HTTP request, a query) costs it little.
const PollInterval = 50 * time.Millisecond

// Eventually polls cond every PollInterval until it holds, and fails the
// test when it still does not within the deadline, with what it waited
// for and the last thing cond saw. cond returns whether it holds and, for
// that message, what it saw ("" for nothing worth saying). cond runs on
// the test's goroutine, so it may call t.Fatal (a process that exited
// need not be waited for until the deadline).
//
// It is for what the test does not control the timing of: a real daemon,
// server or browser. A test's own code is run on an injected clock.
func Eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for {
		ok, last := cond()
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			// One last look: cond may have been slow, and hold by now.
			if ok, last = cond(); ok {
				return
			}
			if last == "" {
				t.Fatalf("%s: not within %s", what, within)
			}
			t.Fatalf("%s: not within %s; last seen: %s", what, within, last)
		}
	}
}

// Consistently polls cond every PollInterval for the whole of d, and fails
// the test as soon as it no longer holds. It is how a test proves that
// something does not happen (a second notification from a cluster) where
// nothing would tell it that it will not: the wait is the proof, and d is
// the documented time within which it would have happened.
func Consistently(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	start := time.Now()
	for {
		if ok, last := cond(); !ok {
			t.Fatalf("%s: stopped holding after %s of %s; last seen: %s", what, time.Since(start).Round(time.Millisecond), d, last)
		}
		select {
		case <-tick.C:
		case <-end.C:
			if ok, last := cond(); !ok {
				t.Fatalf("%s: stopped holding at the end of %s; last seen: %s", what, d, last)
			}
			return
		}
	}
}
