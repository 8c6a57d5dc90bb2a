package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// maxErrorBody is how much of a failed answer's body is read into the error;
// a receiver could answer with anything, of any size.
const maxErrorBody = 4 << 10

// maxRetryAfter bounds a Retry-After in seconds; larger values are
// ignored rather than overflowing a Duration. The Dispatcher applies its own
// limits.
const maxRetryAfter = 365 * 24 * time.Hour

// maxErrorText is how many runes of that body the error keeps.
const maxErrorText = 512

var _ notify.Notifier = (*Notifier)(nil)

// Notifier sends events to one webhook receiver. It is safe for concurrent
// use. After the receiver answers 410 Gone it refuses to send until it is
// replaced by a new Notifier (a configuration reload).
type Notifier struct {
	url     string
	keys    [][]byte
	headers http.Header
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
	logger  *slog.Logger
	// redact are strings that must not reach an error even when the
	// receiver echoes them back in its answer (URL, path, query, secrets,
	// extra header values).
	redact []string

	// disabled holds the error of the 410 answer once there was one.
	disabled atomic.Pointer[error]
}

// New validates cfg and returns its Notifier. client is the HTTP client to
// send with (nil: a new default client); now is the clock for
// webhook-timestamp and Retry-After dates (nil: time.Now); logger receives
// the disabling message (nil: discarded).
func New(cfg Config, client *http.Client, now func() time.Time, logger *slog.Logger) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if client == nil {
		client = &http.Client{}
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{
		url:     cfg.URL.Reveal(),
		headers: http.Header{},
		timeout: cfg.Timeout,
		client:  client,
		now:     now,
		logger:  logger,
	}
	for _, s := range cfg.Secrets {
		key, err := signingKey(s.Reveal())
		if err != nil { // unreachable after Validate; kept for safety
			return nil, fmt.Errorf("webhook: %w", err)
		}
		n.keys = append(n.keys, key)
		n.redact = append(n.redact, s.Reveal())
	}
	for name, value := range cfg.Headers {
		n.headers.Set(name, value)
		n.redact = append(n.redact, value) // may be a credential
	}
	n.redact = append(n.redact, n.url)
	if u, err := url.Parse(n.url); err == nil {
		if len(u.Path) > 1 {
			n.redact = append(n.redact, u.Path, u.EscapedPath())
		}
		if u.RawQuery != "" {
			n.redact = append(n.redact, u.RawQuery)
		}
		for _, vs := range u.Query() {
			n.redact = append(n.redact, vs...)
		}
		if p, ok := u.User.Password(); ok {
			n.redact = append(n.redact, p)
		}
	}
	return n, nil
}

// Notify POSTs the events as one signed JSON document: the event itself, or
// a digest when there are several. It reports retry=true for 429, 5xx, 408,
// timeouts and transport errors, and wraps notify.ErrDisabled (retry=false)
// once the receiver has answered 410 Gone. Sending no events does nothing.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (retry bool, err error) {
	if p := n.disabled.Load(); p != nil {
		return false, *p
	}
	if len(events) == 0 {
		return false, nil
	}
	payload, err := BuildPayload(events)
	if err != nil {
		return false, fmt.Errorf("webhook: %w", err)
	}
	body, err := encode(payload)
	if err != nil {
		return false, fmt.Errorf("webhook: encoding %s: %w", payload.ID, err)
	}

	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook: building request: %w", stripURL(err))
	}
	for name, values := range n.headers {
		req.Header[name] = values
	}
	n.setStandardHeaders(req.Header, payload.ID, body)

	resp, err := n.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("webhook: POST %s: %w", payload.ID, n.safeError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return false, nil
	}
	snippet := n.readSnippet(resp.Body)
	// The reason phrase is the receiver's text: print the standard one.
	status := strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	statusErr := fmt.Errorf("webhook: POST %s: receiver answered %s%s", payload.ID, strings.TrimSpace(status), snippet)

	switch code := resp.StatusCode; {
	case code == http.StatusGone:
		err := fmt.Errorf("%w: %w", statusErr, notify.ErrDisabled)
		if n.disabled.CompareAndSwap(nil, &err) {
			n.logger.Error("webhook endpoint answered 410 Gone; disabled until the configuration is reloaded",
				slog.String("event_id", payload.ID))
		}
		return false, *n.disabled.Load()
	case code == http.StatusTooManyRequests, code >= 500:
		if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), n.now()); ok {
			return true, &notify.RetryAfterError{After: after, Err: statusErr}
		}
		return true, statusErr
	case code == http.StatusRequestTimeout:
		return true, statusErr
	default:
		return false, statusErr
	}
}

// setStandardHeaders sets Content-Type and the Standard Webhooks headers.
// webhook-id and webhook-timestamp go out even without secrets: receivers
// deduplicate on the id.
func (n *Notifier) setStandardHeaders(h http.Header, id string, body []byte) {
	ts := strconv.FormatInt(n.now().Unix(), 10)
	h.Set("Content-Type", "application/json")
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", "seqwatch-webhook")
	}
	// The convention spells these in lower case; set them verbatim.
	h["webhook-id"] = []string{id}
	h["webhook-timestamp"] = []string{ts}
	if len(n.keys) == 0 {
		return
	}
	sigs := make([]string, len(n.keys))
	for i, key := range n.keys {
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(sign(key, id, ts, body))
	}
	h["webhook-signature"] = []string{strings.Join(sigs, " ")}
}

// readSnippet returns ": <text>" from the start of an error answer, made
// safe to log: one line, valid UTF-8, printable, bounded, and without the
// URL or secrets should the receiver echo them.
func (n *Notifier) readSnippet(r io.Reader) string {
	raw, _ := io.ReadAll(io.LimitReader(r, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	s := text.Redact(strings.ToValidUTF8(string(raw), "\uFFFD"), n.redact...)
	s = text.OneLine(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' {
			return ' '
		}
		return r
	}, s))
	if s == "" {
		return ""
	}
	// maxErrorText runes of the answer, then the ellipsis.
	return ": " + text.Truncate(s, maxErrorText+1, "…")
}

// safeError makes a transport error printable: the *url.Error wrapper and
// its URL are dropped, and whatever else names the URL or a secret (a
// custom RoundTripper's message, say) is redacted. errors.Is and errors.As
// still reach the inner error.
func (n *Notifier) safeError(err error) error {
	inner := stripURL(err)
	return &redactedError{msg: text.Redact(inner.Error(), n.redact...), err: inner}
}

// redactedError carries a cleaned message for an error whose own text is
// not safe to print.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// stripURL drops the URL that *url.Error quotes (it may carry a token) and
// keeps its inner error, which errors.Is/As can still inspect.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date
// (relative to now). A date in the past means retry now.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 || s > int64(maxRetryAfter/time.Second) {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
