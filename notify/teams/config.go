package teams

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// exampleURL is the shape of a Workflows webhook URL, for error messages
// (which never quote the configured one: its sig is the credential).
const exampleURL = "https://….logic.azure.com/workflows/…/triggers/manual/paths/invoke?…&sig=…"

// Config configures one Microsoft Teams channel: a Workflows (Power
// Automate) webhook that posts to a channel or chat, made from the
// template "Post to a channel when a webhook request is received".
type Config struct {
	// WebhookURL is the workflow's HTTP POST URL. It is a secret: its sig
	// parameter is the credential.
	WebhookURL notify.Secret `yaml:"webhook_url"`
	// AllowHTTP permits plain http:// to a host that is not a loopback
	// address (a proxy on a trusted network). Microsoft's hosts are https.
	AllowHTTP bool `yaml:"allow_http"`
	// Timeout bounds each request. Zero means notify.DefaultHTTPTimeout.
	Timeout time.Duration `yaml:"timeout"`
}

// howToMake says how to get a URL that works.
const howToMake = "in Teams, open the channel's ••• menu → Workflows → \"Post to a channel when a webhook request is received\", and paste the URL the workflow shows"

// Validate checks the configuration and fills in the default Timeout.
// Each problem names its key and how to fix it; all are reported at once.
// Errors never quote the webhook URL.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	raw := c.WebhookURL.Reveal()
	switch err := notify.ValidateURL(raw, c.AllowHTTP, exampleURL); {
	case err != nil && strings.TrimSpace(raw) == "":
		add("webhook_url: %v (%s)", err, howToMake)
	case err != nil:
		add("webhook_url: %v", err)
	case retiredConnector(raw):
		add("webhook_url: is an Office 365 connector URL (webhook.office.com), which Microsoft has retired; make a Workflows webhook instead: %s", howToMake)
	}
	switch {
	case c.Timeout < 0:
		add("timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, notify.DefaultHTTPTimeout)
	case c.Timeout == 0:
		c.Timeout = notify.DefaultHTTPTimeout
	}
	return errors.Join(errs...)
}

// retiredConnector reports an incoming-webhook URL of the Office 365
// connectors: <tenant>.webhook.office.com/webhookb2/… and the older
// outlook.office.com/webhook/….
func retiredConnector(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "webhook.office.com" || strings.HasSuffix(host, ".webhook.office.com") {
		return true
	}
	return (host == "outlook.office.com" || host == "outlook.office365.com") && strings.HasPrefix(strings.ToLower(u.Path), "/webhook")
}

// Channel describes the teams: channel type of seqwatch.yaml, at one
// message a second.
func Channel() notify.ChannelType {
	t := notify.DefineChannel("teams", (*Config).Validate,
		func(c *Config) []string { return notify.URLSecrets(c.WebhookURL.Reveal()) },
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			n, err := New(*c, d.Client, d.Now, d.Logger)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
	t.RatePerSecond = 1
	return t
}
