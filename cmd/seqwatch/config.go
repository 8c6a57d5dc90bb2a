package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/heartbeat"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/alertmanager"
	"github.com/seqwatch/seqwatch/notify/discord"
	"github.com/seqwatch/seqwatch/notify/email"
	"github.com/seqwatch/seqwatch/notify/googlechat"
	"github.com/seqwatch/seqwatch/notify/ntfy"
	"github.com/seqwatch/seqwatch/notify/opsgenie"
	"github.com/seqwatch/seqwatch/notify/pagerduty"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/notify/teams"
	"github.com/seqwatch/seqwatch/notify/telegram"
	"github.com/seqwatch/seqwatch/notify/webhook"
)

// Config is seqwatch.yaml. The commented example at the repository root
// documents every key.
type Config struct {
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
	OnFirstRun  string        `yaml:"on_first_run"`
	State       StateConf     `yaml:"state"`
	Channels    []Channel     `yaml:"channels"`
	Routes      notify.Routes `yaml:"routes"`

	// HTTP is the listener (off unless listen is set); Heartbeat pings an
	// outside monitor after each tick (off unless set).
	HTTP      web.Config        `yaml:"http"`
	Heartbeat *heartbeat.Config `yaml:"heartbeat"`

	// MuteMax is the longest mute seqwatch mute and POST /api/v1/mutes
	// accept (default 24h); Maintenance are the recurring windows in
	// which nothing is sent (see mute.go).
	MuteMax     Duration            `yaml:"mute_max"`
	Maintenance []MaintenanceWindow `yaml:"maintenance"`

	// Concurrency is how many applications of apps: are read at once, by
	// the daemon and by check (default 8 and 4).
	Concurrency int `yaml:"concurrency"`
	// Apps are several applications watched by one daemon; without it
	// the top level names the one application (see Applications).
	Apps []AppConf `yaml:"apps"`
	// appIndex is 1 + the index in apps: of the application this
	// configuration was made for by Applications, 0 for the top level.
	appIndex int

	// secrets are the values that came from ${VAR} references and *_file
	// keys, or are typed as secrets: they are scrubbed from all output.
	secrets []string
	// lines maps a key path (thresholds.max_pending) to its YAML line.
	lines map[string]int
	path  string
	// readOnly relaxes the channels' secrets (see loadConfigForReading).
	readOnly bool
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

// Thresholds are when to warn.
type Thresholds struct {
	MaxPending       int      `yaml:"max_pending"`
	StuckAfter       Duration `yaml:"stuck_after"`
	UnreachableAfter int      `yaml:"unreachable_after"`
}

// thresholds are the configured thresholds as the rules take them: the one
// place where the YAML shape becomes check.Thresholds.
func (c *Config) thresholds() check.Thresholds {
	return check.Thresholds{
		MaxPending:       c.Thresholds.MaxPending,
		StuckAfter:       time.Duration(c.Thresholds.StuckAfter),
		UnreachableAfter: c.Thresholds.UnreachableAfter,
	}
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

// Channel is one configured alert channel: a name and exactly one of the
// channel types of channelTypes, each decoded into that type's own
// configuration (see UnmarshalYAML).
type Channel struct {
	Name string
	// RatePerSecond limits messages to this channel (Slack: 1 by default).
	RatePerSecond float64
	// given are the channel types the entry names, in the entry's order;
	// Validate insists on exactly one.
	given []channelConfig
}

// channelConfig is one channel type's key in a channel entry and its
// decoded configuration (a pointer to the type's Config).
type channelConfig struct {
	typ notify.ChannelType
	cfg any
}

// channelFields are the keys of a channel entry besides its type.
type channelFields struct {
	Name          string  `yaml:"name"`
	RatePerSecond float64 `yaml:"rate_per_second"`
}

// channelTypes lists the channel types seqwatch.yaml may name. Their order
// is the order of the old fixed fields, which configHash depends on.
func channelTypes() notify.Registry {
	return notify.Registry{slack.Channel(), email.Channel(), webhook.Channel(), notify.ConsoleChannel(), alertmanager.Channel(),
		discord.Channel(), teams.Channel(), googlechat.Channel(), ntfy.Channel(),
		telegram.Channel(), pagerduty.Channel(), opsgenie.Channel()}
}

// Config returns the configuration of the channel's type (a pointer to,
// for example, a slack.Config), or nil.
func (c Channel) Config() any {
	if len(c.given) == 0 {
		return nil
	}
	return c.given[0].cfg
}

// UnmarshalYAML decodes a channel entry strictly: its name and rate, and
// each channel type's key into the configuration that type declares. Errors
// carry the same line numbers and wording as a decode of the whole file.
func (c *Channel) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		value := ""
		if n.Kind == yaml.ScalarNode {
			value = " `" + n.Value + "`"
		}
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s%s into main.Channel", n.Line, n.ShortTag(), value)}}
	}
	types := channelTypes()
	var errs []string
	fields := &yaml.Node{Kind: yaml.MappingNode, Tag: n.Tag, Line: n.Line, Column: n.Column}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		t, ok := types.Lookup(k.Value)
		if !ok {
			fields.Content = append(fields.Content, k, v)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			errs = append(errs, fmt.Sprintf("line %d: mapping key %#v already defined at line %d", k.Line, k.Value, prev.Line))
			continue
		}
		seen[k.Value] = k
		if v.ShortTag() == "!!null" {
			continue // "slack:" with nothing under it gives no type, as before
		}
		cfg := t.NewConfig()
		if err := decodeStrict(v, cfg); err != nil {
			var te *yaml.TypeError
			if !errors.As(err, &te) {
				return err
			}
			errs = append(errs, te.Errors...)
		}
		c.given = append(c.given, channelConfig{typ: t, cfg: cfg})
	}
	var f channelFields
	if err := decodeStrict(fields, &f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return err
		}
		errs = append(errs, te.Errors...)
	}
	c.Name, c.RatePerSecond = f.Name, f.RatePerSecond
	if len(errs) > 0 {
		// Document order, as a decode of the whole entry reports them.
		sort.SliceStable(errs, func(i, j int) bool { return lineOf(errs[i]) < lineOf(errs[j]) })
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// MarshalYAML writes the entry in the layout of the old fixed struct (name,
// each of its channel types with null for those not given, a newer type
// only when given, rate_per_second), so that configHash stays the same
// across versions.
func (c Channel) MarshalYAML() (any, error) {
	out := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v any) error {
		var val yaml.Node
		if err := val.Encode(v); err != nil {
			return err
		}
		out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &val)
		return nil
	}
	if err := add("name", c.Name); err != nil {
		return nil, err
	}
	for _, t := range channelTypes() {
		var v any
		for _, g := range c.given {
			if g.typ.Key == t.Key {
				v = g.cfg
				break
			}
		}
		if v == nil && !fixedFieldType(t.Key) {
			continue
		}
		if err := add(t.Key, v); err != nil {
			return nil, err
		}
	}
	if err := add("rate_per_second", c.RatePerSecond); err != nil {
		return nil, err
	}
	return out, nil
}

