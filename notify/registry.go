package notify

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// ThreadStore remembers which message reported a problem, so that the
// recovery can update that message instead of posting a new one. The
// daemon keeps it in its state file; it must be safe for concurrent use if
// the Notifier is. Keys are Event.Key.
type ThreadStore interface {
	// Thread returns the channel ID and message timestamp recorded for
	// key.
	Thread(key string) (channel, ts string, ok bool)
	// SetThread records the message that reported key.
	SetThread(key, channel, ts string)
}

// Deps are what a channel's constructor may use besides its configuration.
// Every channel type gets the same Deps and takes what it needs.
type Deps struct {
	// Name is the channel's name in seqwatch.yaml.
	Name string
	// Client sends HTTP requests (nil: the channel makes its own).
	Client *http.Client
	// Now is the clock.
	Now func() time.Time
	// Logger receives the channel's log lines.
	Logger *slog.Logger
	// Stdout is where the console channel writes.
	Stdout io.Writer
	// Threads returns the store of a channel's message threads; nil when
	// nothing is kept (the notify command).
	Threads func(channel string) ThreadStore
	// EndsAfter is how long an alert stays firing after its last post when
	// the channel's configuration does not say (Alertmanager's endsAt):
	// the daemon derives it from its schedule.
	EndsAfter time.Duration
	// Templates are the channel's message templates (nil: the channel's
	// own words); see ParseTemplates.
	Templates *Templates
}

// ChannelType describes one kind of channel in one place: the key that
// selects it in a channel entry of seqwatch.yaml, its configuration type,
// how to validate it, which of its values are secrets, and how to build
// it. Each channel package returns its ChannelType from a function; the
// command lists them in a Registry.
type ChannelType struct {
	// Key is the YAML key of the channel's configuration (slack, email).
	Key string
	// NewConfig returns a pointer to a zero configuration to decode into.
	NewConfig func() any
	// Validate checks a decoded configuration (it may fill in defaults).
	Validate func(cfg any) error
	// Secrets returns the configuration's secret values, to be scrubbed
	// from every message.
	Secrets func(cfg any) []string
	// New builds the Notifier.
	New func(cfg any, deps Deps) (Notifier, error)
	// RatePerSecond is the channel's default message rate (0: unlimited).
	RatePerSecond float64
	// TemplateParts are the parts of a message its templates may write
	// (nil: title and body; empty: none).
	TemplateParts []string
}

// DefineChannel builds a ChannelType for configuration type C, so that each
// channel package states its functions in terms of *C. validate and secrets
// may be nil.
func DefineChannel[C any](key string, validate func(*C) error, secrets func(*C) []string, build func(*C, Deps) (Notifier, error)) ChannelType {
	typed := func(cfg any) *C {
		c, ok := cfg.(*C)
		if !ok {
			// A programming error in the caller, not a configuration
			// problem; New reports it as an error below.
			return nil
		}
		return c
	}
	return ChannelType{
		Key:       key,
		NewConfig: func() any { return new(C) },
		Validate: func(cfg any) error {
			c := typed(cfg)
			if c == nil {
				return fmt.Errorf("%s: configuration of type %T", key, cfg)
			}
			if validate == nil {
				return nil
			}
			return validate(c)
		},
		Secrets: func(cfg any) []string {
			c := typed(cfg)
			if c == nil || secrets == nil {
				return nil
			}
			return secrets(c)
		},
		New: func(cfg any, deps Deps) (Notifier, error) {
			c := typed(cfg)
			if c == nil {
				return nil, fmt.Errorf("%s: configuration of type %T", key, cfg)
			}
			return build(c, deps)
		},
	}
}

// Registry lists the channel types a program knows, in the order they are
// named to people.
type Registry []ChannelType

// Lookup returns the channel type with the YAML key.
func (r Registry) Lookup(key string) (ChannelType, bool) {
	for _, t := range r {
		if t.Key == key {
			return t, true
		}
	}
	return ChannelType{}, false
}

// Choices names the keys for a message: "a:, b: or c:".
func (r Registry) Choices() string {
	keys := make([]string, len(r))
	for i, t := range r {
		keys[i] = t.Key + ":"
	}
	if len(keys) < 2 {
		return strings.Join(keys, "")
	}
	return strings.Join(keys[:len(keys)-1], ", ") + " or " + keys[len(keys)-1]
}

// ConsoleChannel is the console channel: it writes every event as text to
// Deps.Stdout and has no configuration (console: {}).
func ConsoleChannel() ChannelType {
	return DefineChannel("console", nil, nil, func(_ *struct{}, d Deps) (Notifier, error) {
		c := NewConsole(d.Stdout)
		c.templates = d.Templates
		return c, nil
	})
}
