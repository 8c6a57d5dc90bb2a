package state

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"

	"github.com/seqwatch/seqwatch/internal/event"
)

// Retry backoff across ticks: a delivery that failed n times is not tried
// again before FirstRetry·2^(n-1) has passed, capped at MaxRetry. The first
// waits are seconds, so a short outage costs little delay; a channel that is
// down for hours gets one round (of at most a few requests) every two
// minutes, about 30 an hour, not three requests every tick, and what waits
// for it goes out at most two minutes after it is back. MaxRetry is also
// the cap on a peer's Retry-After (notify.MaxRetryAfter).
const (
	FirstRetry = 10 * time.Second
	MaxRetry   = 2 * time.Minute
)

// Backoff returns how long to wait after the failures-th failed attempt
// (counting from 1) before the next one.
func Backoff(failures int) time.Duration {
	if failures < 1 {
		return 0
	}
	d := FirstRetry
	for i := 1; i < failures && d < MaxRetry; i++ {
		d *= 2
	}
	return min(d, MaxRetry)
}

// NewEventID returns a fresh event id: "evt_" and 128 random bits in hex.
// It is random rather than derived from the application, kind, key and a
// counter, because two daemons watching two applications that look alike
// (both deployed to a directory named "current") must never hand a
// receiver that deduplicates on webhook-id the same id for different
// alerts.
func NewEventID() string {
	return "evt_" + randomHex(16)
}

// NewEvent returns a new event of the application app (in environment
// env) with a fresh id (NewEventID), and counts it in Seq.
func (s *State) NewEvent(kind event.Kind, key, app, env string, at time.Time, summary string) event.Event {
	s.Seq++
	return event.Event{
		ID:          NewEventID(),
		Kind:        kind,
		Key:         key,
		App:         app,
		Environment: env,
		OccurredAt:  at,
		Summary:     summary,
	}
}

// newBatchID names a group of deliveries first attempted together.
func newBatchID() string {
	return "bat_" + randomHex(8)
}

func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails (it aborts the program instead).
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// DisabledChannel records that a channel's peer told seqwatch to stop for
// good (a webhook's 410 Gone).
type DisabledChannel struct {
	// Config is the hash of the channel's configuration when it was
	// disabled: a changed configuration enables the channel again.
	Config string `json:"config"`
	// Since is when the peer said so.
	Since time.Time `json:"since"`
	// Reason is the peer's answer.
	Reason string `json:"reason"`
	// EnabledAt is when seqwatch outbox enable asked to send to the
	// channel again (its endpoint is back at the same address): the
	// daemon removes the mark at its next tick.
	EnabledAt time.Time `json:"enabled_at,omitzero"`
}

// Disable marks channel as disabled while its configuration hashes to
// config.
func (s *State) Disable(channel, config, reason string, now time.Time) {
	if s.Disabled == nil {
		s.Disabled = map[string]DisabledChannel{}
	}
	s.Disabled[channel] = DisabledChannel{Config: config, Since: now, Reason: reason}
}

// Enable asks for channel, disabled by its peer, to be sent to again
// (seqwatch outbox enable): the daemon enables it at its next tick
// (IsDisabled). It reports whether the channel was disabled.
func (s *State) Enable(channel string, now time.Time) bool {
	d, ok := s.Disabled[channel]
	if !ok {
		return false
	}
	if d.EnabledAt.IsZero() {
		d.EnabledAt = now
		s.Disabled[channel] = d
	}
	return true
}

// IsDisabled reports whether channel is disabled under its configuration
// hash config. A mark that seqwatch outbox enable lifted (EnabledAt), or
// that another configuration left (the operator changed the channel), is
// removed and reported as cleared: those are the two ways a disabled
// channel is enabled again.
func (s *State) IsDisabled(channel, config string) (d DisabledChannel, disabled, cleared bool) {
	d, ok := s.Disabled[channel]
	if !ok {
		return DisabledChannel{}, false, false
	}
	if d.Config != config || !d.EnabledAt.IsZero() {
		delete(s.Disabled, channel)
		return d, false, true
	}
	return d, true, false
}

// DisabledUnder reports whether channel is disabled under its
// configuration hash config and not enabled again since: what a status or
// a list shows.
func (s *State) DisabledUnder(channel, config string) bool {
	d, ok := s.Disabled[channel]
	return ok && d.Config == config && d.EnabledAt.IsZero()
}

// Batch is deliveries to one channel to send as one message.
type Batch struct {
	Channel string
	// ID is the frozen batch's id, empty for deliveries never attempted.
	ID         string
	Deliveries []Delivery
}

// EventIDs returns the ids of the batch's events.
func (b Batch) EventIDs() []string {
	ids := make([]string, len(b.Deliveries))
	for i, d := range b.Deliveries {
		ids[i] = d.Event.ID
	}
	return ids
}

