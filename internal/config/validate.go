package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/schedule"
)

// Validate checks the configuration's meaning (Load checked its shape) and
// returns every problem, each naming the key, its line and the fix.
func (c *Config) Validate() []string {
	p := &problems{lines: c.lines}
	if c.HasApps() {
		c.validateApps(p)
		for _, ac := range c.Applications() {
			ac.validateOverrides(p)
		}
	} else if c.App == "" && c.Database.URL == "" {
		p.add("app", "set app (the Laravel application root) or database.url, or list several applications under apps")
	}
	if c.State.LeaseTTL > 0 {
		// The sender renews its lease once a tick: a lease shorter than a
		// tick and its deadline would pass to a standby at every tick.
		for _, ac := range c.Applications() {
			sched, err := schedule.Parse(ac.ScheduleSpec())
			if err != nil {
				continue // reported on its own
			}
			timeout, _ := ac.TickDeadline()
			if need := schedule.Interval(sched) + timeout; time.Duration(c.State.LeaseTTL) <= need {
				p.add("state.lease", "must be longer than a tick and its deadline (%s for %q), or the sender would change at every tick (got %s)",
					need, ac.DisplayName(), time.Duration(c.State.LeaseTTL))
				break
			}
		}
	}
	if c.Concurrency < 0 {
		p.add("concurrency", "must be 1 or more, or 0 for the default (got %d)", c.Concurrency)
	}
	c.Thresholds.validate(p, "", func(string) bool { return true })
	switch c.OnFirstRun {
	case "", "digest", "silent":
	default:
		p.add("on_first_run", "must be digest or silent (got %q)", c.OnFirstRun)
	}
	if c.Schedule != "" {
		validateSchedule(p, "schedule", c.Schedule)
	}
	if c.Reconcile < 0 {
		p.add("reconcile", "must not be negative (got %s)", time.Duration(c.Reconcile))
	}
	if c.TickTimeout > 0 && c.Schedule != "" {
		validateTickTimeout(p, "tick_timeout", c.Schedule, c.TickTimeout)
	}
	if c.Database.Timezone != "" {
		validateTimezone(p, "database.timezone", c.Database.Timezone)
	}
	if c.IsSet("channels") && len(c.Channels) == 0 {
		p.add("channels", "the list is empty, so there is nothing to send alerts to: add a channel (console: {} prints them), or leave channels: out if this file is only for status and check")
	}
	names := map[string]bool{}
	for i, ch := range c.Channels {
		key := fmt.Sprintf("channels[%d]", i)
		if ch.Name == "" {
			p.add(key+".name", "every channel needs a name (routes refer to it)")
		} else if names[ch.Name] {
			p.add(key+".name", "channel name %q is used twice", ch.Name)
		}
		names[ch.Name] = true
		if set := len(ch.given); set != 1 {
			p.add(key, "give exactly one of %s (got %d)", ChannelTypes().Choices(), set)
			continue
		}
		if err := ch.given[0].typ.Validate(ch.given[0].cfg); err != nil {
			p.addLines(key, err.Error())
		}
		if _, errs := ch.ParseTemplates(c.HTTP.URL, nil); errs != nil {
			for _, e := range errs {
				p.addNear(key+".templates."+e.Key, "%s", templateProblem(e.Err))
			}
		}
	}
	if err := c.HTTP.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			key, msg, _ := strings.Cut(line, ": ")
			p.add(key, "%s", msg)
		}
	}
	if c.Heartbeat != nil {
		if err := c.Heartbeat.Validate(); err != nil {
			key, msg, _ := strings.Cut(err.Error(), ": ")
			p.add(key, "%s", msg)
		}
	}
	c.validateMutes(p)
	for _, ac := range c.Applications() {
		ac.validateEnvFile(p)
	}
	if len(c.Routes) > 0 {
		if err := c.Routes.Validate(names); err != nil {
			p.addLines("routes", err.Error())
		}
	}
	// A value that came from ${VAR} or a *_file may be quoted by a
	// problem with its key.
	list := p.sorted()
	for i, m := range list {
		list[i] = redact(m, c.secrets)
	}
	return list
}

// validateSchedule reports a schedule that cannot be parsed.
func validateSchedule(p *problems, key, spec string) {
	var refused *schedule.Refused
	switch _, err := schedule.Parse(spec); {
	case errors.As(err, &refused):
		p.add(key, "%q: %v", spec, err)
	case err != nil:
		p.add(key, "%v: use @every 1m, @hourly or a 5-field cron expression such as */5 * * * *", err)
	}
}

