package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/seqwatch/seqwatch/notify"
)

const (
	testUser     = "alerts@example.com"
	testPassword = "s3cret-Passw0rd!"
)

var testRecipients = []string{"ops@example.com", "Dev Team <dev@example.com>"}

// --- an SMTP server in the test process -------------------------------

type received struct {
	From string
	To   []string
	Data []byte
}

type serverMode string

const (
	serveSTARTTLS serverMode = "starttls"
	serveImplicit serverMode = "implicit"
	servePlain    serverMode = "plain" // offers neither STARTTLS nor TLS
)

type serverConfig struct {
	mode serverMode
	// user and password are required when user is set.
	user, password string
	mailErr        error
	rcptErr        map[string]error
}

type testServer struct {
	cfg  serverConfig
	host string
	port int

	mu         sync.Mutex
	msgs       []received
	authCalls  int
	transcript bytes.Buffer
}

// Write records the whole SMTP conversation (go-smtp's Debug writer).
func (s *testServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcript.Write(p)
}

func (s *testServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *testServer) conversation() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcript.String()
}

func (s *testServer) auths() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authCalls
}

func (s *testServer) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{srv: s}, nil
}

type session struct {
	srv    *testServer
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	s.srv.mu.Lock()
	s.srv.authCalls++
	s.srv.mu.Unlock()
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.srv.cfg.user || password != s.srv.cfg.password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.cfg.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	if s.srv.cfg.mailErr != nil {
		return s.srv.cfg.mailErr
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.srv.cfg.rcptErr[to]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, received{From: s.from, To: s.to, Data: b})
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSigned makes a CA-capable certificate for 127.0.0.1 and localhost.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "seqwatch test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

func startServer(t *testing.T, cfg serverConfig, cert tls.Certificate) *testServer {
	t.Helper()
	ts := &testServer{cfg: cfg}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := smtp.NewServer(ts)
	s.Domain = "localhost"
	s.Debug = ts
	s.ErrorLog = log{t}
	// Advertise AUTH even without TLS, so a client that ignores the lack
	// of TLS would really send its password.
	s.AllowInsecureAuth = true
	switch cfg.mode {
	case serveSTARTTLS:
		s.TLSConfig = tlsConf
	case serveImplicit:
		l = tls.NewListener(l, tlsConf)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	addr := l.Addr().(*net.TCPAddr)
	ts.host, ts.port = "127.0.0.1", addr.Port
	return ts
}

type log struct{ t *testing.T }

func (l log) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l log) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

// --- helpers -----------------------------------------------------------

type env struct {
	srv    *testServer
	n      *Notifier
	logBuf *bytes.Buffer
}

// setup starts a server and a Notifier pointing at it. tweak adjusts the
// client configuration.
func setup(t *testing.T, sc serverConfig, tweak func(*Config), opts ...Option) env {
	t.Helper()
	cert, pool := selfSigned(t)
	srv := startServer(t, sc, cert)
	cfg := Config{
		Host:     srv.host,
		Port:     srv.port,
		Username: testUser,
		Password: testPassword,
		From:     "seqwatch <alerts@example.com>",
		To:       testRecipients,
		HELO:     "seqwatch.test",
		Timeout:  5 * time.Second,
	}
	switch sc.mode {
	case serveImplicit:
		cfg.TLS = TLSImplicit
	case servePlain:
		cfg.TLS = TLSStartTLS
	}
	if tweak != nil {
		tweak(&cfg)
	}
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]Option{WithTLSConfig(&tls.Config{RootCAs: pool}), WithNow(fixedNow)}, opts...)
	n, err := New(cfg, logger, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return env{srv: srv, n: n, logBuf: &logBuf}
}

func fixedNow() time.Time { return time.Date(2024, 1, 13, 12, 5, 0, 0, time.UTC) }

func authed(mode serverMode) serverConfig {
	return serverConfig{mode: mode, user: testUser, password: testPassword}
}