// DueBatches groups the deliveries due at now by channel, in channel
// order: first each frozen batch (deliveries attempted together before,
// which must go out together again so a digest keeps its id) that has a due
// member, with all its members; then the due deliveries never attempted, as
// one new batch.
func (s *State) DueBatches(now time.Time) []Batch {
	var out []Batch
	channels := []string{}
	for _, d := range s.Outbox {
		if !slices.Contains(channels, d.Channel) {
			channels = append(channels, d.Channel)
		}
	}
	slices.Sort(channels)
	for _, ch := range channels {
		var frozen []string
		var fresh []Delivery
		for _, d := range s.Outbox {
			if d.Channel != ch || d.NextAttempt.After(now) {
				continue
			}
			if d.Batch == "" {
				fresh = append(fresh, d)
			} else if !slices.Contains(frozen, d.Batch) {
				frozen = append(frozen, d.Batch)
			}
		}
		for _, id := range frozen {
			b := Batch{Channel: ch, ID: id}
			for _, d := range s.Outbox {
				if d.Channel == ch && d.Batch == id {
					b.Deliveries = append(b.Deliveries, d)
				}
			}
			out = append(out, b)
		}
		if len(fresh) > 0 {
			out = append(out, Batch{Channel: ch, Deliveries: fresh})
		}
	}
	return out
}

// Freeze records that the deliveries of eventIDs through channel are about
// to be attempted together, and returns the batch's id. From then on they
// are only ever sent together (see DueBatches), so a digest of them keeps
// its id across retries: a receiver that processed an attempt whose answer
// was lost recognises the retry. Deliveries already in a batch keep it.
func (s *State) Freeze(channel string, eventIDs []string) string {
	id := ""
	for _, ev := range eventIDs {
		if i := s.find(ev, channel); i >= 0 && s.Outbox[i].Batch != "" {
			id = s.Outbox[i].Batch
			break
		}
	}
	if id == "" {
		id = newBatchID()
	}
	for _, ev := range eventIDs {
		if i := s.find(ev, channel); i >= 0 && s.Outbox[i].Batch == "" {
			s.Outbox[i].Batch = id
		}
	}
	return id
}

// Postpone moves the next attempt of a delivery to at without counting a
// failed attempt (none was made: the channel's peer asked for a wait, or
// seqwatch is shutting down).
func (s *State) Postpone(eventID, channel string, at time.Time) bool {
	i := s.find(eventID, channel)
	if i < 0 {
		return false
	}
	if at.After(s.Outbox[i].NextAttempt) {
		s.Outbox[i].NextAttempt = at
	}
	return true
}

// match reports whether d is selected by ids ("all" selects everything)
// and, when channel is not empty, goes through channel.
func match(d Delivery, ids []string, channel string) bool {
	if channel != "" && d.Channel != channel {
		return false
	}
	return slices.Contains(ids, "all") || slices.Contains(ids, d.Event.ID)
}

// Retry makes the selected deliveries due at now: dead letters go back
// into the outbox with their attempts reset; deliveries waiting out a
// backoff are due at once. It returns how many deliveries it changed.
func (s *State) Retry(ids []string, channel string, now time.Time) int {
	n := 0
	for i := range s.Outbox {
		if match(s.Outbox[i], ids, channel) {
			s.Outbox[i].NextAttempt = now
			n++
		}
	}
	s.Dead = slices.DeleteFunc(s.Dead, func(d Delivery) bool {
		if !match(d, ids, channel) {
			return false
		}
		if s.find(d.Event.ID, d.Channel) < 0 {
			d.Attempts, d.NextAttempt, d.DeadAt = 0, now, time.Time{}
			s.Outbox = append(s.Outbox, d)
		}
		n++
		return true
	})
	return n
}

// Unknown returns the ids among ids (not "all") that select no delivery,
// in the outbox or the dead letters, through channel when it is not
// empty: what seqwatch outbox retry and drop refuse.
func (s *State) Unknown(ids []string, channel string) []string {
	var unknown []string
	for _, id := range ids {
		if id == "all" {
			continue
		}
		if !slices.ContainsFunc(slices.Concat(s.Outbox, s.Dead), func(d Delivery) bool { return match(d, []string{id}, channel) }) {
			unknown = append(unknown, id)
		}
	}
	return unknown
}

// DisabledAmong names, sorted, the channels of the outbox deliveries that
// ids select (through channel when it is not empty) that are disabled under
// their configuration hash (hashes, by channel): alerts retried to them go
// straight back to the dead letters.
func (s *State) DisabledAmong(ids []string, channel string, hashes map[string]string) []string {
	var out []string
	for _, d := range s.Outbox {
		if match(d, ids, channel) && s.DisabledUnder(d.Channel, hashes[d.Channel]) && !slices.Contains(out, d.Channel) {
			out = append(out, d.Channel)
		}
	}
	slices.Sort(out)
	return out
}

// Drop removes the selected deliveries from the outbox and the dead
// letters, for good. It returns how many it removed.
func (s *State) Drop(ids []string, channel string) int {
	before := len(s.Outbox) + len(s.Dead)
	sel := func(d Delivery) bool { return match(d, ids, channel) }
	s.Outbox = slices.DeleteFunc(s.Outbox, sel)
	s.Dead = slices.DeleteFunc(s.Dead, sel)
	return before - len(s.Outbox) - len(s.Dead)
}
