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
}

// ThresholdsOverrides are an application's own thresholds; each key left
// out is the top level's.
type ThresholdsOverrides struct {
	MaxPending       *int      `yaml:"max_pending"`
	StuckAfter       *Duration `yaml:"stuck_after"`
	UnreachableAfter *int      `yaml:"unreachable_after"`
}

// Check is the thresholds as the rules take them: the one place where the
// YAML shape becomes check.Thresholds.
func (t Thresholds) Check() check.Thresholds {
	return check.Thresholds{
		MaxPending:       t.MaxPending,
		StuckAfter:       time.Duration(t.StuckAfter),
		UnreachableAfter: t.UnreachableAfter,
	}
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
