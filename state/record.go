package state

import "time"

// Outcome is what became of one attempt to deliver a batch, as Record
// takes it (the daemon makes it from the dispatcher's notify.Outcome).
type Outcome struct {
	// Delivered: the channel accepted every event.
	Delivered bool
	// Permanent: refused for good; the batch goes to the dead letters.
	Permanent bool
	// Disabled: the endpoint said to stop for good (410 Gone); the
	// channel is disabled while its configuration hashes to Config.
	Disabled bool
	Config   string
	// Err is why it failed.
	Err string
	// Attempts counts the requests made: 0 when none was (a Retry-After
	// hold, or shutting down), which is not a failed round.
	Attempts int
	// Sent counts the events accepted before a later message failed.
	Sent int
	// Took and Refused are, when the channel said what became of each
	// event (a pager sends each on its own), the ids of those it took
	// and of those it refused for good, each with its own reason: only
	// those go to the dead letters, and a retry sends only the others.
	Took    map[string]bool
	Refused map[string]string
	// RetryAt, when not zero, is the earliest next attempt the peer
	// allows.
	RetryAt time.Time
	// Started is when the round began (zero: at). The backoff counts
	// from it, so that a wait of a whole number of ticks comes due at
	// the tick it was meant for, not one later.
	Started time.Time
}

// Record records what became of the attempt to deliver b through channel
// at: delivered events leave the outbox; refused ones go to the dead
// letters (and a 410 disables the channel); the others wait, after a
// failed round, for Backoff or the peer's RetryAt, whichever is later.
// Each delivery's result is its own when the channel said what became of
// each event (Outcome.Took, Outcome.Refused: a pager takes some of a
// batch, refuses one with its own reason and fails on the next), the
// batch's otherwise (Outcome.Result).
//
// A round is the channel's, not only the batch's: after a delivery the
// channel's other waiting deliveries are due at once (its endpoint is
// back, so what waited for it goes now), and after a failed round (or a
// hold its peer asked for) none of them goes before the batch's next
// attempt, so that a channel that is down costs one round per backoff
// however many alerts wait for it.
func (s *State) Record(channel string, b Batch, o Outcome, at time.Time) {
	if o.Disabled {
		s.Disable(channel, o.Config, o.Err, at)
	}
	started := o.Started
	if started.IsZero() || started.After(at) {
		started = at
	}
	var hold time.Time // the batch's earliest next attempt
	delivered, waiting := false, false
	for i, d := range b.Deliveries {
		result, reason := o.Result(i, d.Event.ID)
		switch result {
		case Delivered:
			s.Delivered(d.Event.ID, channel, at)
			delivered = true
			continue
		case Dead:
			s.Failed(d.Event.ID, channel, reason, at, true)
			continue
		}
		waiting = true
		next := o.RetryAt
		switch {
		case o.Attempts == 0:
			// No request was made: not a failed round.
			s.Postpone(d.Event.ID, channel, o.RetryAt)
		default:
			next = started.Add(Backoff(d.Attempts + 1))
			if o.RetryAt.After(next) {
				next = o.RetryAt
			}
			s.Failed(d.Event.ID, channel, o.Err, next, false)
		}
		if hold.IsZero() || next.Before(hold) {
			hold = next
		}
	}
	switch {
	case waiting:
		s.holdChannel(channel, hold)
	case delivered:
		s.dueNow(channel, at)
	}
}

// What Record makes of a delivery (Outcome.Result).
const (
	Delivered = "delivered" // it leaves the outbox
	Dead      = "dead"      // refused for good: a dead letter
	Waiting   = "waiting"   // in the outbox, for a later attempt
)

// Result is what Record makes of the i-th delivery of the batch, of event
// id: Delivered, Dead with its reason, or Waiting.
func (o Outcome) Result(i int, id string) (result, reason string) {
	if why, ok := o.Refused[id]; ok {
		return Dead, why
	}
	switch {
	case o.Delivered || i < o.Sent || o.Took[id]:
		return Delivered, ""
	case o.Permanent:
		return Dead, o.Err
	}
	return Waiting, ""
}

// dueNow makes every delivery waiting for channel due at now.
func (s *State) dueNow(channel string, now time.Time) {
	for i := range s.Outbox {
		if d := &s.Outbox[i]; d.Channel == channel && d.NextAttempt.After(now) {
			d.NextAttempt = now
		}
	}
}

// holdChannel puts off every delivery waiting for channel to until at
// least, counting no failed round.
func (s *State) holdChannel(channel string, until time.Time) {
	for i := range s.Outbox {
		if d := &s.Outbox[i]; d.Channel == channel && d.NextAttempt.Before(until) {
			d.NextAttempt = until
		}
	}
}
