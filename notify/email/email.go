package email

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// ErrNoStartTLS is returned (wrapped) when tls is starttls and the server
// does not offer STARTTLS. Nothing, in particular no AUTH, has been sent.
var ErrNoStartTLS = errors.New("STARTTLS not offered")

// Option changes how New builds a Notifier.
type Option func(*options)

type options struct {
	tlsConfig *tls.Config
	now       func() time.Time
}

// WithTLSConfig sets the TLS configuration used for STARTTLS and implicit
// TLS, e.g. RootCAs holding a private CA. ServerName defaults to the
// configured host. The config is cloned.
func WithTLSConfig(c *tls.Config) Option {
	return func(o *options) { o.tlsConfig = c }
}

// WithNow sets the clock used for the Date header.
func WithNow(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Notifier sends events by e-mail.
type Notifier struct {
	cfg       Config
	addr      string
	logger    *slog.Logger
	tlsConfig *tls.Config
	now       func() time.Time
	fromHost  string
	// templates word the subject and a paragraph under it (nil: the
	// channel's own words).
	templates *notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates cfg (filling in its defaults) and returns a Notifier.
// A nil logger discards log output.
func New(cfg Config, logger *slog.Logger, opts ...Option) (*Notifier, error) {
	cfg.To = slices.Clone(cfg.To)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	var tc *tls.Config
	if o.tlsConfig != nil {
		tc = o.tlsConfig.Clone()
	} else {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	if cfg.CA != "" {
		pool, err := cfg.caPool() // checked by Validate
		if err != nil {
			return nil, fmt.Errorf("email: ca_file: %w", err)
		}
		tc.RootCAs = pool
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	if cfg.InsecureSkipVerify {
		tc.InsecureSkipVerify = true
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	logger = logger.With("channel", "email", "smtp", addr)
	if cfg.InsecureSkipVerify && cfg.TLS != TLSNone {
		logger.Warn("email: insecure_skip_verify is set: the SMTP server's certificate is not checked")
	}
	from, _ := netmail.ParseAddress(cfg.From) // checked by Validate
	_, fromHost, _ := strings.Cut(from.Address, "@")
	return &Notifier{
		cfg:       cfg,
		addr:      addr,
		logger:    logger,
		tlsConfig: tc,
		now:       o.now,
		fromHost:  fromHost,
	}, nil
}

// Notify sends all events as one message to all recipients: the event
// itself when there is one, a digest otherwise. Transport errors and 4xx
// answers are worth retrying; 5xx answers, certificate errors and a server
// without STARTTLS are not. No error carries the password.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (retry bool, err error) {
	if len(events) == 0 {
		return false, nil
	}
	rendered, err := render(n.cfg.SubjectPrefix, events, n.templates)
	if err != nil {
		return false, fmt.Errorf("email: %w", err)
	}
	msg, err := n.buildMsg(rendered, events)
	if err != nil {
		return false, fmt.Errorf("email: build message: %w", err)
	}
	if err := n.send(ctx, msg); err != nil {
		retry := retryable(err)
		var uaerr x509.UnknownAuthorityError
		if errors.As(err, &uaerr) {
			err = fmt.Errorf("%w; if the server's certificate comes from a private CA, set ca_file to the CA's PEM certificate", err)
		}
		err = n.scrub(fmt.Errorf("email: %w", err))
		n.logger.Debug("email: send failed", "retry", retry, "err", err)
		return retry, err
	}
	n.logger.Debug("email: sent", "events", len(events), "recipients", len(n.cfg.To))
	return false, nil
}

func (n *Notifier) buildMsg(r message, events []notify.Event) (*mail.Msg, error) {
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.From(n.cfg.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := m.To(n.cfg.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	// Preformatted: go-mail would fold an encoded subject right after
	// "Subject:", which strict parsers read as a leading space.
	m.SetGenHeaderPreformatted(mail.HeaderSubject, subjectHeader(r.Subject))
	m.SetDateWithValue(n.now())
	m.SetMessageIDWithValue(messageID(events) + "@" + n.fromHost)
	// RFC 3834: tells vacation responders not to answer.
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	m.SetUserAgent("seqwatch")
	m.SetBodyString(mail.TypeTextPlain, r.Text)
	m.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	return m, nil
}

// subjectHeader encodes and folds a subject so that every parser reads it
// back exactly. Words of printable ASCII are written as they are (so
// "[seqwatch]" stays first, even in the raw header); from the first other
// word on (non-ASCII, or text that could be taken for an encoded word) the
// rest is written as RFC 2047 Q encoded words. Lines are folded only
// between words and never before the first one: a fold right after
// "Subject:" makes strict parsers (Python's email) read a leading space.
func subjectHeader(s string) string {
	words := strings.Fields(s)
	var tokens []string
	for i, w := range words {
		if !plainWord(w) {
			tokens = append(tokens, qEncode(strings.Join(words[i:], " "))...)
			break
		}
		tokens = append(tokens, w)
	}
	const maxLine = 76
	var b strings.Builder
	n := len("Subject: ")
	for i, t := range tokens {
		if i > 0 {
			if n+1+len(t) > maxLine {
				b.WriteString("\r\n ")
				n = 1
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(t)
		n += len(t)
	}
	return b.String()
}

// plainWord reports whether w can stand in a header unencoded: printable
// ASCII, not like an encoded word, and short enough for a line of its own
// (a longer word cannot be folded; encoded, it can be split).
func plainWord(w string) bool {
	if len(w) > 76-len("Subject: ") {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] <= ' ' || w[i] > '~' {
			return false
		}
	}
	return !strings.Contains(w, "=?")
}

// qEncode writes s as Q encoded words ("=?UTF-8?q?…?="), each short
// enough to follow "Subject: " within 76 characters, never splitting a
// character across two words (RFC 2047 section 5).
func qEncode(s string) []string {
	const (
		head   = "=?UTF-8?q?"
		tail   = "?="
		maxLen = 76 - len("Subject: ")
	)
	var words []string
	var cur strings.Builder
	for _, r := range s {
		var enc strings.Builder
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			switch {
			case c == ' ':
				enc.WriteByte('_')
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("!*+-/.,:[]", c) >= 0:
				enc.WriteByte(c)
			default:
				fmt.Fprintf(&enc, "=%02X", c)
			}
		}
		if cur.Len() > 0 && len(head)+cur.Len()+enc.Len()+len(tail) > maxLen {
			words = append(words, head+cur.String()+tail)
			cur.Reset()
		}
		cur.WriteString(enc.String())
	}
	if cur.Len() > 0 {
		words = append(words, head+cur.String()+tail)
	}
	return words
}

// messageID is stable for the same events, so a message re-sent after a
// failure that was in fact delivered can be recognised as a duplicate.
func messageID(events []notify.Event) string {
	if len(events) == 1 && isIDSafe(events[0].ID) {
		return "seqwatch." + events[0].ID
	}
	h := sha256.New()
	for _, e := range events {
		h.Write([]byte(e.ID))
		h.Write([]byte{0})
	}
	return "seqwatch." + hex.EncodeToString(h.Sum(nil)[:16])
}

func isIDSafe(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// send runs one SMTP session: connect, TLS, check TLS, AUTH, send, QUIT.
// AUTH is done here rather than by go-mail so that it can only happen after
// this code has seen the TLS handshake complete.
func (n *Notifier) send(ctx context.Context, msg *mail.Msg) (err error) {
	var conn net.Conn
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		d := net.Dialer{}
		c, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		if n.cfg.TLS == TLSImplicit {
			tc := tls.Client(c, n.tlsConfig)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return nil, fmt.Errorf("TLS handshake: %w", err)
			}
			c = tc
		}
		conn = c
		return c, nil
	}
	policy := mail.TLSOpportunistic // STARTTLS when offered; its absence is checked below
	if n.cfg.TLS != TLSStartTLS {
		policy = mail.NoTLS
	}
	opts := []mail.Option{
		mail.WithPort(n.cfg.Port),
		mail.WithTimeout(n.cfg.Timeout),
		mail.WithTLSPolicy(policy),
		mail.WithTLSConfig(n.tlsConfig),
		mail.WithDialContextFunc(dial),
	}
	if n.cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(n.cfg.HELO))
	}
	client, err := mail.NewClient(n.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("create client for %s: %w", n.addr, err)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if conn != nil { // go-mail leaves it open when EHLO or STARTTLS fails
			_ = conn.Close()
		}
		return n.contextErr(ctx, fmt.Errorf("connect to %s: %w", n.addr, err))
	}
	// go-mail only watches ctx while dialling; closing the connection
	// aborts a session stuck in a later command.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer func() {
		if err != nil {
			_ = sc.Close()
			return
		}
		if qerr := client.CloseWithSMTPClient(sc); qerr != nil {
			n.logger.Debug("email: QUIT failed after the message was accepted", "err", qerr)
		}
	}()

	if n.cfg.TLS != TLSNone {
		if st, ok := sc.TLSConnectionState(); !ok || !st.HandshakeComplete {
			return fmt.Errorf("the SMTP server at %s does not offer STARTTLS; set tls: implicit or fix the server: %w", n.addr, ErrNoStartTLS)
		}
	}
	if n.cfg.Username != "" {
		if err := n.auth(sc); err != nil {
			return n.contextErr(ctx, err)
		}
	}
	if err := client.SendWithSMTPClient(sc, msg); err != nil {
		return n.contextErr(ctx, fmt.Errorf("send via %s: %w", n.addr, err))
	}
	return nil
}

// permanentError marks a failure that no retry will fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func (n *Notifier) auth(sc *smtp.Client) error {
	ok, offered := sc.Extension("AUTH")
	if !ok {
		return &permanentError{fmt.Errorf("the SMTP server at %s does not offer AUTH; remove username and password or fix the server", n.addr)}
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "PLAIN"):
		a = smtp.PlainAuth("", n.cfg.Username, n.cfg.Password.Reveal(), n.cfg.Host, false)
	case slices.Contains(mechs, "LOGIN"):
		a = smtp.LoginAuth(n.cfg.Username, n.cfg.Password.Reveal(), n.cfg.Host, false)
	default:
		return &permanentError{fmt.Errorf("the SMTP server at %s offers AUTH %s; seqwatch supports PLAIN and LOGIN", n.addr, offered)}
	}
	if err := sc.Auth(a); err != nil {
		return fmt.Errorf("authenticate as %q at %s: %w", n.cfg.Username, n.addr, err)
	}
	return nil
}

