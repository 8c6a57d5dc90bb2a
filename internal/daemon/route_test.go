package daemon

import (
	"slices"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
)

// pager is a channel that keeps incidents.
type pager struct{ recorder }

func (*pager) KeepsIncidents() bool { return true }

// A problem.closed goes only to the channels that keep incidents among
// those its problem's kind is routed to: the chat, mail and webhook
// channels were never told of these closes, and are not now.
func TestProblemClosedGoesOnlyToThePagersItsProblemWasRoutedTo(t *testing.T) {
	cfg := Config{
		Channels: map[string]notify.Notifier{"slack": &recorder{}, "pagerduty": &pager{}, "opsgenie": &pager{}},
		Routes: notify.Routes{
			{Kinds: []notify.Kind{notify.DeferredStuck, notify.OperationFailed}, Channels: []string{"slack", "pagerduty"}},
			{Kinds: []notify.Kind{notify.OperationFailed}, Channels: []string{"opsgenie"}},
		},
	}
	for _, tc := range []struct {
		ev   notify.Event
		want []string
	}{
		{notify.Event{Kind: notify.ProblemClosed, Key: "deferred.stuck"}, []string{"pagerduty"}},
		{notify.Event{Kind: notify.ProblemClosed, Key: "operation.failed/2024_01_13_120000_Foo/42"}, []string{"pagerduty", "opsgenie"}},
		{notify.Event{Kind: notify.ProblemClosed, Key: "pending.threshold"}, nil},
		{notify.Event{Kind: notify.DeferredStuck, Key: "deferred.stuck"}, []string{"slack", "pagerduty"}},
	} {
		if got := cfg.channelsFor(tc.ev); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s goes to %v, want %v", tc.ev.Kind, tc.ev.Key, got, tc.want)
		}
	}
}
