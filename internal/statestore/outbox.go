package statestore

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/state"
)

// OutboxEntry is one alert as `seqwatch outbox list` shows it.
type OutboxEntry struct {
	ID          string    `json:"id"`
	Channel     string    `json:"channel"`
	Kind        string    `json:"kind"`
	Key         string    `json:"key"`
	Summary     string    `json:"summary"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	DeadAt      time.Time `json:"dead_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Batch       string    `json:"batch,omitempty"`
}

// OutboxList is the document `seqwatch outbox list --json` prints: the
// alerts waiting, the dead letters and the disabled channels.
type OutboxList struct {
	Outbox   []OutboxEntry                    `json:"outbox"`
	Dead     []OutboxEntry                    `json:"dead"`
	Disabled map[string]state.DisabledChannel `json:"disabled,omitempty"`
}

// ListOutbox is st's outbox, dead letters and disabled channels.
func ListOutbox(st *state.State) OutboxList {
	entry := func(d state.Delivery) OutboxEntry {
		return OutboxEntry{
			ID: d.Event.ID, Channel: d.Channel, Kind: string(d.Event.Kind), Key: d.Event.Key, Summary: d.Event.Summary,
			Attempts: d.Attempts, NextAttempt: d.NextAttempt, DeadAt: d.DeadAt, LastError: d.LastError, Batch: d.Batch,
		}
	}
	l := OutboxList{Outbox: []OutboxEntry{}, Dead: []OutboxEntry{}, Disabled: st.Disabled}
	for _, d := range st.Outbox {
		l.Outbox = append(l.Outbox, entry(d))
	}
	for _, d := range st.Dead {
		l.Dead = append(l.Dead, entry(d))
	}
	return l
}

// WriteText writes the list for people: a table of the outbox, one of
// the dead letters, and the disabled channels.
func (l OutboxList) WriteText(w io.Writer) error {
	tw := text.NewTable(w)
	fmt.Fprintf(tw, "Outbox: %d alert(s) waiting, retried with backoff\n", len(l.Outbox))
	if len(l.Outbox) > 0 {
		fmt.Fprintln(tw, "ID\tCHANNEL\tKIND\tATTEMPTS\tNEXT ATTEMPT\tLAST ERROR\tSUMMARY")
		for _, x := range l.Outbox {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", x.ID, text.Cell(x.Channel, 40), x.Kind, x.Attempts,
				text.Stamp(x.NextAttempt), text.Cell(x.LastError, 100), text.Cell(x.Summary, 80))
		}
	}
	fmt.Fprintf(tw, "\nDead letters: %d alert(s) refused for good (seqwatch outbox retry ID|all, or drop ID|all)\n", len(l.Dead))
	if len(l.Dead) > 0 {
		fmt.Fprintln(tw, "ID\tCHANNEL\tKIND\tATTEMPTS\tGIVEN UP\tREASON\tSUMMARY")
		for _, x := range l.Dead {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", x.ID, text.Cell(x.Channel, 40), x.Kind, x.Attempts,
				text.Stamp(x.DeadAt), text.Cell(x.LastError, 200), text.Cell(x.Summary, 80))
		}
	}
	if len(l.Disabled) > 0 {
		fmt.Fprintln(tw, "\nDisabled channels (until their configuration changes, or seqwatch outbox enable NAME):")
		for _, n := range slices.Sorted(maps.Keys(l.Disabled)) {
			dc := l.Disabled[n]
			reason := text.Cell(dc.Reason, 200)
			if !dc.EnabledAt.IsZero() {
				reason = "enabled again at " + text.Stamp(dc.EnabledAt) + ": the daemon sends to it from its next tick"
			}
			fmt.Fprintf(tw, "%s\tsince %s\t%s\n", text.Cell(n, 40), text.Stamp(dc.Since), reason)
		}
	}
	return tw.Flush()
}