// fixedFieldType reports whether key was a field of the old fixed channel
// struct, which MarshalYAML writes as null when the entry does not give
// it. A channel type registered since is written only when given, so that
// registering one changes no existing channel's configHash (which would
// re-enable a channel its peer disabled).
func fixedFieldType(key string) bool {
	switch key {
	case "slack", "email", "webhook", "console", "alertmanager":
		return true
	}
	return false
}

// unalias copies n with every alias replaced by a copy of its anchored
// node (and anchors dropped). depth stops a self-referencing alias.
func unalias(n *yaml.Node, depth int) *yaml.Node {
	if n == nil || depth > 100 {
		return n
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		c := unalias(n.Alias, depth+1)
		// Report the alias's own line, as a decode of the whole file does.
		c.Line, c.Column = n.Line, n.Column
		return c
	}
	c := *n
	c.Anchor = ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = unalias(k, depth+1)
	}
	return &c
}

// decodeStrict decodes n into out with unknown keys as errors (Node.Decode
// is never strict) and reports n's own line numbers.
func decodeStrict(n *yaml.Node, out any) error {
	// An alias may refer to an anchor outside n, which the encoder would
	// not find: decode a copy with the aliases replaced by what they name.
	doc := &yaml.Node{Kind: yaml.DocumentNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{unalias(n, 0)}}
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(doc); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return fixLines(err, doc)
	}
	return nil
}

// Duration is a time.Duration written as "30s", "15m", "1h30m".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration: write it like 30s, 15m or 1h30m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// DefaultStatePath is where the daemon keeps its state unless told.
const DefaultStatePath = "/var/lib/seqwatch/state.json"

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// LoadConfig reads and strictly decodes a seqwatch.yaml: unknown keys,
// unset ${VAR} references and unreadable *_file keys are errors that name
// the file and line.
func LoadConfig(path string) (*Config, error) {
	return loadConfig(path, false)
}

