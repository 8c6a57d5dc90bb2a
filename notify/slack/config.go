package slack

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// DefaultTimeout bounds one request to Slack when the configuration sets
// none.
const DefaultTimeout = 10 * time.Second

// Config is the Slack channel's configuration. Set either WebhookURL (an
// incoming webhook) or Token and Channel (a bot posting with
// chat.postMessage). Only the bot can thread stack traces under the alert
// and update the alert when the problem recovers: an incoming webhook
// returns no message timestamp to refer to.
type Config struct {
	// WebhookURL is an incoming webhook URL
	// (https://hooks.slack.com/services/...). It is a secret.
	WebhookURL notify.Secret `yaml:"webhook_url"`
	// Token is a bot token (xoxb-...) with the chat:write scope.
	Token notify.Secret `yaml:"token"`
	// Channel is the channel the bot posts to: an ID (C0123456789,
	// preferred) or a name (#alerts). Required with Token.
	Channel string `yaml:"channel"`
	// Username and IconEmoji override the sender's name and icon; a bot
	// needs the chat:write.customize scope for them to take effect.
	Username  string `yaml:"username"`
	IconEmoji string `yaml:"icon_emoji"`
	// Timeout bounds each request, as a Go duration ("10s"). Zero means
	// DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// APIURL overrides the Slack Web API base URL
	// (https://slack.com/api/) for tests and proxies. Bot mode only.
	APIURL string `yaml:"api_url"`
}

var emojiName = regexp.MustCompile(`^:[a-z0-9_+'-]+:$`)

// Validate reports the first problem with the configuration, naming the key
// and what to do about it. It never prints a secret's value.
func (c *Config) Validate() error {
	hasWebhook, hasToken := c.WebhookURL != "", c.Token != ""
	switch {
	case hasWebhook && hasToken:
		return errors.New("slack: webhook_url and token are both set: keep one (webhook_url for an incoming webhook, token + channel for a bot)")
	case !hasWebhook && !hasToken:
		return errors.New("slack: set webhook_url (an incoming webhook) or token and channel (a bot with chat:write)")
	}
	if hasWebhook {
		if err := validateWebhookURL(c.WebhookURL.Reveal()); err != nil {
			return err
		}
		if c.Channel != "" {
			return fmt.Errorf("slack.channel: only used with token; an incoming webhook always posts to the channel it was created for: remove channel (got %q)", c.Channel)
		}
		if c.APIURL != "" {
			return errors.New("slack.api_url: only used with token; an incoming webhook is called at webhook_url: remove api_url")
		}
	}
	if hasToken {
		tok := c.Token.Reveal()
		if !strings.HasPrefix(tok, "xox") || strings.ContainsAny(tok, " \t\r\n") {
			return errors.New("slack.token: not a Slack token: use the bot token (xoxb-...) from the app's OAuth & Permissions page")
		}
		if strings.TrimSpace(c.Channel) == "" {
			return errors.New("slack.channel: required with token: set a channel ID (C0123456789) or name (#alerts) the bot is a member of")
		}
		if c.APIURL != "" {
			u, err := url.Parse(c.APIURL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("slack.api_url: must be an absolute http(s) URL such as https://slack.com/api/ (got %q)", c.APIURL)
			}
			if u.User != nil || u.RawQuery != "" {
				return fmt.Errorf("slack.api_url: must not carry credentials or a query (got scheme %q, host %q)", u.Scheme, u.Host)
			}
		}
	}
	if c.IconEmoji != "" && !emojiName.MatchString(c.IconEmoji) {
		return fmt.Errorf("slack.icon_emoji: must be an emoji name between colons such as :rotating_light: (got %q)", c.IconEmoji)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("slack.timeout: must be positive (got %s)", c.Timeout)
	}
	return nil
}

// validateWebhookURL checks the webhook URL with the rules every channel's
// endpoint keeps (notify.ValidateURL), which never quote it: the whole URL
// is the credential. Slack's own rule comes first: it has no allow_http,
// so plain http goes only to this host (tests, a local TLS-terminating
// proxy); anywhere else it would send the secret in clear text.
func validateWebhookURL(raw string) error {
	if u, err := url.Parse(raw); err == nil && u.Scheme == "http" && !text.IsLoopback(u.Hostname()) {
		return fmt.Errorf("slack.webhook_url: must be an https URL (got scheme %q for a non-local host)", u.Scheme)
	}
	if err := notify.ValidateURL(raw, true, "https://hooks.slack.com/services/..."); err != nil {
		return fmt.Errorf("slack.webhook_url: %w", err)
	}
	return nil
}

// withDefaults returns a copy with defaults filled in.
func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.APIURL != "" && !strings.HasSuffix(c.APIURL, "/") {
		// slack-go appends the method name ("chat.postMessage") directly.
		c.APIURL += "/"
	}
	return c
}

// Channel describes the slack: channel type of seqwatch.yaml. Slack allows
// about one message a second per webhook, so that is its default rate.
func Channel() notify.ChannelType {
	t := notify.DefineChannel("slack", (*Config).Validate,
		func(c *Config) []string { return []string{c.WebhookURL.Reveal(), c.Token.Reveal()} },
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			opts := []Option{WithClock(d.Now)}
			if d.Threads != nil {
				opts = append(opts, WithThreadStore(d.Threads(d.Name)))
			}
			n, err := New(*c, d.Client, d.Logger, opts...)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
	t.RatePerSecond = 1
	return t
}
