package alertmanager

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/notify"
)

// DefaultTimeout bounds one POST to one Alertmanager when Config.Timeout
// is zero.
const DefaultTimeout = 10 * time.Second

// DefaultEndsAfter is how long an open problem stays firing after its last
// post when Config.EndsAfter is zero and the daemon sets nothing better
// (it sets four times the schedule's interval).
const DefaultEndsAfter = 5 * time.Minute

// APIPath is the Alertmanager v2 endpoint alerts are posted to.
const APIPath = "/api/v2/alerts"

// Config configures one Alertmanager channel: one Alertmanager, or the
// replicas of one Alertmanager cluster.
type Config struct {
	// URLs are the Alertmanagers' base addresses (http://am1:9093, or
	// with a path prefix: https://example.com/alertmanager). Every alert
	// is posted to each of them, as Prometheus does for a cluster; the
	// cluster deduplicates the notifications. A URL that already ends in
	// /api/v2/alerts is used as it is.
	URLs []string `yaml:"urls"`
	// AllowHTTP permits plain http:// to a host that is not a loopback
	// address (an Alertmanager inside a private network). http:// to
	// localhost, 127.0.0.0/8 or ::1 needs no key.
	AllowHTTP bool `yaml:"allow_http"`
	// BasicAuth and BearerToken authenticate to an Alertmanager behind a
	// proxy or with a web.config.file; give at most one. password_file
	// and bearer_token_file read the secret from a file.
	BasicAuth   *BasicAuth    `yaml:"basic_auth"`
	BearerToken notify.Secret `yaml:"bearer_token"`
	// Labels are added to every alert (team: payments, cluster: eu-1),
	// like Prometheus's external_labels. They may not replace seqwatch's
	// own labels (alertname, app, environment, operation, severity).
	Labels map[string]string `yaml:"labels"`
	// GeneratorURL is put in every alert's generatorURL: a page that shows
	// the problem, such as seqwatch's status page. Optional.
	GeneratorURL string `yaml:"generator_url"`
	// EndsAfter is how long Alertmanager keeps an open problem firing
	// after seqwatch last posted it (each post sets endsAt this far
	// ahead). Open problems are posted again at every tick, so it must be
	// longer than the interval between ticks; zero lets the daemon choose
	// four intervals (at least DefaultEndsAfter). If seqwatch stops, its
	// alerts resolve this long after the last tick.
	EndsAfter time.Duration `yaml:"ends_after"`
	// Timeout bounds one POST to one Alertmanager (connect, send, read the
	// answer). Zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username string        `yaml:"username"`
	Password notify.Secret `yaml:"password"`
}

// isOwnLabel reports whether seqwatch sets the label itself.
func isOwnLabel(name string) bool {
	switch name {
	case "alertname", "app", "environment", "operation", "severity":
		return true
	}
	return false
}