func failedEvent(exception, message, trace string) notify.Event {
	failedAt := time.Date(2024, 1, 13, 12, 0, 3, 0, time.UTC)
	return notify.Event{
		ID:          "01HM0000000000000000000001",
		Kind:        notify.OperationFailed,
		Key:         "operation.failed/2024_01_13_120000_FailedOperation/42",
		App:         "app",
		Environment: "production",
		OccurredAt:  failedAt,
		Summary:     "2024_01_13_120000_FailedOperation failed",
		Operation: &notify.Operation{
			ID:         "42",
			Name:       "2024_01_13_120000_FailedOperation",
			Type:       "sync",
			ExecutedAt: time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC),
			FailedAt:   &failedAt,
		},
		Errors: []notify.Error{{
			Exception: exception,
			Message:   message,
			Trace:     trace,
			Context:   `{"file":"/app/database/operations/2024_01_13_120000_FailedOperation.php","line":12}`,
			CreatedAt: failedAt,
		}},
	}
}

func trace(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "#%d /app/vendor/laravel/framework/src/Foo%d.php(%d): Foo->bar%d()\n", i, i, i+10, i)
	}
	fmt.Fprintf(&b, "#%d {main}", n)
	return b.String()
}

// parsed is a received message taken apart as a mail client would.
type parsed struct {
	header  netmail.Header
	rawHead string
	subject string
	text    string
	html    string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	p := parsed{header: m.Header}
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	p.rawHead = string(head)
	dec := mime.WordDecoder{}
	p.subject, err = dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	walk(t, m.Header.Get("Content-Type"), m.Body, &p)
	return p
}

func walk(t *testing.T, contentType string, body io.Reader, p *parsed) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextPart() // decodes quoted-printable
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("next part: %v", err)
			}
			walk(t, part.Header.Get("Content-Type"), part, p)
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("read %s part: %v", mt, err)
	}
	switch mt {
	case "text/plain":
		p.text = string(b)
	case "text/html":
		p.html = string(b)
	}
}

func notifyOne(t *testing.T, e env, events ...notify.Event) parsed {
	t.Helper()
	retry, err := e.n.Notify(context.Background(), events)
	if err != nil {
		t.Fatalf("Notify: retry=%v err=%v", retry, err)
	}
	msgs := e.srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	return parse(t, msgs[0].Data)
}

func addrsOf(t *testing.T, list []string) []string {
	t.Helper()
	var out []string
	for _, s := range list {
		a, err := netmail.ParseAddress(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a.Address)
	}
	return out
}

// secretForms are the ways the password could travel or leak.
func secretForms() []string {
	return []string{
		testPassword,
		base64.StdEncoding.EncodeToString([]byte(testPassword)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + testPassword)),
	}
}

// --- tests -------------------------------------------------------------

func TestNotifyDeliversOverEachTLSMode(t *testing.T) {
	tests := []struct {
		name  string
		sc    serverConfig
		tweak func(*Config)
	}{
		{name: "starttls with AUTH PLAIN", sc: authed(serveSTARTTLS)},
		{name: "implicit TLS with AUTH PLAIN", sc: authed(serveImplicit)},
		{name: "plain local relay without auth when tls is none", sc: serverConfig{mode: servePlain},
			tweak: func(c *Config) { c.TLS, c.Username, c.Password = TLSNone, "", "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.sc, tt.tweak)
			p := notifyOne(t, e, failedEvent("RuntimeException", "boom", trace(3)))

			msg := e.srv.messages()[0]
			if want := addrsOf(t, testRecipients); strings.Join(msg.To, ",") != strings.Join(want, ",") {
				t.Errorf("RCPT TO = %v, want %v", msg.To, want)
			}
			if msg.From != "alerts@example.com" {
				t.Errorf("MAIL FROM = %q", msg.From)
			}
			if got := p.header.Get("From"); !strings.Contains(got, "alerts@example.com") {
				t.Errorf("From header = %q", got)
			}
			to, err := p.header.AddressList("To")
			if err != nil || len(to) != len(testRecipients) {
				t.Errorf("To header = %v (%v), want %d addresses", to, err, len(testRecipients))
			}
			if want := "[seqwatch] app: operation.failed 2024_01_13_120000_FailedOperation: RuntimeException"; p.subject != want {
				t.Errorf("Subject = %q, want %q", p.subject, want)
			}
			if p.text == "" || p.html == "" {
				t.Errorf("want a text/plain and a text/html part, got text=%d html=%d bytes", len(p.text), len(p.html))
			}
			if tt.sc.user != "" && e.srv.auths() != 1 {
				t.Errorf("server saw %d AUTH commands, want 1", e.srv.auths())
			}
			if got := p.header.Get("Auto-Submitted"); got != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", got)
			}
			if got := p.header.Get("Message-Id"); got != "<seqwatch.01HM0000000000000000000001@example.com>" {
				t.Errorf("Message-ID = %q", got)
			}
		})
	}
}

