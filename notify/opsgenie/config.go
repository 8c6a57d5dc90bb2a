package opsgenie

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/seqwatch/seqwatch/notify"
)

// The Alert API's hosts: an account lives in one region and answers only
// there.
const (
	USAPIURL = "https://api.opsgenie.com"
	EUAPIURL = "https://api.eu.opsgenie.com"
)

// regions are the hosts of the region names ("" is the default, us).
var regions = map[string]string{"": USAPIURL, "us": USAPIURL, "eu": EUAPIURL}

// AlertsPath is where alerts are created, below the base URL; an alert is
// closed at AlertsPath/{alias}/close?identifierType=alias.
const AlertsPath = "/v2/alerts"

// Opsgenie limits each account's requests per minute and per second, by
// plan, and answers 429 past them. seqwatch stays at one request a second
// (bursts of pacerBurst), well within every plan's Alert API limits.
const (
	pacerRate  = 1
	pacerBurst = 5
)

// Config configures one Opsgenie channel: an API integration of a team.
type Config struct {
	// APIKey is the API integration's key (Settings or the team's
	// Integrations: API). It is a secret: give it as ${VAR} or
	// api_key_file. An account's key from API key management cannot
	// create alerts.
	APIKey notify.Secret `yaml:"api_key"`
	// Region is the account's region: us (the default, api.opsgenie.com)
	// or eu (api.eu.opsgenie.com).
	Region string `yaml:"region"`
	// APIURL overrides the region's host (a proxy, a test receiver);
	// alerts go to APIURL + /v2/alerts.
	APIURL string `yaml:"api_url"`
	// AllowHTTP permits a plain http:// api_url to a host that is not a
	// loopback address.
	AllowHTTP bool `yaml:"allow_http"`
	// Timeout bounds each request (default notify.DefaultHTTPTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem with the configuration, each naming its
// key and what to do, and fills in the defaults (APIURL from Region). It
// never prints the API key.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	key := c.APIKey.Reveal()
	switch {
	case key == "":
		add("opsgenie.api_key: required; create an API integration (the team's Integrations, or Settings > Integrations > API) and give its key as ${OPSGENIE_API_KEY} or api_key_file")
	case strings.ContainsFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		add("opsgenie.api_key: contains white space or a line break; give the key alone, on one line")
	}
	regional, known := regions[c.Region]
	switch {
	case !known:
		add("opsgenie.region: must be us or eu (got %q); an EU account's address is app.eu.opsgenie.com", c.Region)
	case c.APIURL == "":
		c.APIURL = regional
	case c.Region != "" && c.APIURL != regional:
		// (Validate fills api_url in from region, and may run again.)
		add("opsgenie.region: api_url is set too, and it names the host; keep one of them")
	default:
		if err := validateBase(c.APIURL, c.AllowHTTP); err != nil {
			add("opsgenie.api_url: %v", err)
		}
	}
	switch {
	case c.Timeout < 0:
		add("opsgenie.timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, notify.DefaultHTTPTimeout)
	case c.Timeout == 0:
		c.Timeout = notify.DefaultHTTPTimeout
	}
	return errors.Join(errs...)
}

// validateBase checks the base URL: the shared URL rules, and no query,
// fragment or request path of the Alert API (seqwatch adds it).
func validateBase(raw string, allowHTTP bool) error {
	if err := notify.ValidateURL(raw, allowHTTP, USAPIURL); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err // unreachable after ValidateURL
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("has a query or fragment; give the base URL only, such as " + USAPIURL)
	}
	if strings.Contains(u.Path, AlertsPath) {
		return errors.New("contains " + AlertsPath + ", which seqwatch adds itself; give the base URL only, such as " + USAPIURL)
	}
	return nil
}

// Channel describes the opsgenie: channel type of seqwatch.yaml, at one
// Notify call a second (the requests inside one call are paced too).
func Channel() notify.ChannelType {
	t := notify.DefineChannel("opsgenie", (*Config).Validate,
		func(c *Config) []string { return []string{c.APIKey.Reveal()} },
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
