// Package schedule parses the schedules of seqwatch.yaml (schedule: and
// maintenance windows) and measures them. The configuration checks a
// schedule with it and the daemon runs one, so that both agree on what a
// schedule means. It is a leaf: of seqwatch it imports only the one real
// sleep (internal/pause).
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultTickTimeout is the longest default deadline of a tick: a tick's
// deadline is tick_timeout, or half its schedule's interval but at most
// this.
const DefaultTickTimeout = 30 * time.Second

// Parse accepts @every, the @hourly-style descriptors and 5-field cron
// expressions. It refuses what would run otherwise than written: @every
// less than a second (the scheduler would run it every second), and a
// schedule that would go a year or more without running (30 February, or
// 29 February only).
func Parse(s string) (cron.Schedule, error) {
	if d, ok := strings.CutPrefix(strings.TrimSpace(s), "@every "); ok {
		if v, err := time.ParseDuration(strings.TrimSpace(d)); err == nil && v < time.Second {
			return nil, &Refused{fmt.Sprintf("@every %s is less than a second, and would run every second: give 1s or more", v)}
		}
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, err
	}
	if !runsEveryYear(sched) {
		return nil, &Refused{"it would not run within a year (a day that does not exist, or 29 February only): give a schedule that runs at least once a year"}
	}
	return sched, nil
}

// Refused is a schedule that parses but would not run as written.
type Refused struct{ msg string }

func (r *Refused) Error() string { return r.msg }

// runsEveryYear reports whether sched runs within a year of any moment:
// from points a month apart over four years (a leap year among them), the
// next run is never a year or more away.
func runsEveryYear(sched cron.Schedule) bool {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const year = 366 * 24 * time.Hour
	for p := start; p.Before(start.AddDate(4, 1, 0)); p = p.AddDate(0, 1, 0) {
		next := sched.Next(p)
		if next.IsZero() || next.Sub(p) > year {
			return false
		}
	}
	return true
}

// Interval is the shortest gap between two runs of sched over a sample of
// its next runs (cron expressions need not be regular).
func Interval(sched cron.Schedule) time.Duration {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	shortest := time.Duration(0)
	for range 64 {
		next := sched.Next(t)
		if next.IsZero() {
			break
		}
		if gap := next.Sub(t); shortest == 0 || gap < shortest {
			shortest = gap
		}
		t = next
	}
	return shortest
}
