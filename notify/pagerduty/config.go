package pagerduty

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// DefaultAPIURL is the Events API's base URL. EU accounts may use
// https://events.eu.pagerduty.com.
const DefaultAPIURL = "https://events.pagerduty.com"

// EnqueuePath is where alert events are posted, below the base URL.
const EnqueuePath = "/v2/enqueue"

// The Events API's documented rate: about 120 events a minute per routing
// key, counted over the last 60 seconds. A bucket of pacerBurst refilled at
// pacerRate a second lets at most pacerBurst + 60*pacerRate = 120 events
// into any minute, and lets `seqwatch notify test` (a trigger and its
// resolve) go without waiting.
const (
	pacerRate  = 1.9
	pacerBurst = 6
)

// routingKeyLen is the length of an Events API v2 integration key.
const routingKeyLen = 32

// Config configures one PagerDuty channel: an Events API v2 integration
// (on a service, or a global or event-orchestration ruleset).
type Config struct {
	// RoutingKey is the integration key (32 characters) of an Events API
	// v2 integration. It is a secret: give it as ${VAR} or routing_key_file.
	RoutingKey notify.Secret `yaml:"routing_key"`
	// APIURL is the Events API's base URL (default DefaultAPIURL); events
	// go to APIURL + /v2/enqueue. Set it for the EU service
	// (https://events.eu.pagerduty.com), a proxy or a test receiver.
	APIURL string `yaml:"api_url"`
	// AllowHTTP permits a plain http:// api_url to a host that is not a
	// loopback address (a proxy on a trusted network).
	AllowHTTP bool `yaml:"allow_http"`
	// Timeout bounds each request (default notify.DefaultHTTPTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem with the configuration, each naming its
// key and what to do, and fills in the defaults. It never prints the
// routing key.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	key := c.RoutingKey.Reveal()
	switch {
	case key == "":
		add("pagerduty.routing_key: required; copy the Integration Key of an Events API v2 integration (the service's Integrations tab) into ${PAGERDUTY_ROUTING_KEY} or routing_key_file")
	case strings.ContainsFunc(key, func(r rune) bool { return !isKeyChar(r) }):
		add("pagerduty.routing_key: contains characters an integration key never has (white space, punctuation); copy the Integration Key again, alone on its line")
	case len(key) != routingKeyLen:
		add("pagerduty.routing_key: %d characters, but an Events API v2 integration key has %d; copy the whole Integration Key (an Events API v1 service key or a REST API token does not work here)", len(key), routingKeyLen)
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	} else if err := validateBase(c.APIURL, c.AllowHTTP); err != nil {
		add("pagerduty.api_url: %v", err)
	}
	switch {
	case c.Timeout < 0:
		add("pagerduty.timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, notify.DefaultHTTPTimeout)
	case c.Timeout == 0:
		c.Timeout = notify.DefaultHTTPTimeout
	}
	return errors.Join(errs...)
}

func isKeyChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

// validateBase checks the base URL: the shared URL rules, and no query,
// fragment or request path (seqwatch adds /v2/enqueue itself).
func validateBase(raw string, allowHTTP bool) error {
	if err := notify.ValidateURL(raw, allowHTTP, DefaultAPIURL); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err // unreachable after ValidateURL
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("has a query or fragment; give the base URL only, such as " + DefaultAPIURL)
	}
	if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), EnqueuePath) {
		return errors.New("ends in " + EnqueuePath + ", which seqwatch adds itself; give the base URL only, such as " + DefaultAPIURL)
	}
	return nil
}

// endpoint is where events for the base URL go.
func endpoint(base string) string {
	return strings.TrimSuffix(base, "/") + EnqueuePath
}

// Channel describes the pagerduty: channel type of seqwatch.yaml. Its rate
// is the Events API's: about 120 events a minute per routing key (2 Notify
// calls a second; the requests inside one call are paced too).
func Channel() notify.ChannelType {
	t := notify.DefineChannel("pagerduty", (*Config).Validate,
		func(c *Config) []string { return []string{c.RoutingKey.Reveal()} },
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			n, err := New(*c, d.Client, d.Now, d.Logger)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
	t.RatePerSecond = 2
	return t
}
