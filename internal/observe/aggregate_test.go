package observe

import (
	"errors"
	"testing"
)

func TestSeveralApplicationsAddUpTheirOutboxes(t *testing.T) {
	g := &aggregate{outbox: map[string]map[string][2]int{}, readErr: map[string]error{}}
	steps := []struct {
		app               string
		waiting, dead     int
		wantWait, wantDie int
	}{
		{"shop", 2, 1, 2, 1},
		{"blog", 3, 0, 5, 1},
		{"shop", 0, 1, 3, 1}, // shop's outbox emptied: the total follows
	}
	for i, s := range steps {
		w, d := g.setOutbox(s.app, "slack", s.waiting, s.dead)
		if w != s.wantWait || d != s.wantDie {
			t.Errorf("step %d: slack totals %d waiting, %d dead; want %d and %d", i, w, d, s.wantWait, s.wantDie)
		}
	}
}

func TestTheHeartbeatFailsWhileAnyApplicationsLastReadFailed(t *testing.T) {
	g := &aggregate{outbox: map[string]map[string][2]int{}, readErr: map[string]error{}}
	down := errors.New("connection refused")
	steps := []struct {
		app     string
		err     error
		wantErr string
	}{
		{"shop", nil, ""},
		{"blog", down, "blog: connection refused"},
		{"shop", nil, "blog: connection refused"}, // shop's success does not hide blog
		{"blog", nil, ""},
	}
	for i, s := range steps {
		got := g.setRead(s.app, s.err)
		if (got == nil) != (s.wantErr == "") || got != nil && got.Error() != s.wantErr {
			t.Errorf("step %d: %v, want %q", i, got, s.wantErr)
		}
	}
}
