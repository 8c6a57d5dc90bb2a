package config

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/seqwatch/seqwatch/internal/heartbeat"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/notify"
)

// Config is seqwatch.yaml. The commented example at the repository root
// documents every key.
type Config struct {
	// AppKeys are the application's keys at the top level: the one
	// application of a file without apps:, the defaults of those in it.
	AppKeys `yaml:",inline"`

	OnFirstRun string    `yaml:"on_first_run"`
	State      StateConf `yaml:"state"`
	Channels   []Channel `yaml:"channels"`

	// HTTP is the listener (off unless listen is set); Heartbeat pings an
	// outside monitor after each tick (off unless set).
	HTTP      web.Config        `yaml:"http"`
	Heartbeat *heartbeat.Config `yaml:"heartbeat"`

	// MuteMax is the longest mute seqwatch mute and POST /api/v1/mutes
	// accept (default 24h); Maintenance are the recurring windows in
	// which nothing is sent (see windows.go).
	MuteMax     Duration            `yaml:"mute_max"`
	Maintenance []MaintenanceWindow `yaml:"maintenance"`

	// Concurrency is how many applications of apps: are read at once, by
	// the daemon and by check (default 8 and 4).
	Concurrency int `yaml:"concurrency"`
	// Apps are several applications watched by one daemon; without it
	// the top level names the one application (see Applications).
	Apps []AppConf `yaml:"apps"`

	// secrets are the values that came from ${VAR} references and *_file
	// keys, or are typed as secrets: they are scrubbed from all output.
	secrets []string
	// lines maps a key path (thresholds.max_pending) to its YAML line.
	lines map[string]int
	path  string
}

// AppKeys are the keys that say which application to watch and how; an
// entry of apps: may give each of them (AppConf) in place of the top
// level's.
type AppKeys struct {
	App         string         `yaml:"app"`
	Name        string         `yaml:"name"`
	Environment string         `yaml:"environment"`
	Database    DatabaseConf   `yaml:"database"`
	Paths       PathsConf      `yaml:"paths"`
	Tables      laravel.Tables `yaml:"tables"`
	Thresholds  Thresholds     `yaml:"thresholds"`
	Schedule    string         `yaml:"schedule"`
	TickTimeout Duration       `yaml:"tick_timeout"`
	// Reconcile is how often the daemon reads the whole application
	// again instead of only what changed since its watermark (default 1h).
	Reconcile   Duration      `yaml:"reconcile"`
	RepeatAfter Duration      `yaml:"repeat_after"`
	Routes      notify.Routes `yaml:"routes"`
}

// DatabaseConf overrides the application's .env.
type DatabaseConf struct {
	URL      notify.Secret `yaml:"url"`
	Timezone string        `yaml:"timezone"`
}

// PathsConf overrides the discovery paths.
type PathsConf struct {
	Operations []string `yaml:"operations"`
	Migrations []string `yaml:"migrations"`
}

// StateConf is where the daemon keeps what it reported.
type StateConf struct {
	Path string `yaml:"path"`
	// SeenRetention forgets a reported row this long after it was last
	// seen (default 7 days; the keys of open problems are always kept).
	SeenRetention Duration `yaml:"seen_retention"`
	// Postgres keeps the state of every application in a PostgreSQL
	// database shared by several seqwatch instances, of which one at a
	// time sends (see internal/pgstate). Empty: a state file.
	Postgres notify.Secret `yaml:"postgres"`
	// LeaseTTL is how long a shared state's lease lasts without renewal
	// (default: three of the schedule's intervals, at least a minute).
	LeaseTTL Duration `yaml:"lease"`
}

// DefaultStatePath is where the daemon keeps its state unless told.
const DefaultStatePath = "/var/lib/seqwatch/state.json"

// Duration is a time.Duration written as "30s", "15m", "1h30m".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil || v < 0 {
		// A TypeError, so that decoding goes on and reports the other
		// problems too.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration: write it like 30s, 15m or 1h30m", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// Path is the file the configuration was read from.
func (c *Config) Path() string { return c.path }

// Secrets are the configuration's secret values (from ${VAR} references,
// *_file keys, and keys typed as secrets), to be scrubbed from every
// message and log line.
func (c *Config) Secrets() []string { return c.secrets }

// IsSet reports whether the file sets the key (a path such as
// state.postgres or apps[1].schedule), even to an empty value.
func (c *Config) IsSet(key string) bool {
	_, ok := c.lines[key]
	return ok
}

// HasApps reports whether the configuration lists its applications under
// apps:.
func (c *Config) HasApps() bool { return len(c.Apps) > 0 }

// urlPassword is the password of a database URL, a secret of its own.
func urlPassword(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	userinfo, _, ok := strings.Cut(rest, "@")
	if !ok {
		return ""
	}
	_, pw, _ := strings.Cut(userinfo, ":")
	return pw
}