// contextErr reports the context's end rather than the "use of closed
// network connection" that closing the connection caused.
func (n *Notifier) contextErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

// retryable tells a failure worth retrying (transport trouble, SMTP 4xx)
// from one that will fail again the same way (SMTP 5xx, bad certificate,
// no STARTTLS, unsupported AUTH).
func retryable(err error) bool {
	var perm *permanentError
	if errors.Is(err, ErrNoStartTLS) || errors.As(err, &perm) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		switch code := se.ErrorCode(); {
		case code >= 500:
			return false
		case code >= 400:
			return true
		}
		switch se.Reason {
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			return false
		}
		return true // a connection lost mid-session
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code < 500
	}
	var (
		verr  *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cierr x509.CertificateInvalidError
		rherr tls.RecordHeaderError
		alert tls.AlertError
	)
	if errors.As(err, &verr) || errors.As(err, &uaerr) || errors.As(err, &herr) ||
		errors.As(err, &cierr) || errors.As(err, &rherr) || errors.As(err, &alert) {
		return false
	}
	return true
}

// scrub removes the password from an error in case a server echoed it.
// The error chain is dropped then, since it still holds the original text.
func (n *Notifier) scrub(err error) error {
	pw := n.cfg.Password.Reveal()
	if pw == "" {
		return err
	}
	forms := []string{
		pw,
		base64.StdEncoding.EncodeToString([]byte(pw)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + n.cfg.Username + "\x00" + pw)),
	}
	s := err.Error()
	clean := text.Redact(s, forms...)
	if clean == s {
		return err
	}
	return errors.New(clean)
}
