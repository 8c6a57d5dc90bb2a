package notify

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// AnyKind in a route's events matches every kind.
const AnyKind Kind = "*"

// AllKinds returns every event kind, in a stable order. It returns a new
// slice each time so callers may modify it.
func AllKinds() []Kind {
	return []Kind{
		OperationFailed, OperationRecovered,
		OperationStuck, OperationUnstuck,
		OperationRolledBack,
		PendingThreshold, PendingCleared,
		DeferredFailed, DeferredStuck, DeferredOverdue,
		SourceUnreachable, SourceRecovered,
		Digest, Reminder, Test,
		DeployFinished,
	}
}

// Route sends the events of some kinds to some channels. A route with no
// events, or with "*" among them, matches every kind.
type Route struct {
	Kinds    []Kind   `yaml:"events"`
	Channels []string `yaml:"channels"`
}

// matches reports whether the route applies to kind k.
func (r Route) matches(k Kind) bool {
	return len(r.Kinds) == 0 || slices.Contains(r.Kinds, AnyKind) || slices.Contains(r.Kinds, k)
}

// Routes is the routing table: an event goes to the union of the channels
// of every route that matches its kind.
//
// When no routes are configured the default is every kind to every
// configured channel. An empty Routes cannot know the channel names, so the
// configuration loader must apply that default with DefaultRoutes; an empty
// Routes on its own routes nothing.
type Routes []Route

// DefaultRoutes is the table used when the configuration has no routes:
// one route sending every kind to every channel (sorted by name so the
// order is stable).
func DefaultRoutes(channels []string) Routes {
	names := slices.Clone(channels)
	sort.Strings(names)
	names = slices.Compact(names)
	return Routes{{Kinds: []Kind{AnyKind}, Channels: names}}
}

// Channels returns the channels that events of kind k go to: the union of
// the matching routes' channels, without duplicates, in configuration
// order. It returns nil when no route matches.
func (r Routes) Channels(k Kind) []string {
	var out []string
	for _, route := range r {
		if !route.matches(k) {
			continue
		}
		for _, ch := range route.Channels {
			if !slices.Contains(out, ch) {
				out = append(out, ch)
			}
		}
	}
	return out
}

// For are the events of events that the routes give channel.
func (r Routes) For(channel string, events []Event) []Event {
	var out []Event
	for _, ev := range events {
		if slices.Contains(r.Channels(ev.Kind), channel) {
			out = append(out, ev)
		}
	}
	return out
}

// Validate checks every route against the configured channel names in
// known and the event kinds seqwatch has. Each problem names the route's
// index and the bad value and lists the valid ones; all problems are
// reported together.
func (r Routes) Validate(known map[string]bool) error {
	validKinds := AllKinds()
	var errs []error
	for i, route := range r {
		for _, k := range route.Kinds {
			if k == AnyKind || slices.Contains(validKinds, k) {
				continue
			}
			errs = append(errs, fmt.Errorf("routes[%d].events: unknown event kind %q (valid: %s)",
				i, k, kindList(validKinds)))
		}
		if len(route.Channels) == 0 {
			errs = append(errs, fmt.Errorf("routes[%d].channels: must name at least one channel (configured: %s)",
				i, channelList(known)))
		}
		for _, ch := range route.Channels {
			if known[ch] {
				continue
			}
			errs = append(errs, fmt.Errorf("routes[%d].channels: unknown channel %q (configured: %s)",
				i, ch, channelList(known)))
		}
	}
	return errors.Join(errs...)
}

func kindList(kinds []Kind) string {
	s := make([]string, 0, len(kinds)+1)
	s = append(s, string(AnyKind))
	for _, k := range kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func channelList(known map[string]bool) string {
	var s []string
	for name, ok := range known {
		if ok {
			s = append(s, name)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
