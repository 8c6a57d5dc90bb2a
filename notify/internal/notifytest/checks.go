package notifytest

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

// Setup makes a notifier that sends to a new fake receiver of the
// channel's (which enforces the service's own limits), and the function
// that returns the messages the receiver has accepted so far, each as the
// test compares it (the body, or what the golden file holds).
type Setup func(t *testing.T) (n notify.Notifier, accepted func() [][]byte)

// sendOne sends events through n and returns the one message the
// receiver accepted; any other count, or an error, fails the test.
func sendOne(t *testing.T, n notify.Notifier, accepted func() [][]byte, events ...notify.Event) []byte {
	t.Helper()
	if _, err := n.Notify(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	got := accepted()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	return got[0]
}

// Golden is one default message a golden file holds.
type Golden struct {
	Name   string         // the file is testdata/<Name><ext>
	Events []notify.Event // sent in one Notify call
	Want   string         // what the message must hold besides ("" for nothing)
}

// GoldenMessages sends each case's events to a receiver of its own and
// compares the one message it accepts with the case's golden file (go
// test -update rewrites them). A file ending in .json.golden is compared as
// JSON, indented (testkit.GoldenJSON); any other as it is (testkit.Golden).
func GoldenMessages(t *testing.T, ext string, cases []Golden, setup Setup, update *bool) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			n, accepted := setup(t)
			got := sendOne(t, n, accepted, c.Events...)
			if c.Want != "" && !strings.Contains(string(got), c.Want) {
				t.Errorf("the message does not hold %q:\n%s", c.Want, got)
			}
			path := filepath.Join("testdata", c.Name+ext)
			if strings.HasSuffix(ext, ".json.golden") {
				testkit.GoldenJSON(t, path, got, update)
			} else {
				testkit.Golden(t, path, got, update)
			}
		})
	}
}

// ParseTemplates parses one operation.failed template of title and body,
// with the page's address https://seqwatch.example.com/.
func ParseTemplates(t *testing.T, title, body string) *notify.Templates {
	t.Helper()
	tpl, errs := notify.ParseTemplates(notify.TemplateSources{"operation.failed": {Title: title, Body: body}},
		notify.TemplateOptions{PageURL: "https://seqwatch.example.com/"})
	if errs != nil {
		t.Fatal(errs)
	}
	return tpl
}

// HostileTemplates put database text (an exception message carrying the
// service's mention markup) into both parts, around words and markup of
// their own.
func HostileTemplates(t *testing.T) *notify.Templates {
	t.Helper()
	return ParseTemplates(t, "TEMPLATED {{.Error.Message}} in {{.App}}", "TEMPLATED **{{.Summary}}**\n{{.Error.Message}}\n{{.PageURL}}")
}

// previewIsSent fails the test unless p previews events as the one
// request whose body is sent.
func previewIsSent(t *testing.T, p notify.Previewer, sent []byte, events ...notify.Event) {
	t.Helper()
	r, err := p.Preview(events)
	if err != nil || len(r) != 1 || string(r[0].Body) != string(sent) {
		t.Fatalf("preview differs from what was sent: %v", err)
	}
}

// Threads is a notify.ThreadStore in memory.
type Threads struct {
	mu sync.Mutex
	m  map[string][2]string
}

// Thread returns the channel and message recorded for key.
func (s *Threads) Thread(key string) (string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v[0], v[1], ok
}

// SetThread records the message that reported key.
func (s *Threads) SetThread(key, channel, ts string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][2]string{}
	}
	s.m[key] = [2]string{channel, ts}
}

// ClosedAddr is a loopback address where nothing listens: a request to it
// fails at once.
func ClosedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// Bodies is what body gives of each of accepted, for a Setup's accepted
// function: the bodies of a fake's requests, or what a subscriber sees.
func Bodies[T any](accepted []T, body func(T) []byte) [][]byte {
	out := make([][]byte, 0, len(accepted))
	for _, a := range accepted {
		out = append(out, body(a))
	}
	return out
}

// Refusal is what a channel's Notify must make of one refusing answer of
// its service.
type Refusal struct {
	Retry bool          // the failure is retryable
	Gone  bool          // the channel is disabled (notify.ErrDisabled)
	After time.Duration // the Retry-After the error carries; 0: not checked
}

// checkRefusal fails the test unless Notify's retry and err are the
// failure want says, and err quotes none of secrets (the URL's token, key
// or topic).
func checkRefusal(t *testing.T, retry bool, err error, want Refusal, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want retry=%v disabled=%v", want.Retry, want.Gone)
	}
	if gone := errors.Is(err, notify.ErrDisabled); retry != want.Retry || gone != want.Gone {
		t.Errorf("retry=%v disabled=%v (%v), want retry=%v disabled=%v", retry, gone, err, want.Retry, want.Gone)
	}
	if after, ok := notify.RetryAfter(err); want.After > 0 && (!ok || after != want.After) {
		t.Errorf("retry after %s (%v), want %s", after, ok, want.After)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q quotes a secret of the URL", err)
		}
	}
}

// RefusalCase is one refusing answer of a service's and what Notify must
// make of it.
type RefusalCase[A any] struct {
	Name   string
	Answer A
	Want   Refusal
}

// CheckRefusals runs each case as a subtest: send makes a notifier on a
// new receiver that gives the case's answer and returns what its Notify
// returned, which checkRefusal then checks.
func CheckRefusals[A any](t *testing.T, cases []RefusalCase[A], send func(t *testing.T, answer A) (retry bool, err error), secrets ...string) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			retry, err := send(t, c.Answer)
			checkRefusal(t, retry, err, c.Want, secrets...)
		})
	}
}

// PreviewingNotifier is a channel's notifier that can show what it would
// send.
type PreviewingNotifier interface {
	notify.Notifier
	notify.Previewer
}

// SendTemplated sends ev through n, which the caller has given
// HostileTemplates, and returns the one message the receiver accepted,
// having checked that the template worded it and that Preview shows the
// same body.
func SendTemplated(t *testing.T, n PreviewingNotifier, accepted func() [][]byte, ev notify.Event) []byte {
	t.Helper()
	sent := sendOne(t, n, accepted, ev)
	if !strings.Contains(string(sent), "TEMPLATED") {
		t.Errorf("the template did not word the message:\n%s", sent)
	}
	previewIsSent(t, n, sent, ev)
	return sent
}

// CheckConfigError fails the test unless err, what a configuration's
// Validate returned, is what the case wants: nil for a want of "", or an
// error that holds want; and unless it quotes none of secrets.
func CheckConfigError(t *testing.T, err error, want string, secrets ...string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("refused: %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("error %v, want %q", err, want)
	}
	for _, s := range secrets {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("error %q quotes a secret", err)
		}
	}
}

// CheckDeployFinished sends DeployFinished through a notifier of setup's
// and returns the one message the receiver accepted, having checked that
// it holds the deploy's summary.
func CheckDeployFinished(t *testing.T, setup Setup) []byte {
	t.Helper()
	n, accepted := setup(t)
	got := sendOne(t, n, accepted, DeployFinished())
	if !strings.Contains(string(got), "1 failed operation") {
		t.Fatalf("the message does not hold the deploy's summary:\n%s", got)
	}
	return got
}