func TestNotifyRefusesToAuthenticateWithoutSTARTTLS(t *testing.T) {
	e := setup(t, authed(servePlain), nil)
	retry, err := e.n.Notify(context.Background(), []notify.Event{failedEvent("RuntimeException", "boom", "")})
	if err == nil {
		t.Fatal("Notify succeeded over a server without STARTTLS")
	}
	if retry {
		t.Errorf("retry = true, want false: the server will not start offering STARTTLS")
	}
	if !errors.Is(err, ErrNoStartTLS) {
		t.Errorf("error %v does not wrap ErrNoStartTLS", err)
	}
	want := "the SMTP server at " + net.JoinHostPort(e.srv.host, strconv.Itoa(e.srv.port)) + " does not offer STARTTLS; set tls: implicit or fix the server"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
	if n := e.srv.auths(); n != 0 {
		t.Errorf("server received %d AUTH commands, want none", n)
	}
	conv := e.srv.conversation()
	if !strings.Contains(conv, "EHLO") {
		t.Fatalf("transcript is missing the EHLO; is the Debug writer wired? %q", conv)
	}
	if strings.Contains(strings.ToUpper(conv), "\nAUTH") {
		t.Errorf("an AUTH command reached the server:\n%s", conv)
	}
	for _, f := range secretForms() {
		if strings.Contains(conv, f) {
			t.Errorf("the password (%q form) reached the server", f)
		}
	}
	if len(e.srv.messages()) != 0 {
		t.Errorf("a message was delivered")
	}
}

func TestNotifyClassifiesFailures(t *testing.T) {
	tests := []struct {
		name      string
		sc        serverConfig
		tweak     func(*Config)
		opts      []Option
		wantRetry bool
		wantInErr string
	}{
		{
			name:      "AUTH failure 535 is permanent",
			sc:        serverConfig{mode: serveSTARTTLS, user: testUser, password: "another password"},
			wantRetry: false,
			wantInErr: "535",
		},
		{
			name:      "451 on MAIL FROM is temporary",
			sc:        serverConfig{mode: serveSTARTTLS, user: testUser, password: testPassword, mailErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}},
			wantRetry: true,
			wantInErr: "451",
		},
		{
			name: "550 mailbox unavailable is permanent",
			sc: serverConfig{mode: serveSTARTTLS, user: testUser, password: testPassword, rcptErr: map[string]error{
				"dev@example.com": &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"},
			}},
			wantRetry: false,
			wantInErr: "550",
		},
		{
			name:      "untrusted certificate is permanent",
			sc:        authed(serveSTARTTLS),
			opts:      []Option{WithTLSConfig(&tls.Config{})}, // system roots only
			wantRetry: false,
			wantInErr: "certificate",
		},
		{
			name:      "implicit TLS against a plain-text server is permanent",
			sc:        authed(servePlain),
			tweak:     func(c *Config) { c.TLS = TLSImplicit },
			wantRetry: false,
			wantInErr: "TLS handshake",
		},
		{
			name:      "connection refused is temporary",
			sc:        authed(serveSTARTTLS),
			tweak:     func(c *Config) { c.Port = closedPort(t) },
			wantRetry: true,
			wantInErr: "connect",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.sc, tt.tweak, tt.opts...)
			retry, err := e.n.Notify(context.Background(), []notify.Event{failedEvent("RuntimeException", "boom", "")})
			if err == nil {
				t.Fatal("Notify succeeded")
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.wantRetry, err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error = %q, want it to mention %q", err, tt.wantInErr)
			}
			logs := e.logBuf.String()
			for _, f := range secretForms() {
				if strings.Contains(err.Error(), f) {
					t.Errorf("error contains the password (%q form): %v", f, err)
				}
				if strings.Contains(logs, f) {
					t.Errorf("log contains the password (%q form): %s", f, logs)
				}
			}
			if len(e.srv.messages()) != 0 {
				t.Errorf("a message was delivered")
			}
		})
	}
}