// loadConfigForReading is LoadConfig for status and check, which read the
// application but send nothing: a channel's ${VAR} or *_file secret that is
// not available (as on a monitoring host without the daemon's environment)
// is left empty instead of being an error.
func loadConfigForReading(path string) (*Config, error) {
	return loadConfig(path, true)
}

func loadConfig(path string, readOnly bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration %s: %w", path, text.PlainFSError(err))
	}
	return parseConfig(path, data, os.Getenv, readOnly)
}

// ParseConfig decodes configuration bytes; getenv resolves ${VAR}.
func ParseConfig(path string, data []byte, getenv func(string) string) (*Config, error) {
	return parseConfig(path, data, getenv, false)
}

func parseConfig(path string, data []byte, getenv func(string) string, readOnly bool) (*Config, error) {
	cfg := &Config{path: path, lines: map[string]int{}, readOnly: readOnly}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", path, yamlMessage(err))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s is empty: see seqwatch.yaml in the seqwatch repository for a commented example", path)
	}
	var problems []string
	resolve(&root, "", cfg, getenv, &problems)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s:\n  %s", path, strings.Join(problems, "\n  "))
	}
	// Strict decoding: re-encode the resolved tree so that KnownFields
	// applies (Node.Decode is never strict).
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", path, text.Redact(yamlMessage(fixLines(err, &root)), cfg.secrets...))
	}
	for _, ch := range cfg.Channels {
		for _, g := range ch.given {
			cfg.secrets = append(cfg.secrets, g.typ.Secrets(g.cfg)...)
		}
	}
	cfg.secrets = append(cfg.secrets, cfg.HTTP.Password)
	if cfg.Heartbeat != nil {
		cfg.secrets = append(cfg.secrets, cfg.Heartbeat.URL)
	}
	for _, u := range []string{cfg.Database.URL.Reveal(), cfg.State.Postgres.Reveal()} {
		cfg.secrets = append(cfg.secrets, u)
		if pw := urlPassword(u); pw != "" {
			cfg.secrets = append(cfg.secrets, pw)
		}
	}
	for _, a := range cfg.Apps {
		u := a.Database.URL.Reveal()
		cfg.secrets = append(cfg.secrets, u)
		if pw := urlPassword(u); pw != "" {
			cfg.secrets = append(cfg.secrets, pw)
		}
	}
	return cfg, nil
}

// resolve expands ${VAR} in scalars, replaces "key_file: path" with
// "key: <file contents>", and records each key's line.
func resolve(n *yaml.Node, prefix string, cfg *Config, getenv func(string) string, problems *[]string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := prefix
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", prefix, i)
				cfg.lines[p] = c.Line
			}
			resolve(c, p, cfg, getenv, problems)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := strings.TrimPrefix(prefix+"."+k.Value, ".")
			cfg.lines[path] = k.Line
			if strings.HasSuffix(k.Value, "_file") && v.Kind == yaml.ScalarNode {
				base := strings.TrimSuffix(k.Value, "_file")
				content, err := readSecretFile(expand(v.Value, getenv, nil))
				if err != nil && cfg.readOnly && daemonOnly(path) {
					content = ""
				} else if err != nil {
					*problems = append(*problems, fmt.Sprintf("line %d: %s: %v", k.Line, path, err))
					continue
				}
				k.Value, v.Value, v.Tag, v.Style = base, content, "!!str", 0
				cfg.secrets = append(cfg.secrets, content)
				cfg.lines[strings.TrimSuffix(path, "_file")] = k.Line
				continue
			}
			resolve(v, path, cfg, getenv, problems)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		var missing []string
		n.Value = expand(n.Value, getenv, &missing)
		if cfg.readOnly && daemonOnly(prefix) {
			missing = nil
		}
		for _, m := range missing {
			*problems = append(*problems, fmt.Sprintf("line %d: %s: environment variable %s is not set (export it, or put it in the systemd unit's EnvironmentFile)", n.Line, prefix, m))
		}
		if n.Tag != "!!str" {
			n.Tag = "" // let the expanded value resolve to its natural type
		}
		cfg.secrets = append(cfg.secrets, n.Value)
	}
}

// daemonOnly reports the keys only the daemon uses (a channel type's
// configuration, its HTTP listener and heartbeat), whose secrets status and
// check need not have.
func daemonOnly(path string) bool {
	if path == "state.postgres" {
		return true // status and check never need it; outbox and mute say so when it is empty
	}
	for _, p := range []string{"http.", "heartbeat."} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return inChannelType(path)
}

