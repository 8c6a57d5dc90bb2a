package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seqwatch/seqwatch/internal/schedule"
	"github.com/seqwatch/seqwatch/state"
)

// DefaultMuteMax is the longest mute accepted unless mute_max says
// otherwise.
const DefaultMuteMax = 24 * time.Hour

// MaintenanceWindow is one entry of maintenance: in seqwatch.yaml: a
// recurring period, from each start of Schedule for Duration, in which
// nothing is sent.
type MaintenanceWindow struct {
	// Schedule is a 5-field cron expression in the daemon's time zone
	// (or CRON_TZ=Europe/Berlin 0 3 * * SUN).
	Schedule string   `yaml:"schedule"`
	Duration Duration `yaml:"duration"`
	Reason   string   `yaml:"reason"`
	// UnmuteUnreachable still sends source.unreachable during the window.
	UnmuteUnreachable bool `yaml:"unmute_unreachable"`
}

// MuteLimit is mute_max, or its default.
func (c *Config) MuteLimit() time.Duration {
	if c.MuteMax > 0 {
		return time.Duration(c.MuteMax)
	}
	return DefaultMuteMax
}

// ValidateMutes checks mute_max and maintenance:, each problem with its
// key's line (Validate includes them).
func (c *Config) ValidateMutes() []string {
	p := &problems{lines: c.lines}
	c.validateMutes(p)
	for i, m := range p.list {
		p.list[i] = redact(m, c.secrets)
	}
	return p.list
}

func (c *Config) validateMutes(p *problems) {
	if c.IsSet("mute_max") && c.MuteMax <= 0 {
		p.add("mute_max", "must be a positive duration such as 24h (got %s)", time.Duration(c.MuteMax))
	}
	for i, w := range c.Maintenance {
		key := fmt.Sprintf("maintenance[%d]", i)
		var refused *schedule.Refused
		switch _, err := schedule.Parse(w.Schedule); {
		case strings.TrimSpace(w.Schedule) == "":
			p.addNear(key, "give a schedule: a 5-field cron expression such as \"0 3 * * SUN\" (minute hour day-of-month month day-of-week)")
		case errors.As(err, &refused):
			p.addNear(key+".schedule", "%q: %v", w.Schedule, err)
		case err != nil:
			p.addNear(key+".schedule", "%q is not a cron expression (%v): write 5 fields such as \"0 3 * * SUN\" (minute hour day-of-month month day-of-week)", w.Schedule, err)
		}
		if w.Duration <= 0 {
			p.addNear(key+".duration", "give how long each window lasts, such as 2h")
		}
	}
}

// Window is a maintenance window with its schedule parsed.
type Window struct {
	// ID names it in lists and the API: maintenance[0].
	ID    string
	Sched cron.Schedule
	MaintenanceWindow
}

// Windows parses the configuration's maintenance windows (Validate has
// checked them).
func (c *Config) Windows() ([]Window, error) {
	var out []Window
	for i, w := range c.Maintenance {
		sched, err := schedule.Parse(w.Schedule)
		if err != nil {
			return nil, fmt.Errorf("maintenance[%d].schedule %q: %w", i, w.Schedule, err)
		}
		out = append(out, Window{ID: fmt.Sprintf("maintenance[%d]", i), Sched: sched, MaintenanceWindow: w})
	}
	return out, nil
}

// WindowsAt returns the windows in force at now, as mutes: a window is in
// force from a start of its schedule for its duration.
func WindowsAt(ws []Window, now time.Time) []state.Mute {
	var out []state.Mute
	for _, w := range ws {
		d := time.Duration(w.Duration)
		// The starts in (now-d, now]; the latest one ends last. The
		// bound keeps a schedule much denser than its duration cheap.
		var last time.Time
		for s, n := w.Sched.Next(now.Add(-d)), 0; !s.IsZero() && !s.After(now) && n < 10000; s, n = w.Sched.Next(s), n+1 {
			last = s
		}
		if last.IsZero() {
			continue
		}
		first := w.Sched.Next(now.Add(-d))
		out = append(out, state.Mute{ID: w.ID, Reason: w.Reason, Start: first, End: last.Add(d), KeepUnreachable: w.UnmuteUnreachable, By: "maintenance"})
	}
	return out
}
