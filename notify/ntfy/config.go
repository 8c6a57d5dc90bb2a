package ntfy

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// exampleURL is the shape of a topic URL, for error messages (which never
// quote the configured one: on a public server the topic's name is its
// only protection).
const exampleURL = "https://ntfy.sh/TOPIC"

// Config configures one ntfy channel: a topic on ntfy.sh or a self-hosted
// server, which phones subscribed to it show as notifications.
type Config struct {
	// URL is the topic's URL (https://ntfy.sh/shop-alerts, or a
	// self-hosted server's). It is a secret: on a server that lets anyone
	// read, the topic's name is what keeps others out.
	URL notify.Secret `yaml:"url"`
	// Token is an access token (tk_…), sent as a bearer token. Give it, or
	// Username and Password, for a topic that needs them.
	Token notify.Secret `yaml:"token"`
	// Username and Password authenticate with HTTP basic auth.
	Username string        `yaml:"username"`
	Password notify.Secret `yaml:"password"`
	// Click is opened when the notification is tapped: the status page,
	// say (https://seqwatch.example.com/). Optional.
	Click string `yaml:"click"`
	// AllowHTTP permits plain http:// to a server that is not on a
	// loopback address (a server on a trusted network).
	AllowHTTP bool `yaml:"allow_http"`
	// Timeout bounds each request. Zero means notify.DefaultHTTPTimeout.
	Timeout time.Duration `yaml:"timeout"`
}

// topicName is what ntfy accepts as a topic.
var topicName = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// Validate checks the configuration and fills in the default Timeout.
// Each problem names its key and how to fix it; all are reported at once.
// Errors never quote the URL, the token or the password.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	raw := c.URL.Reveal()
	if err := notify.ValidateURL(raw, c.AllowHTTP, exampleURL); err != nil {
		add("url: %v", err)
	} else if err := checkTopicURL(raw); err != nil {
		add("url: %v", err)
	}
	if c.Token != "" && (c.Username != "" || c.Password != "") {
		add("token: give token or username and password, not both")
	}
	if strings.ContainsAny(c.Token.Reveal(), " \t\r\n") {
		add("token: contains white space or a line break; give the token alone (tk_…), on one line")
	}
	switch {
	case c.Username != "" && c.Password == "":
		add("password: required with username; set password or password_file")
	case c.Username == "" && c.Password != "":
		add("username: required with password")
	case strings.Contains(c.Username, ":"):
		add("username: must not contain a colon (basic auth cannot carry it)")
	}
	if c.Click != "" {
		u, err := url.Parse(c.Click)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("click: must be an absolute http(s) URL such as https://seqwatch.example.com/ (got %q)", c.Click)
		}
	}
	switch {
	case c.Timeout < 0:
		add("timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, notify.DefaultHTTPTimeout)
	case c.Timeout == 0:
		c.Timeout = notify.DefaultHTTPTimeout
	}
	return errors.Join(errs...)
}

// checkTopicURL checks that the URL names one topic and nothing else:
// seqwatch sets the title, priority and tags itself.
func checkTopicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // reported by ValidateURL
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("has a query or fragment; give the topic's URL alone (seqwatch sets the title, priority and tags itself)")
	}
	path := strings.TrimSuffix(u.Path, "/")
	topic := path[strings.LastIndexByte(path, '/')+1:]
	if topic == "" {
		return fmt.Errorf("names no topic; add it to the server's address: %s", exampleURL)
	}
	if !topicName.MatchString(topic) {
		return errors.New("the topic's name must be 1 to 64 letters, digits, '-' or '_'")
	}
	return nil
}

// Channel describes the ntfy: channel type of seqwatch.yaml. ntfy.sh lets
// one client publish a burst of 60 messages, then one every 5 seconds,
// so that is its default rate.
func Channel() notify.ChannelType {
	t := notify.DefineChannel("ntfy", (*Config).Validate,
		func(c *Config) []string {
			return append(notify.URLSecrets(c.URL.Reveal()), c.Token.Reveal(), c.Password.Reveal())
		},
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			n, err := New(*c, d.Client, d.Now, d.Logger)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
	t.RatePerSecond = 0.2
	return t
}