var channelEntry = regexp.MustCompile(`^channels\[\d+\]\.([^.\[]+)([.\[]|$)`)

// inChannelType reports whether path (channels[2].slack.token) lies in the
// configuration of a channel type the registry knows.
func inChannelType(path string) bool {
	m := channelEntry.FindStringSubmatch(path)
	if m == nil {
		return false
	}
	_, ok := channelTypes().Lookup(m[1])
	return ok
}

func expand(s string, getenv func(string) string, missing *[]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		v := getenv(name)
		if v == "" && missing != nil {
			*missing = append(*missing, name)
		}
		return v
	})
}

// readSecretFile reads a *_file value. A bare name is looked up in
// $CREDENTIALS_DIRECTORY (systemd LoadCredential=) when that is set.
func readSecretFile(p string) (string, error) {
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" && !strings.ContainsRune(p, filepath.Separator) {
		p = filepath.Join(dir, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, text.PlainFSError(err))
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", p)
	}
	return s, nil
}

var quotedValue = regexp.MustCompile("`[^`]*`")

var (
	typeName     = regexp.MustCompile(` in type [A-Za-z0-9_.*\[\]]+`)
	fieldMissing = regexp.MustCompile(`field (\S+) not found`)
	lineNumber   = regexp.MustCompile(`line (\d+)`)
)

// yamlMessage rewrites yaml.v3's messages for people: "field x not found
// in type main.Thresholds" becomes "unknown key x".
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = fieldMissing.ReplaceAllString(msg, "unknown key \"$1\" (check its spelling and indentation against the example seqwatch.yaml)")
	msg = typeName.ReplaceAllString(msg, "")
	// yaml.v3 quotes the offending value; it may be a secret written in
	// the wrong place, so say where and what type instead.
	msg = quotedValue.ReplaceAllString(msg, "(value not shown)")
	msg = strings.ReplaceAll(msg, "cannot unmarshal !!str", "cannot use the text")
	msg = strings.ReplaceAll(msg, "cannot unmarshal !!seq into", "cannot use a list as")
	msg = strings.ReplaceAll(msg, "cannot unmarshal !!map into", "cannot use a mapping as")
	return msg
}

// fixLines maps line numbers of the re-encoded document back to the
// original: both have the same keys in the same order, so the n-th key
// occurrence is the same key.
func fixLines(err error, root *yaml.Node) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var orig, re []int
	var walk func(n *yaml.Node, out *[]int)
	walk = func(n *yaml.Node, out *[]int) {
		*out = append(*out, n.Line)
		for _, c := range n.Content {
			walk(c, out)
		}
	}
	walk(root, &orig)
	var buf bytes.Buffer
	_ = yaml.NewEncoder(&buf).Encode(root)
	var again yaml.Node
	if yaml.Unmarshal(buf.Bytes(), &again) != nil {
		return err
	}
	walk(&again, &re)
	mapLine := map[int]int{}
	for i := range re {
		if i < len(orig) {
			if _, ok := mapLine[re[i]]; !ok {
				mapLine[re[i]] = orig[i]
			}
		}
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = lineNumber.ReplaceAllStringFunc(m, func(s string) string {
			var n int
			fmt.Sscanf(s, "line %d", &n)
			if o, ok := mapLine[n]; ok {
				return fmt.Sprintf("line %d", o)
			}
			return s
		})
	}
	return &yaml.TypeError{Errors: msgs}
}