// validateTickTimeout reports a tick deadline as long as its schedule's
// interval.
func validateTickTimeout(p *problems, key, spec string, timeout Duration) {
	sched, err := schedule.Parse(spec)
	if err != nil {
		return // reported on its own
	}
	if iv := schedule.Interval(sched); time.Duration(timeout) >= iv {
		p.add(key, "must be shorter than the schedule's interval (%s for %q), or ticks would always overlap (got %s)",
			iv, spec, time.Duration(timeout))
	}
}

func validateTimezone(p *problems, key, zone string) {
	if _, err := time.LoadLocation(zone); err != nil {
		p.add(key, "unknown time zone %q: use an IANA name such as UTC or Europe/Berlin", zone)
	}
}

// validateApps checks the apps: list: names given, unique and usable as a
// metric label prefix and file name part; each application has a source,
// and no two read the same database and files.
func (c *Config) validateApps(p *problems) {
	if c.App != "" || c.Name != "" || c.Database.URL != "" {
		for _, k := range []string{"app", "name", "database.url"} {
			if c.IsSet(k) {
				p.add(k, "with apps: each application sets its own %s; move it into its entry under apps", k)
			}
		}
	}
	names := map[string]int{}
	sources := map[string]int{}
	for i, ac := range c.Applications() {
		key := fmt.Sprintf("apps[%d]", i)
		a := c.Apps[i]
		switch {
		case a.Name == "":
			p.add(key+".name", "every application needs a name (alerts, --name and metrics use it)")
		case !validAppName(a.Name):
			p.add(key+".name", "%q: use letters, digits, _ and - only, starting with a letter (it prefixes check's performance data and names the state file)", a.Name)
		default:
			if j, dup := names[a.Name]; dup {
				p.add(key+".name", "application name %q is already used by apps[%d]", a.Name, j)
			} else {
				names[a.Name] = i
			}
		}
		if a.App == "" && a.Database.URL == "" {
			p.add(key, "application %q has neither app (the Laravel application root) nor database.url: set one", a.Name)
			continue
		}
		id := ac.sourceIdentity()
		if j, dup := sources[id]; dup {
			p.add(key, "application %q reads the same database and files as apps[%d]: remove one of them", a.Name, j)
		} else {
			sources[id] = i
		}
	}
}

// validAppName is what may name an application of several.
func validAppName(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return s != ""
}

// validateOverrides checks the keys an application entry sets itself, as
// Validate checks them at the top level, naming them apps[i].key.
func (a *App) validateOverrides(p *problems) {
	pre := a.keyPrefix()
	set := func(key string) bool { return a.file.IsSet(pre + key) }
	a.Thresholds.validate(p, pre, set)
	if set("schedule") {
		validateSchedule(p, pre+"schedule", a.Schedule)
	}
	if (set("tick_timeout") || set("schedule")) && a.TickTimeout > 0 && a.Schedule != "" {
		validateTickTimeout(p, pre+"tick_timeout", a.Schedule, a.TickTimeout)
	}
	if set("database.timezone") {
		validateTimezone(p, pre+"database.timezone", a.Database.Timezone)
	}
	if set("routes") {
		names := map[string]bool{}
		for _, ch := range a.Channels() {
			names[ch.Name] = true
		}
		if err := a.Routes.Validate(names); err != nil {
			p.addLines(pre+"routes", err.Error())
		}
	}
}

// validateEnvFile reports an application's .env that check, status and
// the daemon could not read: not NAME=value lines (by line and column,
// never its text), too large, or not a file. An application directory or
// .env missing here is no problem of the file's: validate may run away
// from the applications.
func (a *App) validateEnvFile(p *problems) {
	dir := a.Settings().AppDir
	if dir == "" {
		return
	}
	path := filepath.Join(dir, ".env")
	_, err := laravel.ReadEnvFile(path)
	var syntax *laravel.EnvSyntaxError
	var pe *fs.PathError
	switch {
	case err == nil, errors.As(err, &pe):
		// Read, or not readable here (missing, or not this user's).
	case errors.As(err, &syntax):
		p.add(a.keyPrefix()+"app", "%s is not a valid .env file: %v", path, err)
	default:
		p.add(a.keyPrefix()+"app", "%s %v", path, err)
	}
}

// templateProblem is a template's problem with how to fix it.
func templateProblem(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "nil pointer evaluating") {
		msg += ": the event has no such part here; guard it, as in {{with .Operation}}{{.Name}}{{end}}"
	}
	return msg
}
