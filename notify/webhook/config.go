package webhook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// SecretPrefix marks a Standard Webhooks signing secret: the rest of the
// string is the base64 of the HMAC key.
const SecretPrefix = "whsec_"

// Config configures one webhook channel.
type Config struct {
	// URL is the receiver's address. It is a Secret because webhook URLs
	// often carry a token in their path or query.
	URL notify.Secret `yaml:"url"`
	// AllowHTTP permits an http:// URL to a host that is not a loopback
	// address, for receivers on a trusted network. Without it only https://
	// and http:// to loopback are accepted (notify.ValidateURL, the rule of
	// every HTTP channel).
	AllowHTTP bool `yaml:"allow_http"`
	// Secrets are Standard Webhooks signing secrets. Each request is signed
	// with every one of them (space-separated v1 signatures in one
	// webhook-signature header) so a secret can be rotated without a gap:
	// add the new one, update the receiver, remove the old one.
	//
	// A secret of the form "whsec_<base64>" (what Standard Webhooks tools
	// print) is base64-decoded after the prefix and the bytes are the HMAC
	// key. Any other non-empty string is used as-is: its UTF-8 bytes are the
	// key, which is the same as giving "whsec_" + base64(string). Give a
	// Standard Webhooks library on the receiving side the whsec_ form.
	Secrets []notify.Secret `yaml:"secrets"`
	// Headers are extra request headers (e.g. an Authorization header the
	// receiver wants). They may not replace the headers seqwatch sets:
	// webhook-id, webhook-timestamp, webhook-signature, Content-Type, Host,
	// Content-Length and Transfer-Encoding.
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one delivery attempt (connect, send, read the answer).
	// Zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
}

// isReserved reports whether the Notifier sets the header itself; letting
// configuration override it would break signing or the request framing.
func isReserved(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature",
		"Content-Type", "Host", "Content-Length", "Transfer-Encoding":
		return true
	}
	return false
}

// Validate checks the configuration and fills in defaults (Timeout). Each
// problem names its key and how to fix it; all problems are reported at
// once. Errors never contain the URL, a secret or a header value.
func (c *Config) Validate() error {
	var errs []error
	if err := notify.ValidateURL(c.URL.Reveal(), c.AllowHTTP, "https://receiver.example.com/hooks/seqwatch"); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	for i, s := range c.Secrets {
		if _, err := signingKey(s.Reveal()); err != nil {
			errs = append(errs, fmt.Errorf("secrets[%d]: %w", i, err))
		}
	}
	names := make([]string, 0, len(c.Headers))
	for name := range c.Headers {
		names = append(names, name)
	}
	sort.Strings(names) // stable error order
	for _, name := range names {
		if err := validateHeader(name, c.Headers[name]); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case c.Timeout < 0:
		errs = append(errs, fmt.Errorf("timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, DefaultTimeout))
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	}
	return errors.Join(errs...)
}

func validateHeader(name, value string) error {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return fmt.Errorf("headers: %q is not a valid header name; use letters, digits and '-'", name)
	}
	if isReserved(name) {
		return fmt.Errorf("headers.%s: reserved, seqwatch sets it itself; remove it", name)
	}
	// The value may be a credential: say what is wrong, never what it is.
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("headers.%s: value contains a line break or NUL; put it on one line", name)
	}
	return nil
}

// isTokenChar reports whether r may appear in an HTTP header name (RFC 9110
// token).
func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// signingKey turns a configured secret into its HMAC key (see
// Config.Secrets for the two accepted forms).
func signingKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("empty; remove the entry or give a whsec_... secret")
	}
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(rest)
	}
	if err != nil {
		return nil, errors.New("the part after whsec_ is not valid base64; copy the whole secret again, or use a plain string without the whsec_ prefix")
	}
	if len(key) == 0 {
		return nil, errors.New("no key after whsec_; copy the whole secret again")
	}
	return key, nil
}

// Channel describes the webhook: channel type of seqwatch.yaml.
func Channel() notify.ChannelType {
	t := notify.DefineChannel("webhook", (*Config).Validate,
		func(c *Config) []string {
			out := []string{c.URL.Reveal()}
			for _, s := range c.Secrets {
				out = append(out, s.Reveal())
			}
			return out
		},
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			n, err := New(*c, d.Client, d.Now, d.Logger)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
	// The document is for programs: its one text a template may write is
	// the body, as "text".
	t.TemplateParts = []string{notify.BodyPart}
	return t
}
