package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/notify"
)

// AppConf is one entry of apps: in seqwatch.yaml. What it leaves out it
// takes from the top level (environment, tables, thresholds key by key,
// schedule, tick_timeout, reconcile, repeat_after, routes).
type AppConf struct {
	Name        string              `yaml:"name"`
	App         string              `yaml:"app"`
	Environment *string             `yaml:"environment"`
	Database    DatabaseConf        `yaml:"database"`
	Paths       PathsConf           `yaml:"paths"`
	Tables      *laravel.Tables     `yaml:"tables"`
	Thresholds  ThresholdsOverrides `yaml:"thresholds"`
	Schedule    *string             `yaml:"schedule"`
	TickTimeout *Duration           `yaml:"tick_timeout"`
	Reconcile   *Duration           `yaml:"reconcile"`
	RepeatAfter *Duration           `yaml:"repeat_after"`
	Routes      notify.Routes       `yaml:"routes"`
	// StatePath is this application's state file (default: state.path
	// with the application's name before the extension).
	StatePath string `yaml:"state_path"`
}

// ThresholdsOverrides are an application's own thresholds; each key left
// out is the top level's.
type ThresholdsOverrides struct {
	MaxPending       *int      `yaml:"max_pending"`
	StuckAfter       *Duration `yaml:"stuck_after"`
	UnreachableAfter *int      `yaml:"unreachable_after"`
}

// multiApp reports whether the configuration uses the apps: list.
func (c *Config) multiApp() bool { return len(c.Apps) > 0 }

// Applications returns one configuration per application, each complete
// (the top level's defaults filled in). A configuration without apps: is
// one application: itself.
func (c *Config) Applications() []*Config {
	if !c.multiApp() {
		return []*Config{c}
	}
	out := make([]*Config, 0, len(c.Apps))
	for i, a := range c.Apps {
		out = append(out, c.application(i, a))
	}
	return out
}

// application is c with apps[i]'s keys in place of the top level's.
func (c *Config) application(i int, a AppConf) *Config {
	ac := *c
	ac.Apps = nil
	ac.appIndex = i + 1
	ac.App, ac.Name, ac.Database, ac.Paths = a.App, a.Name, a.Database, a.Paths
	if a.Environment != nil {
		ac.Environment = *a.Environment
	}
	if a.Tables != nil {
		ac.Tables = *a.Tables
	}
	if a.Thresholds.MaxPending != nil {
		ac.Thresholds.MaxPending = *a.Thresholds.MaxPending
	}
	if a.Thresholds.StuckAfter != nil {
		ac.Thresholds.StuckAfter = *a.Thresholds.StuckAfter
	}
	if a.Thresholds.UnreachableAfter != nil {
		ac.Thresholds.UnreachableAfter = *a.Thresholds.UnreachableAfter
	}
	if a.Schedule != nil {
		ac.Schedule = *a.Schedule
	}
	if a.TickTimeout != nil {
		ac.TickTimeout = *a.TickTimeout
	}
	if a.Reconcile != nil {
		ac.Reconcile = *a.Reconcile
	}
	if a.RepeatAfter != nil {
		ac.RepeatAfter = *a.RepeatAfter
	}
	if a.Routes != nil {
		ac.Routes = a.Routes
	}
	ac.State.Path = a.StatePath
	if ac.State.Path == "" {
		ac.State.Path = appStatePath(c.State.Path, a.Name)
	}
	return &ac
}

// appStatePath is where an application of several keeps its state by
// default: state.path with the name before the extension
// (/var/lib/seqwatch/state.json → /var/lib/seqwatch/state.shop.json).
func appStatePath(base, name string) string {
	if base == "" {
		base = DefaultStatePath
	}
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "." + name + ext
}

// keyPrefix is how this configuration's own keys are named in messages:
// "apps[2]." for an application of several, "" otherwise.
func (c *Config) keyPrefix() string {
	if c.appIndex == 0 {
		return ""
	}
	return fmt.Sprintf("apps[%d].", c.appIndex-1)
}

