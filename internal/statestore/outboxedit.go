package statestore

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/state"
)

// Done says what a change to the outbox did, a sentence a line, for
// seqwatch outbox to print.
type Done []string

// WriteText writes the sentences, one a line.
func (d Done) WriteText(w io.Writer) error {
	for _, l := range d {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// Outbox is the application's outbox, dead letters and disabled channels,
// read under the state's lock.
func (e *Editor) Outbox(ctx context.Context) (OutboxList, error) {
	var l OutboxList
	err := e.Edit(ctx, func(st *state.State) error {
		l = ListOutbox(st)
		return nil
	})
	return l, err
}

// Retry makes the alerts ids (or "all") of channel ("": of every channel)
// due again: dead letters go back into the outbox. hashes are the
// configured channels' hashes, to say which of them are disabled still.
// An id in neither list fails it, and nothing is changed.
func (e *Editor) Retry(ctx context.Context, ids []string, channel string, hashes map[string]string, now time.Time) (Done, error) {
	var done Done
	err := e.Edit(ctx, func(st *state.State) error {
		if err := knownIDs(st, ids, channel, e.Where()); err != nil {
			return err
		}
		n := st.Retry(ids, channel, now)
		done = Done{fmt.Sprintf("%d alert(s) due again: the daemon sends them at its next tick (or run seqwatch run --once)", n)}
		for _, ch := range st.DisabledAmong(ids, channel, hashes) {
			done = append(done, fmt.Sprintf("channel %s is disabled (its endpoint answered 410 Gone): these alerts go back to the dead letters until its configuration changes", ch))
		}
		return nil
	})
	return done, err
}

// Drop removes the alerts ids (or "all") of channel ("": of every
// channel) for good. An id in neither list fails it, and nothing is
// changed.
func (e *Editor) Drop(ctx context.Context, ids []string, channel string) (Done, error) {
	var done Done
	err := e.Edit(ctx, func(st *state.State) error {
		if err := knownIDs(st, ids, channel, e.Where()); err != nil {
			return err
		}
		done = Done{fmt.Sprintf("%d alert(s) dropped for good", st.Drop(ids, channel))}
		return nil
	})
	return done, err
}

// Enable sends to the channel name again, which its endpoint disabled
// with a 410 Gone; a channel that is not disabled fails it, naming those
// that are.
func (e *Editor) Enable(ctx context.Context, name string, now time.Time) (Done, error) {
	var done Done
	err := e.Edit(ctx, func(st *state.State) error {
		if !st.Enable(name, now) {
			return notDisabled(st, name, e.Where())
		}
		done = Done{fmt.Sprintf("channel %s enabled: the daemon sends to it again from its next tick (or run seqwatch run --once)", name)}
		dead := 0
		for _, d := range st.Dead {
			if d.Channel == name {
				dead++
			}
		}
		if dead > 0 {
			done = append(done, fmt.Sprintf("its %d dead letter(s) stay where they are: seqwatch outbox retry all --channel %s sends them again", dead, name))
		}
		return nil
	})
	return done, err
}

// knownIDs fails, naming them, when ids has ids in neither list.
func knownIDs(st *state.State, ids []string, channel, path string) error {
	unknown := st.Unknown(ids, channel)
	if len(unknown) == 0 {
		return nil
	}
	where := ""
	if channel != "" {
		where = " for channel " + channel
	}
	return fmt.Errorf("no alert %s%s in the outbox or the dead letters of %s: seqwatch outbox list shows the ids (nothing was changed)",
		strings.Join(unknown, ", "), where, path)
}

// notDisabled says that name is not a disabled channel of path, and which
// are.
func notDisabled(st *state.State, name, path string) error {
	var names []string
	for n, d := range st.Disabled {
		if d.EnabledAt.IsZero() {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("channel %s is not disabled in %s, and no channel is: there is nothing to enable (nothing was changed)", text.Line(name, 40), path)
	}
	slices.Sort(names)
	return fmt.Errorf("channel %s is not disabled in %s; the disabled channels are %s (nothing was changed)", text.Line(name, 40), path, strings.Join(names, ", "))
}
