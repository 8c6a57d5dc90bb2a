package notify

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestNamedSortsAndPicksTheChannels(t *testing.T) {
	channels := map[string]Notifier{"ops": &recordingNotifier{}, "hook": &recordingNotifier{}}
	tests := []struct {
		only, want, failure string
	}{
		{"", "hook ops", ""},
		{"ops", "ops", ""},
		{"mail", "", `no channel named "mail" in seqwatch.yaml`},
	}
	for _, tc := range tests {
		names, err := Named(channels, tc.only, "seqwatch.yaml")
		if strings.Join(names, " ") != tc.want || (err == nil) != (tc.failure == "") || (err != nil && err.Error() != tc.failure) {
			t.Errorf("Named(%q) = %q, %v; want %q, %q", tc.only, names, err, tc.want, tc.failure)
		}
	}
	if _, err := Named(nil, "", "seqwatch.yaml"); err == nil || err.Error() != "seqwatch.yaml configures no channels" {
		t.Errorf("no channels: %v", err)
	}
}

func TestTestEventIsInformationalAndNamesTheApplication(t *testing.T) {
	ev := TestEvent("", "prod", t0)
	if ev.Kind != Test || ev.App != "seqwatch" || ev.Environment != "prod" || !ev.OccurredAt.Equal(t0) || !strings.HasPrefix(ev.ID, "evt_test_") {
		t.Errorf("test event %+v", ev)
	}
	if ev := TestEvent("shop", "", t0); ev.App != "shop" {
		t.Errorf("app %q, want shop", ev.App)
	}
}

// TryEach reports each channel and counts the failures, without their
// secrets.
func TestTryEachReportsEveryChannelAndFailsIfOneDid(t *testing.T) {
	clock := newFakeClock()
	bad := &recordingNotifier{clock: clock, script: []reply{{err: errors.New("webhook: HTTP 403 from https://hooks.example/tok-secret")}}}
	good := &recordingNotifier{clock: clock}
	d := newTestDispatcher(clock, map[string]Notifier{"bad": bad, "good": good}, DispatcherOptions{MaxAttempts: 2})
	var out strings.Builder
	err := TryEach(t.Context(), d, []string{"bad", "good"}, []Event{TestEvent("shop", "", t0)}, &out, []string{"tok-secret"})
	if err == nil || err.Error() != "1 of 2 channel(s) failed the test" {
		t.Errorf("error %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "bad ") || !strings.Contains(lines[0], "FAILED: webhook: HTTP 403") ||
		strings.Contains(out.String(), "tok-secret") || !strings.HasPrefix(lines[1], "good ") || !strings.HasSuffix(lines[1], " ok") {
		t.Errorf("output:\n%s", out.String())
	}
	if len(good.calls) != 1 {
		t.Errorf("good got %d calls, want 1", len(good.calls))
	}
}

func TestPreviewWritesEachChannelsRequestsAsItsRoutesGiveThem(t *testing.T) {
	channels := map[string]Notifier{"console": NewConsole(io.Discard), "blind": &recordingNotifier{}}
	events := oneEvent()
	routes := Routes{{Kinds: []Kind{PendingThreshold}, Channels: []string{"console"}}}
	t.Run("a sample goes to every channel, with a note where the routes would not send it", func(t *testing.T) {
		var out strings.Builder
		err := Preview{Channels: channels, Routes: routes}.Write(&out, []string{"blind", "console"}, events)
		if err == nil || err.Error() != "1 of 2 channel(s) could not render the preview" {
			t.Errorf("error %v", err)
		}
		for _, want := range []string{"== blind: this channel cannot show what it would send", "== console: 1 request for 1 event(s)", "(the routes do not send operation.failed to console)"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the preview lacks %q:\n%s", want, out.String())
			}
		}
	})
	t.Run("routed events go only where the routes send them", func(t *testing.T) {
		var out strings.Builder
		err := Preview{Channels: channels, Routes: routes, Routed: true}.Write(&out, []string{"console"}, events)
		if err != nil || !strings.Contains(out.String(), "== console: its routes give it none of the 1 event(s)") {
			t.Errorf("%v\n%s", err, out.String())
		}
	})
}