// Application picks the application called name; with name empty, the
// only application. The error names the choices.
func (c *Config) Application(name string) (*Config, error) {
	apps := c.Applications()
	if name == "" {
		if len(apps) == 1 {
			return apps[0], nil
		}
		return nil, fmt.Errorf("%s has %d applications (%s): pick one with --name", c.path, len(apps), strings.Join(appNames(apps), ", "))
	}
	for _, a := range apps {
		if a.appName() == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%s has no application named %q (it has %s)", c.path, name, strings.Join(appNames(apps), ", "))
}

// appName is the name the application goes by (name:, else what
// laravel.Resolve makes of the application: its directory's name or its
// database's), as --name matches it.
func (c *Config) appName() string {
	if c.Name != "" {
		return c.Name
	}
	if src, err := laravel.Resolve(c.Settings()); err == nil {
		return src.Name
	}
	return ""
}

func appNames(apps []*Config) []string {
	out := make([]string, 0, len(apps))
	for _, a := range apps {
		out = append(out, fmt.Sprintf("%q", a.appName()))
	}
	return out
}

// validateApps checks the apps: list: names given, unique and usable as a
// metric label prefix and file name part; each application has a source,
// and no two read the same database and files.
func (c *Config) validateApps(add func(key, format string, args ...any)) {
	if c.App != "" || c.Name != "" || c.Database.URL != "" {
		for _, k := range []string{"app", "name", "database.url"} {
			if _, ok := c.lines[k]; ok {
				add(k, "with apps: each application sets its own %s; move it into its entry under apps", k)
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
			add(key+".name", "every application needs a name (alerts, --name and metrics use it)")
		case !validAppName(a.Name):
			add(key+".name", "%q: use letters, digits, _ and - only, starting with a letter (it prefixes check's performance data and names the state file)", a.Name)
		default:
			if j, dup := names[a.Name]; dup {
				add(key+".name", "application name %q is already used by apps[%d]", a.Name, j)
			} else {
				names[a.Name] = i
			}
		}
		if a.App == "" && a.Database.URL == "" {
			add(key, "application %q has neither app (the Laravel application root) nor database.url: set one", a.Name)
			continue
		}
		id := ac.sourceIdentity()
		if j, dup := sources[id]; dup {
			add(key, "application %q reads the same database and files as apps[%d]: remove one of them", a.Name, j)
		} else {
			sources[id] = i
		}
	}
}

// sourceIdentity says what an application reads: the app directory, the
// database URL, the discovery paths and the tables. Two entries with the
// same identity would alert twice about everything.
func (c *Config) sourceIdentity() string {
	s := c.Settings()
	ops := slices.Clone(s.OperationPaths)
	migs := slices.Clone(s.MigrationPaths)
	slices.Sort(ops)
	slices.Sort(migs)
	return strings.Join([]string{filepath.Clean(s.AppDir + "/."), s.URL, strings.Join(ops, ","), strings.Join(migs, ","),
		s.Tables.Operations, s.Tables.Errors, s.Tables.Deferred, s.Tables.Migrations}, "\x00")
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
func (c *Config) validateOverrides(add func(key, format string, args ...any)) {
	p := c.keyPrefix()
	set := func(key string) bool { _, ok := c.lines[p+key]; return ok }
	if set("thresholds.max_pending") && c.Thresholds.MaxPending < 0 {
		add(p+"thresholds.max_pending", "must be 0 (off) or more (got %d)", c.Thresholds.MaxPending)
	}
	if set("thresholds.unreachable_after") && c.Thresholds.UnreachableAfter < 0 {
		add(p+"thresholds.unreachable_after", "must be 1 or more (got %d)", c.Thresholds.UnreachableAfter)
	}
	if set("schedule") {
		if _, err := parseSchedule(c.Schedule); err != nil {
			add(p+"schedule", "%v: use @every 1m, @hourly or a 5-field cron expression such as */5 * * * *", err)
		}
	}
	if (set("tick_timeout") || set("schedule")) && c.TickTimeout > 0 && c.Schedule != "" {
		if sched, err := parseSchedule(c.Schedule); err == nil {
			if iv := scheduleInterval(sched); time.Duration(c.TickTimeout) >= iv {
				add(p+"tick_timeout", "must be shorter than the schedule's interval (%s for %q), or ticks would always overlap (got %s)",
					iv, c.Schedule, time.Duration(c.TickTimeout))
			}
		}
	}
	if set("database.timezone") {
		if _, err := time.LoadLocation(c.Database.Timezone); err != nil {
			add(p+"database.timezone", "unknown time zone %q: use an IANA name such as UTC or Europe/Berlin", c.Database.Timezone)
		}
	}
	if set("routes") {
		names := map[string]bool{}
		for _, ch := range c.Channels {
			names[ch.Name] = true
		}
		if err := c.Routes.Validate(names); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				add(p+"routes", "%s", line)
			}
		}
	}
}
