package discord

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/notify"
)

// exampleURL is the shape of a webhook URL, for error messages (which
// never quote the configured one: its last segment is the credential).
const exampleURL = "https://discord.com/api/webhooks/ID/TOKEN"

// Config configures one Discord channel: an incoming webhook of a text,
// announcement or forum channel (Server Settings → Integrations →
// Webhooks).
type Config struct {
	// WebhookURL is the webhook's URL. It is a secret: its last segment
	// is the webhook's token. Another host (a proxy, a test receiver) may
	// be given; Discord's own must be https://discord.com/api/webhooks/….
	WebhookURL notify.Secret `yaml:"webhook_url"`
	// Forum makes each alert a new post of the forum channel the webhook
	// belongs to, named after the alert's title (Discord's thread_name,
	// which a forum channel requires). A recovery is posted into its
	// failure's post while the daemon remembers it.
	Forum bool `yaml:"forum"`
	// ThreadID posts every alert into this existing thread (or forum
	// post) of the webhook's channel.
	ThreadID string `yaml:"thread_id"`
	// Username overrides the webhook's name for seqwatch's messages.
	Username string `yaml:"username"`
	// AllowHTTP permits plain http:// to a host that is not a loopback
	// address (a proxy on a trusted network). Discord itself is https.
	AllowHTTP bool `yaml:"allow_http"`
	// Timeout bounds each request. Zero means notify.DefaultHTTPTimeout.
	Timeout time.Duration `yaml:"timeout"`
}

var snowflake = regexp.MustCompile(`^[0-9]{15,21}$`)

// Validate checks the configuration and fills in the default Timeout.
// Each problem names its key and how to fix it; all are reported at once.
// Errors never quote the webhook URL.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	raw := c.WebhookURL.Reveal()
	if err := notify.ValidateURL(raw, c.AllowHTTP, exampleURL); err != nil {
		add("webhook_url: %v", err)
	} else if err := checkDiscordURL(raw); err != nil {
		add("webhook_url: %v", err)
	}
	if c.Forum && c.ThreadID != "" {
		add("thread_id: give forum (a new post per alert) or thread_id (every alert in one thread), not both")
	}
	if c.ThreadID != "" && !snowflake.MatchString(c.ThreadID) {
		add("thread_id: must be the thread's numeric ID (right-click the thread, Copy Thread ID), got %q", c.ThreadID)
	}
	if err := checkUsername(c.Username); err != nil {
		add("username: %v", err)
	}
	switch {
	case c.Timeout < 0:
		add("timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, notify.DefaultHTTPTimeout)
	case c.Timeout == 0:
		c.Timeout = notify.DefaultHTTPTimeout
	}
	return errors.Join(errs...)
}

// checkDiscordURL checks what Discord's own webhook URLs look like; any
// other host (a proxy, a test receiver) is taken as it is.
func checkDiscordURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // reported by ValidateURL
	}
	switch strings.ToLower(u.Hostname()) {
	case "discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com":
	default:
		return nil
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) >= 3 && parts[0] == "api" && strings.HasPrefix(parts[1], "v") && parts[2] == "webhooks" {
		parts = append(parts[:1], parts[2:]...) // /api/v10/webhooks/…
	}
	if len(parts) == 5 && (parts[4] == "slack" || parts[4] == "github") {
		return fmt.Errorf("ends in /%s, Discord's endpoint for %s-shaped payloads; remove /%s", parts[4], parts[4], parts[4])
	}
	if len(parts) != 4 || parts[0] != "api" || parts[1] != "webhooks" || !snowflake.MatchString(parts[2]) || parts[3] == "" {
		return fmt.Errorf("is not a webhook URL; copy it from the channel's Integrations → Webhooks → Copy Webhook URL (%s)", exampleURL)
	}
	return nil
}

// checkUsername applies Discord's rules for a webhook's name, which it
// otherwise answers with 400.
func checkUsername(name string) error {
	if name == "" {
		return nil
	}
	if n := utf8.RuneCountInString(name); n > 80 || strings.TrimSpace(name) == "" {
		return fmt.Errorf("must be 1 to 80 characters (got %d)", n)
	}
	lower := strings.ToLower(name)
	for _, bad := range []string{"@", "#", ":", "```", "discord", "clyde"} {
		if strings.Contains(lower, bad) {
			return fmt.Errorf("Discord refuses names containing %q; choose another", bad)
		}
	}
	if lower == "everyone" || lower == "here" {
		return fmt.Errorf("Discord refuses %q as a name; choose another", name)
	}
	return nil
}

// Channel describes the discord: channel type of seqwatch.yaml. Discord
// allows a webhook about 30 messages a minute in one channel, so that is
// its default rate.
func Channel() notify.ChannelType {
	t := notify.DefineChannel("discord", (*Config).Validate,
		func(c *Config) []string { return notify.URLSecrets(c.WebhookURL.Reveal()) },
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			var threads notify.ThreadStore
			if d.Threads != nil && c.Forum {
				threads = d.Threads(d.Name)
			}
			n, err := New(*c, d.Client, d.Now, d.Logger, threads)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
	t.RatePerSecond = 0.5
	return t
}
