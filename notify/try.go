package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
)

// Named are the names of channels, sorted; only the one named only when
// only is not "". None is an error, naming the configuration where.
func Named(channels map[string]Notifier, only, where string) ([]string, error) {
	var names []string
	for _, n := range slices.Sorted(maps.Keys(channels)) {
		if only == "" || n == only {
			names = append(names, n)
		}
	}
	switch {
	case len(names) > 0:
		return names, nil
	case only != "":
		return nil, fmt.Errorf("no channel named %q in %s", only, where)
	}
	return nil, fmt.Errorf("%s configures no channels", where)
}

// TestEvent is the alert seqwatch notify test sends for app ("" names it
// seqwatch) in env at now: of kind Test, with an id of its own.
func TestEvent(app, env string, now time.Time) Event {
	if app == "" {
		app = "seqwatch"
	}
	return Event{
		ID: fmt.Sprintf("evt_test_%d", now.UnixNano()), Kind: Test, Key: "test", App: app, Environment: env,
		OccurredAt: now, Summary: "seqwatch test alert: if you can read this, the channel works",
	}
}

// TryEach sends events through d to each channel of names in turn and
// writes a line for each, ok or FAILED with the reason (secrets redacted);
// it fails, saying how many, when one or more did.
func TryEach(ctx context.Context, d *Dispatcher, names []string, events []Event, w io.Writer, secrets []string) error {
	failed := 0
	for _, n := range names {
		out := d.Send(ctx, n, events)
		if out.Delivered {
			fmt.Fprintf(w, "%-20s ok\n", n)
			continue
		}
		failed++
		var reason string
		if out.Err != nil {
			reason = out.Err.Error()
		}
		fmt.Fprintf(w, "%-20s FAILED: %s\n", n, text.Redact(reason, secrets...))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d channel(s) failed the test", failed, len(names))
	}
	return nil
}

// Preview writes what channels would send, sending nothing, as seqwatch
// notify preview shows it.
type Preview struct {
	Channels map[string]Notifier
	Routes   Routes
	// Routed gives each channel only the events its routes give it (the
	// real current events); otherwise each gets them all (a sample), with a
	// note when the routes would not send it.
	Routed bool
	// Raw prints the bodies byte for byte, JSON not indented.
	Raw bool
	// Secrets are redacted from all of it.
	Secrets []string
}

// Write writes the requests of each channel of names for events. A
// channel that cannot render them says so in w, and Write fails, saying
// how many could not.
func (p Preview) Write(w io.Writer, names []string, events []Event) error {
	failed := 0
	for _, name := range names {
		evs := events
		if p.Routed {
			if evs = p.Routes.For(name, events); len(evs) == 0 {
				fmt.Fprintf(w, "== %s: its routes give it none of the %d event(s)\n\n", name, len(events))
				continue
			}
		}
		if err := p.channel(w, name, evs); err != nil {
			failed++
			fmt.Fprintf(w, "== %s: %s\n\n", name, text.Redact(err.Error(), p.Secrets...))
			continue
		}
		if !p.Routed && !slices.Contains(p.Routes.Channels(evs[0].Kind), name) {
			fmt.Fprintf(w, "(the routes do not send %s to %s)\n\n", evs[0].Kind, name)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d channel(s) could not render the preview", failed, len(names))
	}
	return nil
}

// channel writes the requests the channel name would make for events.
func (p Preview) channel(w io.Writer, name string, events []Event) error {
	pv, ok := p.Channels[name].(Previewer)
	if !ok {
		return errors.New("this channel cannot show what it would send")
	}
	reqs, err := pv.Preview(events)
	if err != nil {
		return err
	}
	what := "requests"
	if len(reqs) == 1 {
		what = "request"
	}
	fmt.Fprintf(w, "== %s: %d %s for %d event(s)\n", name, len(reqs), what, len(events))
	for _, r := range reqs {
		r.Write(w, p.Raw, p.Secrets...)
	}
	return nil
}