// closedPort returns a port on which nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func TestNotifyWithCancelledContextIsRetryable(t *testing.T) {
	e := setup(t, authed(serveSTARTTLS), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	retry, err := e.n.Notify(ctx, []notify.Event{failedEvent("RuntimeException", "boom", "")})
	if err == nil || !retry {
		t.Fatalf("Notify = (%v, %v), want a retryable error", retry, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}

func TestNotifyResistsHeaderInjection(t *testing.T) {
	e := setup(t, authed(serveSTARTTLS), nil)
	ev := failedEvent("RuntimeException\r\nBcc: evil@example.com", "line one\r\nBcc: evil@example.com\r\n\r\nbody", "")
	ev.App = "app\nX-Injected: yes"
	ev.Operation.Name = "2024_01_13_120000_FailedOperation\r\n\tTo: evil@example.com"
	p := notifyOne(t, e, ev)

	if strings.ContainsAny(p.subject, "\r\n") {
		t.Errorf("Subject contains a line break: %q", p.subject)
	}
	if !strings.HasPrefix(p.subject, "[seqwatch] app X-Injected: yes: operation.failed") {
		t.Errorf("Subject = %q", p.subject)
	}
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v, ok := p.header[h]; ok {
			t.Errorf("injected header %s: %v", h, v)
		}
	}
	for _, line := range strings.Split(p.rawHead, "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") || strings.HasPrefix(strings.ToLower(line), "x-injected:") {
			t.Errorf("raw header line %q", line)
		}
	}
	if to, _ := p.header.AddressList("To"); len(to) != len(testRecipients) {
		t.Errorf("To = %v", to)
	}
	msg := e.srv.messages()[0]
	for _, rcpt := range msg.To {
		if strings.Contains(rcpt, "evil") {
			t.Errorf("RCPT TO %s", rcpt)
		}
	}
}

