package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"

	"gopkg.in/yaml.v3"

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

// ChannelTypes lists the channel types seqwatch.yaml may name: the one
// list a new channel is added to. Their order begins with the old fixed
// fields, which Channel.ConfigHash depends on: add new types at the end.
func ChannelTypes() notify.Registry {
	return notify.Registry{slack.Channel(), email.Channel(), webhook.Channel(), notify.ConsoleChannel(), alertmanager.Channel(),
		discord.Channel(), teams.Channel(), googlechat.Channel(), ntfy.Channel(),
		telegram.Channel(), pagerduty.Channel(), opsgenie.Channel()}
}

// Channel is one configured alert channel: a name and exactly one of the
// channel types of ChannelTypes, each decoded into that type's own
// configuration (see UnmarshalYAML).
type Channel struct {
	Name string
	// RatePerSecond limits messages to this channel (Slack: 1 by default).
	RatePerSecond float64
	// Templates word the channel's messages, by event kind (see
	// notify.ParseTemplates); Validate parses them.
	Templates notify.TemplateSources
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
	Name          string                 `yaml:"name"`
	RatePerSecond float64                `yaml:"rate_per_second"`
	Templates     notify.TemplateSources `yaml:"templates"`
}

// Type is the channel's type; ok is false for an entry that names none
// (Validate reports it).
func (c Channel) Type() (t notify.ChannelType, ok bool) {
	if len(c.given) == 0 {
		return notify.ChannelType{}, false
	}
	return c.given[0].typ, true
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
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s%s into config.Channel", n.Line, n.ShortTag(), value)}}
	}
	types := ChannelTypes()
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
	c.Name, c.RatePerSecond, c.Templates = f.Name, f.RatePerSecond, f.Templates
	if len(errs) > 0 {
		// Document order, as a decode of the whole entry reports them.
		sort.SliceStable(errs, func(i, j int) bool { return lineOf(errs[i]) < lineOf(errs[j]) })
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// MarshalYAML writes the entry in the layout of the old fixed struct (name,
// each of its channel types with null for those not given, a newer type
// only when given, rate_per_second), so that ConfigHash stays the same
// across versions. The templates are left out: rewording a channel's
// messages changes nothing about the endpoint that disabled it.
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
	for _, t := range ChannelTypes() {
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
// registering one changes no existing channel's ConfigHash (which would
// re-enable a channel its peer disabled).
func fixedFieldType(key string) bool {
	switch key {
	case "slack", "email", "webhook", "console", "alertmanager":
		return true
	}
	return false
}

// ParseTemplates parses the channel's templates for the parts its type
// takes, with pageURL as .PageURL and logger told when one fails at send
// time. It returns nil and no problem when the entry has none.
func (c Channel) ParseTemplates(pageURL string, logger *slog.Logger) (*notify.Templates, []*notify.TemplateError) {
	t, _ := c.Type()
	return notify.ParseTemplates(c.Templates, notify.TemplateOptions{PageURL: pageURL, Parts: t.TemplateParts, Logger: logger})
}

// ConfigHash identifies the channel's configuration, secrets included, so
// that a channel disabled by its peer (410 Gone) stays disabled across
// restarts until its configuration changes. Only the hash is stored.
func (c Channel) ConfigHash() string {
	data, err := yaml.Marshal(c)
	if err != nil {
		data = []byte(fmt.Sprintf("%#v", c))
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:16])
}

var channelEntry = regexp.MustCompile(`^channels\[\d+\]\.([^.\[]+)([.\[]|$)`)

// inChannelType reports whether path (channels[2].slack.token) lies in the
// configuration of a channel type the registry knows.
func inChannelType(path string) bool {
	m := channelEntry.FindStringSubmatch(path)
	if m == nil {
		return false
	}
	_, ok := ChannelTypes().Lookup(m[1])
	return ok
}
