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
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

// strictParse is the Python 3 program that reads one message from stdin
// with the email package's strict policy (every defect raises) and prints
// its Subject, the defects of every header, and its text parts as JSON.
const strictParse = `
import sys, json, email, email.policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.strict)
out = {"subject": str(m["subject"]), "defects": [], "parts": {}}
for part in m.walk():
    out["defects"] += [repr(d) for d in part.defects]
    for name, value in part.items():
        out["defects"] += [name + ": " + repr(d) for d in getattr(value, "defects", ())]
    if part.get_content_maintype() == "text":
        out["parts"][part.get_content_type()] = part.get_content()
print(json.dumps(out))
`

type pyParsed struct {
	Subject string            `json:"subject"`
	Defects []string          `json:"defects"`
	Parts   map[string]string `json:"parts"`
}

// parseStrictly parses the message as Python's email package does with
// policy=email.policy.strict. It skips the test, saying why, without
// python3 (fails it under CI).
func parseStrictly(t *testing.T, data []byte) pyParsed {
	t.Helper()
	py := testkit.RequireBinary(t, "python3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", strictParse)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Python's strict parser rejected the message: %v\n%s\nmessage:\n%s", err, stderr.String(), data)
	}
	var p pyParsed
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	return p
}

// anchored is how a mail filter recognises seqwatch's messages.
var anchored = regexp.MustCompile(`^\[seqwatch\] `)

func formatChar(s string) int {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) })
}

