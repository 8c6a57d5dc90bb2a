package notify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

func TestProblemsStandsADigestOrReminderForItsItems(t *testing.T) {
	ev := func(kind notify.Kind, key string, items ...notify.Event) notify.Event {
		return notify.Event{Kind: kind, Key: key, Items: items}
	}
	events := []notify.Event{
		ev(notify.OperationFailed, "a"),
		ev(notify.Digest, "digest/first-run", ev(notify.OperationFailed, "b"), ev(notify.OperationFailed, "c")),
		ev(notify.Reminder, "reminder", ev(notify.PendingThreshold, "d"), ev(notify.Reminder, "reminder", ev(notify.OperationStuck, "e"))),
		ev(notify.Digest, "empty"),
		ev(notify.OperationRecovered, "a"),
	}
	events[1].ID, events[2].ID = "dig_1", "evt_rem"
	var keys, via []string
	for _, p := range notify.ProblemEvents(events) {
		keys = append(keys, p.Key)
		via = append(via, p.Via)
	}
	if want := []string{"a", "b", "c", "d", "e", "a"}; !slices.Equal(keys, want) {
		t.Errorf("problems %v, want %v", keys, want)
	}
	if want := []string{"", "dig_1", "dig_1", "evt_rem", "evt_rem", ""}; !slices.Equal(via, want) {
		t.Errorf("carried by %q, want %q", via, want)
	}
}

func TestClosesKnowsTheRecoveriesAndTreatsUnknownKindsAsProblems(t *testing.T) {
	tests := []struct {
		kind notify.Kind
		want bool
	}{
		{notify.OperationRecovered, true},
		{notify.OperationUnstuck, true},
		{notify.PendingCleared, true},
		{notify.SourceRecovered, true},
		{"deferred.recovered", true},
		{"deferred.resolved", true},
		{notify.ProblemClosed, true},
		{"deferred.closed", true},
		{notify.OperationFailed, false},
		{notify.OperationStuck, false},
		{notify.PendingThreshold, false},
		{notify.DeferredFailed, false},
		{notify.SourceUnreachable, false},
		{"operation.rolled_back", false},
		{"deferred.stuck", false},
		{"deferred.overdue", false},
		{"something.new", false},
	}
	for _, tt := range tests {
		if got := notify.Closes(tt.kind); got != tt.want {
			t.Errorf("Closes(%s) = %v, want %v", tt.kind, got, tt.want)
		}
	}
}

func TestPacerLetsABurstGoThenSpacesTheRest(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := testkit.NewClock(start)
	p := notify.NewPacer(2, 6, clock.Now, clock.Sleep)
	var at []time.Duration
	for range 300 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		at = append(at, clock.Now().Sub(start))
	}
	for i := range 6 {
		if at[i] != 0 {
			t.Errorf("request %d of the burst waited %s", i, at[i])
		}
	}
	for i := 6; i < len(at); i++ {
		if gap := at[i] - at[i-1]; gap != 500*time.Millisecond {
			t.Errorf("request %d came %s after the one before, want 500ms", i, gap)
		}
	}
	// A bucket of 6 refilled at 2 a second lets at most 6 + 120 requests
	// into any minute.
	for i := range at {
		n := 0
		for _, a := range at[i:] {
			if a-at[i] < time.Minute {
				n++
			}
		}
		if n > 126 {
			t.Errorf("%d requests in the minute from request %d", n, i)
		}
	}
}

func TestPacerStopsWaitingWhenTheContextEnds(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	p := notify.NewPacer(1, 1, clock.Now, clock.Sleep)
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx); err == nil {
		t.Fatal("Wait after the context ended returned nil")
	}
}

func TestAcceptedForgetsTheOldestBeyondItsLimit(t *testing.T) {
	a := notify.NewAccepted(3)
	for i := range 5 {
		a.Add(fmt.Sprint(i))
	}
	a.Add("4") // again: no new place
	for i, want := range []bool{false, false, true, true, true} {
		if got := a.Has(fmt.Sprint(i)); got != want {
			t.Errorf("Has(%d) = %v, want %v", i, got, want)
		}
	}
	a.Add("")
	if a.Has("") {
		t.Error("the empty id was remembered")
	}
}

func TestRefusalsCountsAndNamesThemOnOneLine(t *testing.T) {
	first := &notify.StatusError{Channel: "pagerduty", What: "trigger a", Status: 400}
	var refused []error
	refused = append(refused, first)
	for _, k := range []string{"b", "c", "d", "e"} {
		refused = append(refused, &notify.StatusError{Channel: "pagerduty", What: "trigger " + k, Status: 400})
	}
	err := notify.Refusals("pagerduty", refused, 9)
	want := "pagerduty: 5 of 9 requests refused: pagerduty: trigger a: answered 400 Bad Request; pagerduty: trigger b: answered 400 Bad Request; pagerduty: trigger c: answered 400 Bad Request; and 2 more"
	if err.Error() != want {
		t.Errorf("error =\n%s\nwant\n%s", err, want)
	}
	if !notify.RefusesContent(err) {
		t.Error("the joined error does not reach the first refusal")
	}
	if notify.RefusesContent(&notify.StatusError{Status: 403}) || notify.RefusesContent(errors.New("x")) {
		t.Error("a 403 or a transport error counted as a refusal of the content")
	}
	if notify.Refusals("x", nil, 3) != nil {
		t.Error("no refusals gave an error")
	}
}
