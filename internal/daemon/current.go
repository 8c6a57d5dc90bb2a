package daemon

import (
	"context"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// CurrentEvents reads src once and returns the events of its current
// problems as the daemon would send them at now with nothing reported
// yet, judged by th and policy: what seqwatch notify preview --current
// shows.
func CurrentEvents(ctx context.Context, src laravel.Source, th check.Thresholds, policy alerting.Policy, now time.Time) ([]notify.Event, error) {
	snap, err := reader.ReadOnce(ctx, src, now, reader.ReadOptions{})
	if err != nil {
		return nil, err
	}
	return EventsOf(snap, th, policy, now), nil
}

// EventsOf are the events of snap's problems for a state that has
// reported nothing but is past its first run: every open problem is its
// own event, as a new problem is on a tick.
func EventsOf(snap *check.Snapshot, th check.Thresholds, policy alerting.Policy, now time.Time) []notify.Event {
	st := &state.State{Initialized: true}
	evs, _ := alerting.Evaluate(st, check.Assess(snap, th), now, policy)
	return evs
}
