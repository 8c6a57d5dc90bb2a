package googlechat

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// exampleURL is the shape of an incoming webhook URL, for error messages
// (which never quote the configured one: its key and token are the
// credential).
const exampleURL = "https://chat.googleapis.com/v1/spaces/SPACE/messages?key=…&token=…"

// Config configures one Google Chat channel: an incoming webhook of a
// space (the space's name → Apps & integrations → Webhooks).
type Config struct {
	// WebhookURL is the webhook's URL. It is a secret: its key and token
	// parameters are the credential.
	WebhookURL notify.Secret `yaml:"webhook_url"`
	// AllowHTTP permits plain http:// to a host that is not a loopback
	// address (a proxy on a trusted network). Google's host is https.
	AllowHTTP bool `yaml:"allow_http"`
	// Timeout bounds each request. Zero means notify.DefaultHTTPTimeout.
	Timeout time.Duration `yaml:"timeout"`
}

var spaceMessages = regexp.MustCompile(`^/v1/spaces/[^/]+/messages$`)

// Validate checks the configuration and fills in the default Timeout.
// Each problem names its key and how to fix it; all are reported at once.
// Errors never quote the webhook URL.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	raw := c.WebhookURL.Reveal()
	if err := notify.ValidateURL(raw, c.AllowHTTP, exampleURL); err != nil {
		add("webhook_url: %v", err)
	} else if err := checkGoogleURL(raw); err != nil {
		add("webhook_url: %v", err)
	}
	switch {
	case c.Timeout < 0:
		add("timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, notify.DefaultHTTPTimeout)
	case c.Timeout == 0:
		c.Timeout = notify.DefaultHTTPTimeout
	}
	return errors.Join(errs...)
}

// checkGoogleURL checks what Google's own webhook URLs look like, and what
// seqwatch sets itself; another host (a proxy, a test receiver) is taken
// as it is otherwise.
func checkGoogleURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // reported by ValidateURL
	}
	q := u.Query()
	for _, own := range []string{"threadKey", "messageReplyOption", "requestId"} {
		if q.Has(own) {
			return fmt.Errorf("carries %s, which seqwatch sets itself (one thread per problem); remove it from the URL", own)
		}
	}
	if !strings.EqualFold(u.Hostname(), "chat.googleapis.com") {
		return nil
	}
	if !spaceMessages.MatchString(u.Path) || q.Get("key") == "" || q.Get("token") == "" {
		return fmt.Errorf("is not an incoming webhook URL; copy it whole from the space's Apps & integrations → Webhooks (%s)", exampleURL)
	}
	return nil
}

// Channel describes the googlechat: channel type of seqwatch.yaml. Google
// Chat takes about one message a second in a space, so that is its
// default rate.
func Channel() notify.ChannelType {
	t := notify.DefineChannel("googlechat", (*Config).Validate,
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
