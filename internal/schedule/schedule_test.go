package schedule

import (
	"errors"
	"testing"
	"time"
)

func TestParseRefusesWhatWouldNotRunAsWritten(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		refused  bool
		interval time.Duration
	}{
		{"@every 1s", false, time.Second},
		{"@every 90s", false, 90 * time.Second},
		{"*/5 * * * *", false, 5 * time.Minute},
		{"@hourly", false, time.Hour},
		{"0 0 1 1 *", false, 0},
		{"@every 999ms", true, 0},
		{"@every 0s", true, 0},
		{"@every -1s", true, 0},
		{"0 0 30 2 *", true, 0},
		{"0 0 29 2 *", true, 0},
		{"0 0 31 4 *", true, 0},
	} {
		sched, err := Parse(tc.spec)
		var refused *Refused
		if got := errors.As(err, &refused); got != tc.refused {
			t.Errorf("%q: refused %v (%v), want %v", tc.spec, got, err, tc.refused)
		}
		if err == nil && tc.interval > 0 && Interval(sched) != tc.interval {
			t.Errorf("%q: interval %s, want %s", tc.spec, Interval(sched), tc.interval)
		}
	}
	if _, err := Parse("every minute"); err == nil {
		t.Error("a schedule that is not one was accepted")
	}
}
