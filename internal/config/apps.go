package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/schedule"
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

// App is one application of a configuration, as the commands and the
// daemon take it: the keys that may differ between applications, with
// the top level's filled in where an entry of apps: leaves them out. What
// all applications share (channels, the listener, maintenance windows,
// the secrets) is its File's.
type App struct {
	AppKeys
	// State is state: with the application's own state file in Path.
	State StateConf

	file *Config
	// index is 1 + the application's index in apps:, 0 for the top level.
	index int
}

// Applications returns one App per application, each complete (the top
// level's defaults filled in). A configuration without apps: is one
// application: its top level.
func (c *Config) Applications() []*App {
	if !c.HasApps() {
		return []*App{c.TopLevel()}
	}
	out := make([]*App, 0, len(c.Apps))
	for i, a := range c.Apps {
		out = append(out, c.application(i, a))
	}
	return out
}

// TopLevel is the top level of the file as an application: the only one
// of a configuration without apps:, the defaults of one with apps:.
func (c *Config) TopLevel() *App {
	return &App{AppKeys: c.AppKeys, State: c.State, file: c}
}

// application is the top level with apps[i]'s keys in place of its own.
func (c *Config) application(i int, a AppConf) *App {
	ac := c.TopLevel()
	ac.index = i + 1
	ac.App, ac.Name, ac.Database, ac.Paths = a.App, a.Name, a.Database, a.Paths
	if a.Environment != nil {
		ac.Environment = *a.Environment
	}
	if a.Tables != nil {
		ac.Tables = *a.Tables
	}
	ac.Thresholds = ac.Thresholds.override(a.Thresholds)
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
	return ac
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

// Application picks the application called name; with name empty, the
// only application. The error names the choices.
func (c *Config) Application(name string) (*App, error) {
	apps := c.Applications()
	if name == "" {
		if len(apps) == 1 {
			return apps[0], nil
		}
		return nil, fmt.Errorf("%s has %d applications (%s): pick one with --name", c.path, len(apps), strings.Join(appNames(apps), ", "))
	}
	for _, a := range apps {
		if a.DisplayName() == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%s has no application named %q (it has %s)", c.path, name, strings.Join(appNames(apps), ", "))
}

func appNames(apps []*App) []string {
	out := make([]string, 0, len(apps))
	for _, a := range apps {
		out = append(out, fmt.Sprintf("%q", a.DisplayName()))
	}
	return out
}

// File is the configuration the application belongs to: what all its
// applications share.
func (a *App) File() *Config { return a.file }

// Channels are the configured channels (shared by every application).
func (a *App) Channels() []Channel { return a.file.Channels }

// InList reports whether the application is an entry of apps: rather
// than the top level of its file.
func (a *App) InList() bool { return a.index > 0 }

// DisplayName is the name the application goes by (name:, else what
// laravel.Resolve makes of the application: its directory's name or its
// database's), as --name matches it.
func (a *App) DisplayName() string {
	if a.Name != "" {
		return a.Name
	}
	if src, err := laravel.Resolve(a.Settings()); err == nil {
		return src.Name
	}
	return ""
}

// keyPrefix is how this application's own keys are named in messages:
// "apps[2]." for an application of several, "" otherwise.
func (a *App) keyPrefix() string {
	if a.index == 0 {
		return ""
	}
	return fmt.Sprintf("apps[%d].", a.index-1)
}

// Settings turns the application into laravel.Settings; relative paths
// are taken from the configuration file's directory.
func (a *App) Settings() laravel.Settings {
	base := filepath.Dir(a.file.path)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	s := laravel.Settings{
		AppDir: abs(a.App), URL: a.Database.URL.Reveal(), Timezone: a.Database.Timezone,
		Tables: a.Tables, Name: a.Name, Environment: a.Environment,
	}
	// Discovery paths are relative to the application root (as in
	// Sequencer's config); laravel.Resolve joins them.
	s.OperationPaths = a.Paths.Operations
	s.MigrationPaths = a.Paths.Migrations
	return s
}

// sourceIdentity says what an application reads: the app directory, the
// database URL, the discovery paths and the tables. Two entries with the
// same identity would alert twice about everything.
func (a *App) sourceIdentity() string {
	s := a.Settings()
	ops := slices.Clone(s.OperationPaths)
	migs := slices.Clone(s.MigrationPaths)
	slices.Sort(ops)
	slices.Sort(migs)
	return strings.Join([]string{filepath.Clean(s.AppDir + "/."), s.URL, strings.Join(ops, ","), strings.Join(migs, ","),
		s.Tables.Operations, s.Tables.Errors, s.Tables.Deferred, s.Tables.Migrations}, "\x00")
}

// DefaultSchedule is the schedule when none is configured.
const DefaultSchedule = "@every 1m"

// ScheduleSpec is schedule:, or DefaultSchedule.
func (a *App) ScheduleSpec() string {
	if a.Schedule == "" {
		return DefaultSchedule
	}
	return a.Schedule
}

// ParsedSchedule is the application's schedule, parsed.
func (a *App) ParsedSchedule() (cron.Schedule, error) {
	sched, err := schedule.Parse(a.ScheduleSpec())
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", a.Schedule, err)
	}
	return sched, nil
}

// TickDeadline is tick_timeout, or by default half the schedule's
// interval, at most schedule.DefaultTickTimeout: well under the interval,
// so that a tick stuck on a lock ends, and counts as a failed read, before
// the next one is due.
func (a *App) TickDeadline() (time.Duration, error) {
	if a.TickTimeout > 0 {
		return time.Duration(a.TickTimeout), nil
	}
	sched, err := a.ParsedSchedule()
	if err != nil {
		return 0, err
	}
	return min(schedule.Interval(sched)/2, schedule.DefaultTickTimeout), nil
}

// StateFile is the application's state file: state.path (or the entry's
// state_path), else its default.
func (a *App) StateFile() string {
	if a.State.Path != "" {
		return a.State.Path
	}
	return DefaultStatePath
}