func TestNotifyBody(t *testing.T) {
	huge := strings.Repeat("#0 /app/vendor/x.php(1): "+strings.Repeat("A", 100)+"\n", 1<<20/128)
	tests := []struct {
		name  string
		event notify.Event
		check func(t *testing.T, p parsed)
	}{
		{
			name:  "HTML escapes markup from the database",
			event: failedEvent("RuntimeException", `<script>alert("x")</script> & <b>bold</b>`, trace(3)),
			check: func(t *testing.T, p parsed) {
				if strings.Contains(p.html, "<script>") || strings.Contains(p.html, "<b>bold") {
					t.Errorf("HTML part contains unescaped markup:\n%s", p.html)
				}
				if !strings.Contains(p.html, "&lt;script&gt;") {
					t.Errorf("HTML part lacks the escaped message:\n%s", p.html)
				}
				if !strings.Contains(p.text, `<script>alert("x")</script>`) {
					t.Errorf("text part should show the message as is:\n%s", p.text)
				}
			},
		},
		{
			name:  "shows app, environment, operation and error details",
			event: failedEvent(`Illuminate\Database\QueryException`, "SQLSTATE[23000]: duplicate key\nsecond line", trace(3)),
			check: func(t *testing.T, p parsed) {
				for _, want := range []string{
					"app", "production", "2024_01_13_120000_FailedOperation", "sync",
					"2024-01-13 12:00:00 UTC", "2024-01-13 12:00:03 UTC",
					`Illuminate\Database\QueryException`, "SQLSTATE[23000]: duplicate key", "second line",
					"#0 /app/vendor/laravel/framework/src/Foo0.php(10): Foo-&gt;bar0()",
				} {
					body := p.text
					if strings.Contains(want, "&gt;") {
						body = p.html
					}
					if !strings.Contains(body, want) {
						t.Errorf("body lacks %q:\n%s", want, body)
					}
				}
				if !strings.Contains(p.text, "#3 {main}") || !strings.Contains(p.text, "#2 /app/vendor/laravel/framework/src/Foo2.php(12): Foo->bar2()") {
					t.Errorf("text part lacks trace frames:\n%s", p.text)
				}
			},
		},
		{
			name:  "shows the first 20 frames and counts the rest",
			event: failedEvent("RuntimeException", "boom", trace(30)),
			check: func(t *testing.T, p parsed) {
				for _, body := range []string{p.text, p.html} {
					if !strings.Contains(body, "#19 /app/vendor/laravel/framework/src/Foo19.php") {
						t.Errorf("body lacks frame #19")
					}
					if strings.Contains(body, "#20 /app") {
						t.Errorf("body shows frame #20")
					}
					if !strings.Contains(body, "and 11 more frames") {
						t.Errorf("body lacks the count of left-out frames")
					}
				}
			},
		},
		{
			name:  "truncates a 1 MB trace and a 1 MB message",
			event: failedEvent("RuntimeException", strings.Repeat("m", 1<<20), huge),
			check: func(t *testing.T, p parsed) {
				if len(p.text) > 64<<10 || len(p.html) > 64<<10 {
					t.Errorf("parts are %d and %d bytes; want them capped", len(p.text), len(p.html))
				}
				if !strings.Contains(p.text, "more frames") {
					t.Errorf("text part does not say frames were left out")
				}
				if !strings.Contains(p.text, "…") {
					t.Errorf("text part does not mark the cut message")
				}
			},
		},
		{
			name:  "replaces invalid UTF-8",
			event: failedEvent("RuntimeException", "bad \xff\xfe bytes", "#0 \xc3( frame"),
			check: func(t *testing.T, p parsed) {
				if !utf8.ValidString(p.text) || !utf8.ValidString(p.html) || !utf8.ValidString(p.subject) {
					t.Errorf("a part is not valid UTF-8")
				}
				if !strings.Contains(p.text, "bad \uFFFD bytes") {
					t.Errorf("text part lacks the replaced message:\n%s", p.text)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, authed(serveSTARTTLS), nil)
			tt.check(t, notifyOne(t, e, tt.event))
		})
	}
}

func TestNotifyDigestIsOneMessage(t *testing.T) {
	e := setup(t, authed(serveSTARTTLS), nil)
	var events []notify.Event
	for i := range 1000 {
		ev := failedEvent("RuntimeException", fmt.Sprintf("failure number %d", i), trace(30))
		ev.ID = fmt.Sprintf("ev-%04d", i)
		ev.Operation.Name = fmt.Sprintf("2024_01_13_120000_Op%04d", i)
		events = append(events, ev)
	}
	p := notifyOne(t, e, events...)
	if want := "[seqwatch] app: 1000 events"; p.subject != want {
		t.Errorf("Subject = %q, want %q", p.subject, want)
	}
	for _, body := range []string{p.text, p.html} {
		if !strings.Contains(body, "2024_01_13_120000_Op0000") || !strings.Contains(body, "failure number 0") {
			t.Errorf("digest lacks the first event")
		}
		if !strings.Contains(body, "and 750 more events") {
			t.Errorf("digest does not count the events it left out")
		}
	}
	if got := e.srv.messages()[0].To; len(got) != len(testRecipients) {
		t.Errorf("RCPT TO = %v", got)
	}
}