// Validate checks the configuration and fills in the default Timeout
// (EndsAfter is left zero for the daemon to choose; New defaults it). Each problem names its key and how to fix it; all are
// reported at once. Errors never contain a password or token.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.URLs) == 0 {
		add("urls: required; list the Alertmanager base URLs, e.g. urls: [http://127.0.0.1:9093]")
	}
	seen := map[string]bool{}
	for i, raw := range c.URLs {
		if err := validateURL(raw, c.AllowHTTP); err != nil {
			add("urls[%d]: %v", i, err)
			continue
		}
		if ep := endpoint(raw); seen[ep] {
			add("urls[%d]: %s is listed twice; remove one", i, raw)
		} else {
			seen[ep] = true
		}
	}
	if c.BasicAuth != nil {
		if c.BasicAuth.Username == "" {
			add("basic_auth.username: required with basic_auth")
		}
		if c.BasicAuth.Password == "" {
			add("basic_auth.password: required with basic_auth; set password or password_file")
		}
		if c.BearerToken != "" {
			add("bearer_token: give basic_auth or bearer_token, not both")
		}
	}
	if strings.ContainsAny(c.BearerToken.Reveal(), " \t\r\n") {
		add("bearer_token: contains white space or a line break; give the token alone, on one line")
	}
	names := make([]string, 0, len(c.Labels))
	for name := range c.Labels {
		names = append(names, name)
	}
	sort.Strings(names) // stable error order
	for _, name := range names {
		if err := validateLabel(name, c.Labels[name]); err != nil {
			add("labels.%s: %v", name, err)
		}
	}
	if c.GeneratorURL != "" {
		u, err := url.Parse(c.GeneratorURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("generator_url: must be an absolute http(s) URL such as https://seqwatch.example.com/ (got %q)", c.GeneratorURL)
		}
	}
	switch {
	case c.EndsAfter < 0:
		add("ends_after: must be positive (got %s); remove it for the default", c.EndsAfter)
	case c.EndsAfter > 0 && c.EndsAfter < time.Minute:
		add("ends_after: must be at least 1m (got %s), or alerts would resolve between two ticks", c.EndsAfter)
	}
	switch {
	case c.Timeout < 0:
		add("timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, DefaultTimeout)
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	}
	return errors.Join(errs...)
}

// validateURL checks one Alertmanager URL by the rule of every HTTP
// channel (notify.ValidateURL: plain http only to loopback without
// allowHTTP), and that it is a base URL.
func validateURL(raw string, allowHTTP bool) error {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return errors.New("carries a user name or password; remove it from the URL and use basic_auth")
	}
	if err := notify.ValidateURL(raw, allowHTTP, "http://127.0.0.1:9093"); err != nil {
		return err
	}
	if u, _ := url.Parse(raw); u.RawQuery != "" || u.Fragment != "" {
		return errors.New("has a query or fragment; give the base URL only")
	}
	return nil
}

// validateLabel checks an extra label. Names are only checked for what no
// Alertmanager accepts: since 0.28 Alertmanager takes any UTF-8 name, while
// older ones answer 400 to names outside [a-zA-Z_][a-zA-Z0-9_]* (seqwatch
// then keeps the alert as a dead letter and logs the label's name).
func validateLabel(name, value string) error {
	switch {
	case name == "" || !utf8.ValidString(name):
		return errors.New("the name must be non-empty UTF-8")
	case strings.HasPrefix(name, "__"):
		return errors.New("names starting with __ are reserved for Alertmanager; rename it")
	case strings.ContainsAny(name, "\r\n\x00"):
		return errors.New("the name contains a line break or NUL")
	}
	if isOwnLabel(name) {
		return fmt.Errorf("seqwatch sets %s itself; remove it or use another name", name)
	}
	if value == "" {
		return errors.New("empty value: Alertmanager drops empty labels; give a value or remove the label")
	}
	if !utf8.ValidString(value) {
		return errors.New("the value is not valid UTF-8")
	}
	return nil
}

// endpoint is where alerts for the base URL raw are posted.
func endpoint(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	if !strings.HasSuffix(u.Path, APIPath) {
		u.Path = strings.TrimSuffix(u.Path, "/") + APIPath
		u.RawPath = ""
	}
	return u.String()
}

// Channel describes the alertmanager: channel type of seqwatch.yaml. An
// unset ends_after takes Deps.EndsAfter (the daemon's choice from its
// schedule).
func Channel() notify.ChannelType {
	return notify.DefineChannel("alertmanager", (*Config).Validate,
		func(c *Config) []string {
			out := []string{c.BearerToken.Reveal()}
			if c.BasicAuth != nil {
				out = append(out, c.BasicAuth.Password.Reveal())
			}
			return out
		},
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			cfg := *c
			if cfg.EndsAfter == 0 {
				cfg.EndsAfter = d.EndsAfter
			}
			n, err := New(cfg, d.Client, d.Now, d.Logger)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
}
