package config

import (
	"time"

	"github.com/seqwatch/seqwatch/check"
)

// This file is the one place that knows the thresholds: their YAML shape,
// how an application of apps: inherits them, how they are checked, and
// how they become check.Thresholds. A new threshold is a field here and a
// line in each of the four functions below.

// Thresholds are when to warn.
type Thresholds struct {
	MaxPending       int      `yaml:"max_pending"`
	StuckAfter       Duration `yaml:"stuck_after"`
	UnreachableAfter int      `yaml:"unreachable_after"`
	// RowShapes are the thresholds of the rows Sequencer really writes.
	RowShapes `yaml:",inline"`
}

// ThresholdsOverrides are an application's own thresholds; each key left
// out is the top level's.
type ThresholdsOverrides struct {
	MaxPending       *int      `yaml:"max_pending"`
	StuckAfter       *Duration `yaml:"stuck_after"`
	UnreachableAfter *int      `yaml:"unreachable_after"`
	RowShapes        `yaml:",inline"`
}

// Check is the thresholds as the rules take them: the one place where the
// YAML shape becomes check.Thresholds.
func (t Thresholds) Check() check.Thresholds {
	th := check.Thresholds{
		MaxPending:       t.MaxPending,
		StuckAfter:       time.Duration(t.StuckAfter),
		UnreachableAfter: t.UnreachableAfter,
	}
	t.RowShapes.apply(&th)
	return th
}

// override is t with the keys o sets in their place.
func (t Thresholds) override(o ThresholdsOverrides) Thresholds {
	if o.MaxPending != nil {
		t.MaxPending = *o.MaxPending
	}
	if o.StuckAfter != nil {
		t.StuckAfter = *o.StuckAfter
	}
	if o.UnreachableAfter != nil {
		t.UnreachableAfter = *o.UnreachableAfter
	}
	t.RowShapes = t.RowShapes.over(o.RowShapes)
	return t
}

// validate reports the thresholds' problems under prefix ("" or
// "apps[2]."); set says which keys the file sets, so that an application
// is told only about the keys it sets itself.
func (t Thresholds) validate(p *problems, prefix string, set func(key string) bool) {
	if set("thresholds.max_pending") && t.MaxPending < 0 {
		p.add(prefix+"thresholds.max_pending", "must be 0 (off) or more (got %d)", t.MaxPending)
	}
	if set("thresholds.unreachable_after") && t.UnreachableAfter < 0 {
		p.add(prefix+"thresholds.unreachable_after", "must be 1 or more (got %d)", t.UnreachableAfter)
	}
}

// RowShapes are the thresholds of the row shapes the real Sequencer
// writes (docs/sequencer-rows.md), under thresholds: at the top level and
// in each application of apps:. A key left out takes check's default
// (check.DefaultThresholds); 0 turns it off. (Durations are never
// negative: Duration refuses them.)
type RowShapes struct {
	// ScheduledStuckAfter: a Scheduled operation waiting for its time
	// longer than this is operation.stuck (default 48h).
	ScheduledStuckAfter *Duration `yaml:"scheduled_stuck_after"`
	// RolledBackWindow: check warns about a rolled-back run this long
	// after its rollback (default 24h; 0 never warns).
	RolledBackWindow *Duration `yaml:"rolled_back_window"`
	// AsyncRetryGrace: the daemon sends operation.failed for a failed run
	// of a queued operation only once it is still failed this long after
	// (default 2m; 0 at once).
	AsyncRetryGrace *Duration `yaml:"async_retry_grace"`
	// DeferredStuckAfter: deferred operations in processing longer than
	// this are deferred.stuck; DeferredOverdueAfter: pending ones due
	// longer ago are deferred.overdue (default 1h each; 0 off).
	DeferredStuckAfter   *Duration `yaml:"deferred_stuck_after"`
	DeferredOverdueAfter *Duration `yaml:"deferred_overdue_after"`
}

// apply sets th's row-shape thresholds: the configured ones, else the
// defaults.
func (r RowShapes) apply(th *check.Thresholds) {
	def := check.DefaultThresholds()
	th.ScheduledStuckAfter = r.ScheduledStuckAfter.or(def.ScheduledStuckAfter)
	th.RolledBackWindow = r.RolledBackWindow.or(def.RolledBackWindow)
	th.AsyncRetryGrace = r.AsyncRetryGrace.or(def.AsyncRetryGrace)
	th.DeferredStuckAfter = r.DeferredStuckAfter.or(def.DeferredStuckAfter)
	th.DeferredOverdueAfter = r.DeferredOverdueAfter.or(def.DeferredOverdueAfter)
}

// over returns r with the keys that o sets (an application's own).
func (r RowShapes) over(o RowShapes) RowShapes {
	if o.ScheduledStuckAfter != nil {
		r.ScheduledStuckAfter = o.ScheduledStuckAfter
	}
	if o.RolledBackWindow != nil {
		r.RolledBackWindow = o.RolledBackWindow
	}
	if o.AsyncRetryGrace != nil {
		r.AsyncRetryGrace = o.AsyncRetryGrace
	}
	if o.DeferredStuckAfter != nil {
		r.DeferredStuckAfter = o.DeferredStuckAfter
	}
	if o.DeferredOverdueAfter != nil {
		r.DeferredOverdueAfter = o.DeferredOverdueAfter
	}
	return r
}

// or is the duration, or def when it is not set.
func (d *Duration) or(def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return time.Duration(*d)
}