// Validate checks the configuration's meaning (Load checked its shape) and
// returns every problem, each naming the key, its line and the fix.
func (c *Config) Validate() []string {
	var p []string
	add := func(key, format string, args ...any) {
		line := ""
		if l, ok := c.lines[key]; ok {
			line = fmt.Sprintf("line %d: ", l)
		}
		p = append(p, line+key+": "+fmt.Sprintf(format, args...))
	}
	if c.multiApp() {
		c.validateApps(add)
		for _, ac := range c.Applications() {
			ac.validateOverrides(add)
		}
	} else if c.App == "" && c.Database.URL == "" {
		add("app", "set app (the Laravel application root) or database.url, or list several applications under apps")
	}
	if c.State.LeaseTTL > 0 {
		// The sender renews its lease once a tick: a lease shorter than a
		// tick and its deadline would pass to a standby at every tick.
		for _, ac := range c.Applications() {
			sched, err := parseSchedule(scheduleOf(ac))
			if err != nil {
				continue // reported on its own
			}
			timeout, _ := tickTimeoutOf(ac)
			if need := scheduleInterval(sched) + timeout; time.Duration(c.State.LeaseTTL) <= need {
				add("state.lease", "must be longer than a tick and its deadline (%s for %q), or the sender would change at every tick (got %s)",
					need, ac.appName(), time.Duration(c.State.LeaseTTL))
				break
			}
		}
	}
	if c.Concurrency < 0 {
		add("concurrency", "must be 1 or more, or 0 for the default (got %d)", c.Concurrency)
	}
	if c.Thresholds.MaxPending < 0 {
		add("thresholds.max_pending", "must be 0 (off) or more (got %d)", c.Thresholds.MaxPending)
	}
	if c.Thresholds.UnreachableAfter < 0 {
		add("thresholds.unreachable_after", "must be 1 or more (got %d)", c.Thresholds.UnreachableAfter)
	}
	switch c.OnFirstRun {
	case "", "digest", "silent":
	default:
		add("on_first_run", "must be digest or silent (got %q)", c.OnFirstRun)
	}
	if c.Schedule != "" {
		if _, err := parseSchedule(c.Schedule); err != nil {
			add("schedule", "%v: use @every 1m, @hourly or a 5-field cron expression such as */5 * * * *", err)
		}
	}
	if c.Reconcile < 0 {
		add("reconcile", "must not be negative (got %s)", time.Duration(c.Reconcile))
	}
	if c.TickTimeout > 0 && c.Schedule != "" {
		if sched, err := parseSchedule(c.Schedule); err == nil {
			if iv := scheduleInterval(sched); time.Duration(c.TickTimeout) >= iv {
				add("tick_timeout", "must be shorter than the schedule's interval (%s for %q), or ticks would always overlap (got %s)",
					iv, c.Schedule, time.Duration(c.TickTimeout))
			}
		}
	}
	if c.Database.Timezone != "" {
		if _, err := time.LoadLocation(c.Database.Timezone); err != nil {
			add("database.timezone", "unknown time zone %q: use an IANA name such as UTC or Europe/Berlin", c.Database.Timezone)
		}
	}
	names := map[string]bool{}
	for i, ch := range c.Channels {
		key := fmt.Sprintf("channels[%d]", i)
		if ch.Name == "" {
			add(key+".name", "every channel needs a name (routes refer to it)")
		} else if names[ch.Name] {
			add(key+".name", "channel name %q is used twice", ch.Name)
		}
		names[ch.Name] = true
		if set := len(ch.given); set != 1 {
			add(key, "give exactly one of %s (got %d)", channelTypes().Choices(), set)
			continue
		}
		if err := ch.given[0].typ.Validate(ch.given[0].cfg); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				add(key, "%s", text.Redact(line, c.secrets...))
			}
		}
	}
	if err := c.HTTP.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			key, msg, _ := strings.Cut(line, ": ")
			add(key, "%s", msg)
		}
	}
	if c.Heartbeat != nil {
		if err := c.Heartbeat.Validate(); err != nil {
			key, msg, _ := strings.Cut(err.Error(), ": ")
			add(key, "%s", msg)
		}
	}
	p = append(p, c.validateMutes()...)
	if len(c.Routes) > 0 {
		if err := c.Routes.Validate(names); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				add("routes", "%s", line)
			}
		}
	}
	sort.SliceStable(p, func(i, j int) bool { return lineOf(p[i]) < lineOf(p[j]) })
	return p
}

func lineOf(s string) int {
	var n int
	fmt.Sscanf(s, "line %d:", &n)
	return n
}

// Settings turns the configuration into laravel.Settings; relative paths are
// taken from the configuration file's directory.
func (c *Config) Settings() laravel.Settings {
	base := filepath.Dir(c.path)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	s := laravel.Settings{
		AppDir: abs(c.App), URL: c.Database.URL.Reveal(), Timezone: c.Database.Timezone,
		Tables: c.Tables, Name: c.Name, Environment: c.Environment,
	}
	// Discovery paths are relative to the application root (as in
	// Sequencer's config); laravel.Resolve joins them.
	s.OperationPaths = c.Paths.Operations
	s.MigrationPaths = c.Paths.Migrations
	return s
}

// configHash identifies the channel's configuration, secrets included, so
// that a channel disabled by its peer (410 Gone) stays disabled across
// restarts until its configuration changes. Only the hash is stored.
func (c Channel) configHash() string {
	data, err := yaml.Marshal(c)
	if err != nil {
		data = []byte(fmt.Sprintf("%#v", c))
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:16])
}

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