func TestSubject(t *testing.T) {
	one := failedEvent("RuntimeException", "boom", "")
	other := one
	other.App = "billing"
	tests := []struct {
		name   string
		events []notify.Event
		want   string
	}{
		{"one failed operation", []notify.Event{one}, "[seqwatch] app: operation.failed 2024_01_13_120000_FailedOperation: RuntimeException"},
		{"several events of one app", []notify.Event{one, one, one}, "[seqwatch] app: 3 events"},
		{"several apps", []notify.Event{one, other}, "[seqwatch] 2 events in 2 apps"},
		{"digest event", []notify.Event{{Kind: notify.Digest, App: "app", Items: []notify.Event{one, one}}}, "[seqwatch] app: 2 events"},
		{"reminder of one event", []notify.Event{{Kind: notify.Reminder, App: "app", Items: []notify.Event{one}}}, "[seqwatch] app: reminder: operation.failed 2024_01_13_120000_FailedOperation: RuntimeException"},
		{"source unreachable", []notify.Event{{Kind: notify.SourceUnreachable, App: "app", Summary: "database\r\nunreachable"}}, "[seqwatch] app: source.unreachable: database unreachable"},
		{"deferred failure", []notify.Event{{Kind: notify.DeferredFailed, App: "app", Deferred: &notify.DeferredError{Operation: "SendInvoices"}}}, "[seqwatch] app: deferred.failed SendInvoices"},
		{"control and format characters stripped", []notify.Event{{Kind: notify.Test, App: "a\x00b\u202e\tc", Summary: "x"}}, "[seqwatch] ab c: test: x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := render("[seqwatch]", tt.events, nil)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.want {
				t.Errorf("subject = %q, want %q", m.Subject, tt.want)
			}
		})
	}
	t.Run("long subject capped", func(t *testing.T) {
		ev := failedEvent(strings.Repeat("VeryLongException", 100), "", "")
		m, err := render("[seqwatch]", []notify.Event{ev}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(m.Subject); n > maxSubjectRunes {
			t.Errorf("subject has %d runes, want at most %d", n, maxSubjectRunes)
		}
	})
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		return Config{Host: "smtp.example.com", From: "alerts@example.com", To: []string{"ops@example.com"}}
	}
	t.Run("defaults", func(t *testing.T) {
		c := valid()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.Port != 587 || c.TLS != TLSStartTLS || c.SubjectPrefix != "[seqwatch]" || c.Timeout != 10*time.Second || c.InsecureSkipVerify {
			t.Errorf("defaults = %+v", c)
		}
	})
	t.Run("implicit TLS defaults to port 465", func(t *testing.T) {
		c := valid()
		c.TLS = TLSImplicit
		if err := c.Validate(); err != nil || c.Port != 465 {
			t.Errorf("port = %d, err = %v", c.Port, err)
		}
	})
	t.Run("tls none to a local relay without auth", func(t *testing.T) {
		c := valid()
		c.Host, c.TLS = "smtp.example.com", TLSNone
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	})
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"missing host", func(c *Config) { c.Host = "" }, "host: must be set"},
		{"host with port", func(c *Config) { c.Host = "smtp.example.com:25" }, "host: must not include a port"},
		{"host as URL", func(c *Config) { c.Host = "smtp://smtp.example.com" }, "host: must be a host name, not a URL"},
		{"port out of range", func(c *Config) { c.Port = 70000 }, "port: must be between 1 and 65535"},
		{"unknown tls", func(c *Config) { c.TLS = "ssl" }, `tls: must be starttls, implicit or none (got "ssl")`},
		{"bad from", func(c *Config) { c.From = "not an address" }, "from: is not a valid address"},
		{"missing from", func(c *Config) { c.From = "" }, "from: must be set"},
		{"no recipients", func(c *Config) { c.To = nil }, "to: must list at least one recipient"},
		{"bad recipient", func(c *Config) { c.To = []string{"ops@example.com", "a@b, c@d"} }, "to[1]: is not a valid address"},
		{"password without username", func(c *Config) { c.Password = "x" }, "username: must be set when password is set"},
		{"username without password", func(c *Config) { c.Username = "u" }, "password: must be set when username is set"},
		{"password in clear to a remote host", func(c *Config) { c.TLS, c.Username, c.Password = TLSNone, "u", "p" }, "tls: none would send the password unencrypted"},
		{"subject prefix with a line break", func(c *Config) { c.SubjectPrefix = "[a]\r\nBcc: x@y" }, "subject_prefix: must not contain control characters"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout: must be positive"},
		{"helo with spaces", func(c *Config) { c.HELO = "my host" }, "helo: must be a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "p\"") && c.Password == "p" {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	t.Run("tls none with auth to loopback is allowed", func(t *testing.T) {
		c := valid()
		c.Host, c.TLS, c.Username, c.Password = "127.0.0.1", TLSNone, "u", "p"
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	})
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	_, err := New(Config{Host: "smtp.example.com", Username: "u", Password: testPassword}, nil)
	if err == nil {
		t.Fatal("New accepted a config without from and to")
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Errorf("error shows the password: %v", err)
	}
}
