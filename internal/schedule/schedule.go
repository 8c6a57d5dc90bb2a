// Package schedule parses the schedules of seqwatch.yaml (schedule: and
// maintenance windows) and measures them. The configuration checks a
// schedule with it and the daemon runs one, so that both agree on what a
// schedule means. It is a leaf: of seqwatch it imports nothing.
package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultTickTimeout is the longest default deadline of a tick: a tick's
// deadline is tick_timeout, or half its schedule's interval but at most
// this.
const DefaultTickTimeout = 30 * time.Second

// Parse accepts @every, the @hourly-style descriptors and 5-field cron
// expressions.
func Parse(s string) (cron.Schedule, error) {
	return cron.ParseStandard(s)
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
