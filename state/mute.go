package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/seqwatch/seqwatch/internal/event"
)

// Mute is a period in which the daemon still evaluates and records events
// but does not send them, as Alertmanager's silences: made by `seqwatch
// mute` or POST /api/v1/mutes and kept in State.Mutes, or a maintenance
// window of the configuration (never stored; the daemon works out the
// windows in force at each tick).
type Mute struct {
	// ID is mut_ and random hex for a stored mute; maintenance[N] for a
	// configured window.
	ID     string    `json:"id"`
	Reason string    `json:"reason,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// KeepUnreachable leaves source.unreachable and source.recovered
	// unmuted: a database gone down during a deploy is still news.
	KeepUnreachable bool `json:"keep_unreachable,omitempty"`
	// By says where the mute came from: cli, api or maintenance.
	By string `json:"by,omitempty"`
}

// NewMuteID returns a random mute id.
func NewMuteID() string { return "mut_" + randomHex(8) }

// ActiveAt reports whether the mute is in force at t: from Start up to,
// not including, End.
func (m Mute) ActiveAt(t time.Time) bool { return !t.Before(m.Start) && t.Before(m.End) }

// Covers reports whether the mute holds back events of kind k.
func (m Mute) Covers(k event.Kind) bool {
	if m.KeepUnreachable && (k == event.SourceUnreachable || k == event.SourceRecovered) {
		return false
	}
	// A test alert is asked for by a person: it always goes.
	return k != event.Test
}

// ErrNoMute is returned (wrapped) by Unmute for an id that is not a
// stored mute.
var ErrNoMute = errors.New("no such mute")

// Unmute removes the stored mutes with the given ids, or every one with
// all, and returns them. An unknown id is ErrNoMute and removes nothing.
func (s *State) Unmute(ids []string, all bool) ([]Mute, error) {
	if !all {
		for _, id := range ids {
			if !slices.ContainsFunc(s.Mutes, func(m Mute) bool { return m.ID == id }) {
				return nil, fmt.Errorf("%w: %s", ErrNoMute, id)
			}
		}
	}
	var removed, kept []Mute
	for _, m := range s.Mutes {
		if all || slices.Contains(ids, m.ID) {
			removed = append(removed, m)
		} else {
			kept = append(kept, m)
		}
	}
	s.Mutes = kept
	return removed, nil
}

// ExpireMutes drops the stored mutes that have ended by now and returns
// them: an expired mute cleans itself up.
func (s *State) ExpireMutes(now time.Time) []Mute {
	var ended, kept []Mute
	for _, m := range s.Mutes {
		if m.End.After(now) {
			kept = append(kept, m)
		} else {
			ended = append(ended, m)
		}
	}
	s.Mutes = kept
	return ended
}

// ActiveMutes returns the stored mutes in force at now.
func (s *State) ActiveMutes(now time.Time) []Mute {
	var out []Mute
	for _, m := range s.Mutes {
		if m.ActiveAt(now) {
			out = append(out, m)
		}
	}
	return out
}

// Gated is what Gate decided for one tick's events.
type Gated struct {
	// Send are the events to queue now: those held by a mute that no
	// longer applies to them (Released, first) and the new ones no mute
	// covers.
	Send []event.Event
	// Released are the events of Send that were held.
	Released []event.Event
	// Held are the new events a mute holds back (kept in State.Held).
	Held []event.Event
	// Dropped are events never to be sent: a problem opened and closed
	// while muted (both its events), a held event whose problem closed
	// without an event, a reminder due while muted.
	Dropped []event.Event
}

// Gate applies the mutes in force (active) to one tick's new events, with
// the semantics of Alertmanager's silences: an event a mute covers is
// recorded (the caller has already evaluated it into the state) but held
// in State.Held instead of being sent; once no mute covers it, a held
// event whose problem is still open is sent once (a closing event, whose
// problem was told before the mute, too); a problem opened and closed
// while muted is not sent at all. A reminder due while muted is dropped:
// its problems were told before, and the reminder clock has restarted.
func (s *State) Gate(events []event.Event, active []Mute) Gated {
	muted := func(k event.Kind) bool {
		return slices.ContainsFunc(active, func(m Mute) bool { return m.Covers(k) })
	}
	var g Gated
	var kept []event.Event
	for _, h := range s.Held {
		if muted(h.Kind) {
			kept = append(kept, h)
			continue
		}
		if ev, ok := s.releasable(h); ok {
			g.Send = append(g.Send, ev)
			g.Released = append(g.Released, ev)
		} else {
			g.Dropped = append(g.Dropped, h)
		}
	}
	s.Held = kept
	for _, ev := range events {
		if closing(ev.Kind) {
			if opened, ok := s.unhold(ev.Key); ok {
				g.Dropped = append(g.Dropped, opened, ev)
				continue
			}
		}
		switch {
		case !muted(ev.Kind):
			g.Send = append(g.Send, ev)
		case ev.Kind == event.Reminder:
			g.Dropped = append(g.Dropped, ev)
		default:
			s.Held = append(s.Held, ev)
			g.Held = append(g.Held, ev)
		}
	}
	return g
}

// releasable returns the held event h as it should go now, or false when
// nothing of it is still worth sending.
func (s *State) releasable(h event.Event) (event.Event, bool) {
	open := func(e event.Event) bool {
		p, ok := s.Open[e.Key]
		return ok && p.Event.ID == e.ID
	}
	switch {
	case closing(h.Kind):
		return h, true
	case len(h.Items) > 0:
		var items []event.Event
		for _, it := range h.Items {
			if open(it) {
				items = append(items, it)
			}
		}
		if len(items) == 0 {
			return h, false
		}
		h.Items = items
		return h, true
	}
	return h, open(h)
}

// unhold removes from State.Held the event that opened the problem key
// (or the item of a held digest that did) and returns it.
func (s *State) unhold(key string) (event.Event, bool) {
	for i := len(s.Held) - 1; i >= 0; i-- {
		h := s.Held[i]
		if closing(h.Kind) {
			continue
		}
		if h.Key == key {
			s.Held = slices.Delete(s.Held, i, i+1)
			return h, true
		}
		if j := slices.IndexFunc(h.Items, func(it event.Event) bool { return it.Key == key }); j >= 0 {
			it := h.Items[j]
			h.Items = slices.Delete(slices.Clone(h.Items), j, j+1)
			if len(h.Items) == 0 {
				s.Held = slices.Delete(s.Held, i, i+1)
			} else {
				s.Held[i] = h
			}
			return it, true
		}
	}
	return event.Event{}, false
}

// EditMutes is Edit for `seqwatch mute` and the listener's
// /api/v1/mutes: fn may change only State.Mutes (the daemon takes them
// from the file at its next write, see FileStore.Update). Unlike Edit, a
// missing state file is not an error: a mute made before the daemon's
// first tick starts the file, which the daemon then takes as its first
// run.
func EditMutes(ctx context.Context, path string, fn func(*State) error) error {
	if path == "" {
		return errors.New("state file path is empty")
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("create state directory: %w", err)
		}
	}
	return editLocked(ctx, path, fn)
}
