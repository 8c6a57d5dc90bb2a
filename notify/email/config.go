// Package email sends seqwatch events as e-mail through an SMTP server
// (go-mail), one message per Notify call: a plain-text part and an HTML
// part, with everything that came from the database escaped and capped.
//
// It holds the channel's configuration, validation, rendering and sender.
// Of seqwatch it imports only notify and internal/text: it must not import
// check, state, another channel, any database driver or tablewriter.
package email

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/seqwatch/seqwatch/notify"
)

// TLSMode is how the connection to the SMTP server is secured.
type TLSMode string

// The TLS modes.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS before
	// anything else; a server that does not offer STARTTLS is an error,
	// never a reason to continue unencrypted.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465, "SMTPS").
	TLSImplicit TLSMode = "implicit"
	// TLSNone sends in plain text. It must be chosen explicitly and is meant
	// for a relay on the same host.
	TLSNone TLSMode = "none"
)

// Defaults applied by Validate to fields left empty.
const (
	DefaultPort          = 587
	DefaultImplicitPort  = 465
	DefaultSubjectPrefix = "[seqwatch]"
	DefaultTimeout       = 10 * time.Second
)

// Config is the `email` channel's configuration.
type Config struct {
	// Host is the SMTP server's host name or IP address, without a port.
	Host string `yaml:"host"`
	// Port defaults to 587 (465 with tls: implicit).
	Port int `yaml:"port"`
	// TLS is starttls (default), implicit or none.
	TLS TLSMode `yaml:"tls"`
	// Username and Password authenticate with AUTH (PLAIN or LOGIN), only
	// ever after TLS is established (or to a loopback relay with tls: none).
	Username string        `yaml:"username"`
	Password notify.Secret `yaml:"password"`
	// From is the sender address, e.g. "seqwatch <alerts@example.com>".
	From string `yaml:"from"`
	// To are the recipients; every message goes to all of them.
	To []string `yaml:"to"`
	// SubjectPrefix starts every subject; default "[seqwatch]".
	SubjectPrefix string `yaml:"subject_prefix"`
	// Timeout bounds the dial and each SMTP command; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// CA is the PEM text of the certificates of the CA that signed the
	// SMTP server's certificate (a private CA); when set they are trusted
	// instead of the system's roots. In seqwatch.yaml it is written
	// ca_file: PATH (any key can be read from a file that way).
	CA string `yaml:"ca"`
	// InsecureSkipVerify disables certificate verification. Prefer CA.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// HELO is the name sent in EHLO; default the local host name.
	HELO string `yaml:"helo"`
}

// Validate fills in the defaults of empty fields and checks the
// configuration. It reports every problem, each naming its key and how to
// fix it.
func (c *Config) Validate() error {
	c.setDefaults()
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	switch {
	case strings.TrimSpace(c.Host) == "":
		bad("host", "must be set to the SMTP server's host name, e.g. smtp.example.com")
	case strings.Contains(c.Host, "://"):
		bad("host", "must be a host name, not a URL (got %q); set tls and port separately", c.Host)
	case strings.IndexFunc(c.Host, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		bad("host", "must not contain spaces or control characters (got %q)", c.Host)
	default:
		if _, port, err := net.SplitHostPort(c.Host); err == nil {
			bad("host", "must not include a port (got %q); set port: %s instead", c.Host, port)
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		bad("port", "must be between 1 and 65535 (got %d)", c.Port)
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		bad("tls", "must be starttls, implicit or none (got %q)", string(c.TLS))
	}
	if c.Username == "" && c.Password != "" {
		bad("username", "must be set when password is set")
	}
	if c.Username != "" && c.Password == "" {
		bad("password", "must be set when username is set (use password_file or ${VAR} to keep it out of the file)")
	}
	if c.TLS == TLSNone && c.Username != "" && !isLoopback(c.Host) {
		bad("tls", "none would send the password unencrypted to %s; use starttls or implicit, or remove username and password for a local relay", c.Host)
	}
	if c.From == "" {
		bad("from", "must be set to the sender address, e.g. seqwatch <alerts@example.com>")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		bad("from", "is not a valid address (got %q): %v", c.From, err)
	}
	if len(c.To) == 0 {
		bad("to", "must list at least one recipient address")
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			bad(fmt.Sprintf("to[%d]", i), "is not a valid address (got %q): %v; give one address per list item", to, err)
		}
	}
	if strings.IndexFunc(c.SubjectPrefix, unicode.IsControl) >= 0 {
		bad("subject_prefix", "must not contain control characters or line breaks (got %q)", c.SubjectPrefix)
	}
	if c.CA != "" {
		if _, err := c.caPool(); err != nil {
			bad("ca_file", "%v", err)
		}
	}
	if c.Timeout < 0 {
		bad("timeout", "must be positive (got %s)", c.Timeout)
	}
	if c.HELO != "" && strings.IndexFunc(c.HELO, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII }) >= 0 {
		bad("helo", "must be a host name without spaces (got %q)", c.HELO)
	}
	return errors.Join(errs...)
}

// caPool returns the certificates of CA as a pool.
func (c *Config) caPool() (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(c.CA)) {
		return nil, errors.New("holds no PEM certificate; give the path of the CA's certificate in PEM form (a file starting with -----BEGIN CERTIFICATE-----)")
	}
	return pool, nil
}

func (c *Config) setDefaults() {
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		c.Port = DefaultPort
		if c.TLS == TLSImplicit {
			c.Port = DefaultImplicitPort
		}
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
}

// isLoopback matches the hosts go-mail's PLAIN and LOGIN auth accept
// without TLS. It is narrower than text.IsLoopback on purpose (127.0.0.2
// is loopback, but go-mail would refuse to authenticate to it in clear).
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Channel describes the email: channel type of seqwatch.yaml.
func Channel() notify.ChannelType {
	return notify.DefineChannel("email", (*Config).Validate,
		func(c *Config) []string { return []string{c.Password.Reveal()} },
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			n, err := New(*c, d.Logger)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
}