// Every message, whatever its subject, is read back by a strict parser
// (Python's email package) and by Go's net/mail with the exact subject
// rendered: no leading space from a fold, nothing decoded that was not
// encoded, no format character, no defect.
func TestSubjectSurvivesStrictParsers(t *testing.T) {
	long := strings.Repeat("Ünïcödé ", 40)
	tests := []struct {
		name string
		edit func(*notify.Event)
		want string
	}{
		{
			name: "ASCII",
			want: "[seqwatch] app: operation.failed 2024_01_13_120000_FailedOperation: RuntimeException",
		},
		{
			name: "non-ASCII exception",
			edit: func(e *notify.Event) { e.Errors[0].Exception = `App\Exceptions\ZahlungFehlgeschlagenÄÖÜ` },
			want: `[seqwatch] app: operation.failed 2024_01_13_120000_FailedOperation: App\Exceptions\ZahlungFehlgeschlagenÄÖÜ`,
		},
		{
			name: "non-ASCII app name first",
			edit: func(e *notify.Event) { e.App = "Bücherei-Ünïcödé-Produktion" },
			want: "[seqwatch] Bücherei-Ünïcödé-Produktion: operation.failed 2024_01_13_120000_FailedOperation: RuntimeException",
		},
		{
			name: "long non-ASCII subject, capped",
			edit: func(e *notify.Event) { e.Errors[0].Exception = long },
			want: truncate("[seqwatch] app: operation.failed 2024_01_13_120000_FailedOperation: "+strings.TrimSpace(long), maxSubjectRunes),
		},
		{
			name: "long ASCII words",
			edit: func(e *notify.Event) {
				e.Operation.Name = strings.Repeat("VeryLongOperationName", 4)
				e.Errors[0].Exception = strings.Repeat(`Illuminate\Database\`, 3) + "QueryException"
			},
			want: "[seqwatch] app: operation.failed " + strings.Repeat("VeryLongOperationName", 4) + ": " + strings.Repeat(`Illuminate\Database\`, 3) + "QueryException",
		},
		{
			name: "zero-width and bidi characters removed",
			edit: func(e *notify.Event) {
				e.App = "sh\u200bop\u200d"
				e.Errors[0].Exception = "Runtime\ufeffException\u202e\u2066x\u2069\u00ad"
			},
			want: "[seqwatch] shop: operation.failed 2024_01_13_120000_FailedOperation: RuntimeExceptionx",
		},
		{
			name: "text that looks like an encoded word is shown as written",
			edit: func(e *notify.Event) { e.Errors[0].Exception = "=?UTF-8?q?Bcc:_evil?=" },
			want: "[seqwatch] app: operation.failed 2024_01_13_120000_FailedOperation: =?UTF-8?q?Bcc:_evil?=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := failedEvent("RuntimeException", "boom", trace(3))
			if tt.edit != nil {
				tt.edit(&ev)
			}
			e := setup(t, authed(serveSTARTTLS), nil)
			p := notifyOne(t, e, ev)
			raw := e.srv.messages()[0].Data

			py := parseStrictly(t, raw)
			if py.Subject != tt.want {
				t.Errorf("Python reads Subject %q, want %q", py.Subject, tt.want)
			}
			if !anchored.MatchString(py.Subject) {
				t.Errorf("Python's Subject %q does not match %s", py.Subject, anchored)
			}
			if len(py.Defects) > 0 {
				t.Errorf("defects: %v", py.Defects)
			}
			if p.subject != tt.want {
				t.Errorf("net/mail + mime read Subject %q, want %q", p.subject, tt.want)
			}
			for _, line := range strings.Split(p.rawHead, "\r\n") {
				if len(line) > 78 {
					t.Errorf("header line of %d characters: %q", len(line), line)
				}
			}
			for name, s := range map[string]string{"subject": py.Subject, "text": py.Parts["text/plain"], "html": py.Parts["text/html"]} {
				if i := formatChar(s); i >= 0 {
					t.Errorf("%s has format character %U", name, []rune(s[i:])[0])
				}
			}
		})
	}
}

// The body counts the frames left out of the whole recorded trace, not of
// the part the event carries, and shows no format character.
func TestBodyCountsWholeTraceAndDropsFormatCharacters(t *testing.T) {
	ev := failedEvent("RuntimeException", "pay\u200bment de\u2060clined \u202eevil\u202c\ufeff", trace(30))
	ev.Errors[0].TraceFrames, ev.Errors[0].TraceBytes = 9187, 812345
	ev.Summary = "2024_01_13_120000_FailedOperation failed: pay\u200dment"
	e := setup(t, authed(serveSTARTTLS), nil)
	notifyOne(t, e, ev)
	py := parseStrictly(t, e.srv.messages()[0].Data)
	if len(py.Defects) > 0 {
		t.Errorf("defects: %v", py.Defects)
	}
	for _, typ := range []string{"text/plain", "text/html"} {
		body := py.Parts[typ]
		if !strings.Contains(body, "and 9167 more frames") {
			t.Errorf("%s part does not count the 9,167 frames left out of 9,187:\n%s", typ, body)
		}
		if !strings.Contains(body, "payment declined evil") {
			t.Errorf("%s part lacks the cleaned message", typ)
		}
		if i := formatChar(body); i >= 0 {
			t.Errorf("%s part has format character %U", typ, []rune(body[i:])[0])
		}
	}
}

// The subject and the digest line name the headline error (the newest),
// as check and the daemon's summary do, not the first recorded.
func TestSubjectNamesTheNewestError(t *testing.T) {
	ev := failedEvent("LogicException", "first attempt", "")
	newer := ev.Errors[0]
	newer.Exception, newer.Message = "PaymentFailed", "card declined"
	newer.CreatedAt = newer.CreatedAt.Add(time.Minute)
	ev.Errors = append(ev.Errors, newer)
	m, err := render("[seqwatch]", []notify.Event{ev}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[seqwatch] app: operation.failed 2024_01_13_120000_FailedOperation: PaymentFailed"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	if l := listLine(ev, false); !strings.HasSuffix(l, "PaymentFailed: card declined") {
		t.Errorf("digest line = %q", l)
	}
}

// testCA is a private CA and a server certificate for 127.0.0.1 it signed.
func testCA(t *testing.T, name string) (caPEM string, server tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "smtp.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	return caPEM, tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

// ca_file makes a server whose certificate a private CA signed trusted,
// over STARTTLS and implicit TLS, and nothing else; without it the send
// fails for good, saying to set ca_file.
func TestPrivateCA(t *testing.T) {
	caPEM, serverCert := testCA(t, "seqwatch test private CA")
	otherPEM, _ := testCA(t, "some other CA")
	tests := []struct {
		name      string
		mode      serverMode
		ca        string
		delivered bool
		errHas    string
	}{
		{name: "starttls with ca_file", mode: serveSTARTTLS, ca: caPEM, delivered: true},
		{name: "implicit TLS with ca_file", mode: serveImplicit, ca: caPEM, delivered: true},
		{name: "system roots only", mode: serveSTARTTLS, errHas: "set ca_file"},
		{name: "another CA", mode: serveSTARTTLS, ca: otherPEM, errHas: "set ca_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, authed(tt.mode), serverCert)
			cfg := Config{
				Host: srv.host, Port: srv.port, Username: testUser, Password: testPassword,
				From: "alerts@example.com", To: []string{"ops@example.com"}, Timeout: 5 * time.Second,
				CA: tt.ca,
			}
			if tt.mode == serveImplicit {
				cfg.TLS = TLSImplicit
			}
			n, err := New(cfg, nil, WithNow(fixedNow))
			if err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(context.Background(), []notify.Event{failedEvent("RuntimeException", "boom", "")})
			if tt.delivered {
				if err != nil || len(srv.messages()) != 1 {
					t.Fatalf("Notify = %v, %v with %d messages; want delivered", retry, err, len(srv.messages()))
				}
				return
			}
			if err == nil || retry || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("Notify = %v, %v; want a permanent error containing %q", retry, err, tt.errHas)
			}
			if srv.auths() != 0 || len(srv.messages()) != 0 {
				t.Errorf("the untrusted server got %d AUTH and %d messages", srv.auths(), len(srv.messages()))
			}
		})
	}
	t.Run("ca_file without a certificate is a configuration error", func(t *testing.T) {
		c := Config{Host: "smtp.example.com", From: "alerts@example.com", To: []string{"ops@example.com"}, CA: "not a certificate"}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ca_file: holds no PEM certificate") {
			t.Errorf("Validate() = %v", err)
		}
	})
}
