package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/seqwatch/seqwatch/internal/text"
)

// The shared rules of every HTTP channel. They live here, beside Notifier,
// so that every channel answers the same HTTP status the same way, honours
// and caps Retry-After alike, and never prints a URL or a secret.
const (
	// MaxRetryAfter caps how long a peer may ask a channel to wait
	// (Retry-After, or a retry_after in the answer's body). It is the
	// outbox's backoff cap: a peer that asks for more is retried at the
	// cap, so that a bogus or hostile value (Retry-After: 99999999) cannot
	// park a channel for years, and a channel is never held back longer
	// than its own backoff would hold it.
	MaxRetryAfter = 2 * time.Minute
	// DefaultHTTPTimeout bounds one request when a channel does not say.
	DefaultHTTPTimeout = 10 * time.Second
	// maxAnswerSnippet is how much of a refusal's body is read; the error
	// keeps at most maxAnswerRunes runes of it.
	maxAnswerSnippet = 4 << 10
	maxAnswerRunes   = 300
	// maxDrain is how much of an answer is read and dropped so that the
	// connection can be reused; a peer may answer with anything.
	maxDrain = 64 << 10
)

// HTTPSender sends one channel's requests by the shared rules: each request
// within Timeout; transport errors, 408, 425, 429 and 5xx are worth
// retrying, with the peer's Retry-After (seconds or an HTTP date) capped at
// MaxRetryAfter; 410 Gone (and the statuses in Gone) disables the channel
// (ErrDisabled); every other answer is permanent, a redirect included: it
// is not followed, since a client that follows a 301 or 302 turns the POST
// into a GET, which a peer may answer 200 without having taken anything.
// Errors name the channel and the request, never the URL or a secret.
type HTTPSender struct {
	// Channel names the channel type in errors ("webhook", "discord").
	// Empty, errors start with the request's name: for a channel that
	// names itself around several answers (Alertmanager's replicas).
	Channel string
	// Client sends the requests (nil: http.DefaultClient's transport with
	// no overall timeout; Timeout still bounds each request).
	Client *http.Client
	// Timeout bounds each request (0: DefaultHTTPTimeout).
	Timeout time.Duration
	// Now is the clock for Retry-After dates (nil: time.Now).
	Now func() time.Time
	// Logger is told when a Retry-After was capped, and when a 2xx answer
	// broke off mid-body (nil: discarded).
	Logger *slog.Logger
	// Secrets are scrubbed from every error (tokens, passwords, the URL).
	Secrets []string
	// Gone lists the statuses besides 410 that mean the endpoint was
	// removed for good (Discord answers 404 for a deleted webhook).
	Gone []int
	// BodyRetryAfter reads a wait from a refusal's body, for services that
	// put it there (Discord's and Telegram's retry_after). It is consulted
	// for retryable answers before the Retry-After header.
	BodyRetryAfter func(body []byte) (time.Duration, bool)
}

// NewHTTPClient is the client seqwatch gives its HTTP channels (Deps.Client):
// 30s for a whole exchange, and no redirect followed, so that a body and
// its credentials are never sent on somewhere else.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Answer is a peer's answer to a request that reached it.
type Answer struct {
	Status int
	Header http.Header
	// Body is the start of the answer's body: at most the keep bytes
	// asked of Do.
	Body []byte
	// BodyErr is why a 2xx answer's body could not be read (the peer cut
	// the connection mid-body, the request's time ran out): Body then
	// holds what arrived before. Do counts such an answer as delivered;
	// a channel that needs the body (an "ok" or an id in it) decides.
	BodyErr error
}

// Do sends req within the sender's timeout (the request's own context
// still applies) and judges the answer. what names the request in errors
// ("POST evt_01H…"). keep is how many bytes of a successful answer's body
// to return (0: none). A 2xx answer returns (answer, false, nil); any other
// outcome returns the answer when there was one, whether a retry is worth
// it, and an error that says what happened.
//
// A 2xx status means the peer took the request, so a body that then fails
// to arrive does not undo it: retrying would hand the service the same
// event again under the same id. Do logs the read error, returns the
// answer with Answer.BodyErr set and what arrived in Body, and still
// reports it delivered; a channel that needs the body judges what it got.
func (s *HTTPSender) Do(req *http.Request, what string, keep int) (*Answer, bool, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	outer := req.Context()
	req = req.WithContext(ctx)
	client := http.DefaultClient
	if s.Client != nil {
		client = s.Client
	}
	// A copy that does not follow redirects (see HTTPSender); the
	// caller's client is left as it is.
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		if ctx.Err() != nil && outer.Err() == nil {
			// This request's own bound, not the caller's deadline.
			return nil, true, fmt.Errorf("%s: no answer within %s: %w", s.name(what), timeout, context.DeadlineExceeded)
		}
		return nil, true, fmt.Errorf("%s: %w", s.name(what), s.SafeError(err))
	}
	defer resp.Body.Close()
	a := &Answer{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if keep > 0 {
			a.Body, err = io.ReadAll(io.LimitReader(resp.Body, int64(keep)))
		}
		if err == nil {
			_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		}
		if err != nil {
			a.BodyErr = s.SafeError(err)
			if s.Logger != nil {
				s.Logger.Warn("the channel's peer accepted the request but its answer broke off; counted as delivered",
					slog.String("channel_type", s.Channel), slog.String("request", what),
					slog.Int("status", resp.StatusCode), slog.String("error", a.BodyErr.Error()))
			}
		}
		return a, false, nil
	}
	a.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxAnswerSnippet))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	retry, err := s.Judge(a, what)
	return a, retry, err
}

// name is how errors start: the channel and the request.
func (s *HTTPSender) name(what string) string {
	if s.Channel == "" {
		return what
	}
	return s.Channel + ": " + what
}

// Judge applies the shared rules to an answer that is not a 2xx (or that a
// channel found wanting: Slack answers 200 with ok false), for channels
// that send through a client library and see only the status.
func (s *HTTPSender) Judge(a *Answer, what string) (retry bool, err error) {
	statusErr := &StatusError{Channel: s.Channel, What: what, Status: a.Status, Snippet: s.Snippet(a.Body)}
	code := a.Status
	switch {
	case code == http.StatusGone || slices.Contains(s.Gone, code):
		return false, fmt.Errorf("%w: %w", statusErr, ErrDisabled)
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code == http.StatusTooEarly, code >= 500:
		if after, ok := s.retryAfter(a); ok {
			return true, &RetryAfterError{After: after, Err: statusErr}
		}
		return true, statusErr
	case code >= 200 && code < 300:
		return false, nil
	case code >= 300 && code < 400:
		if statusErr.Snippet == "" {
			statusErr.Snippet = "a redirect, which seqwatch does not follow; configure the address it points to"
		}
		return false, statusErr
	default:
		return false, statusErr
	}
}

// retryAfter is the wait the answer asks for, capped at MaxRetryAfter
// (and logged when capped).
func (s *HTTPSender) retryAfter(a *Answer) (time.Duration, bool) {
	after, ok := time.Duration(0), false
	if s.BodyRetryAfter != nil {
		after, ok = s.BodyRetryAfter(a.Body)
	}
	if !ok && a.Header != nil {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		after, ok = ParseRetryAfter(a.Header.Get("Retry-After"), now())
	}
	if !ok {
		return 0, false
	}
	if after > MaxRetryAfter {
		if s.Logger != nil {
			s.Logger.Warn("the channel's peer asked to wait longer than seqwatch waits; retrying at the cap",
				slog.String("channel_type", s.Channel), slog.Duration("asked", after), slog.Duration("cap", MaxRetryAfter))
		}
		after = MaxRetryAfter
	}
	return after, true
}

// ParseRetryAfter reads a Retry-After value: delay seconds or an HTTP date
// (relative to now; a date in the past means at once). It does not cap:
// HTTPSender does. A value too large for a Duration reads as a very long
// wait, which the cap then bounds.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if n < 0 || strings.HasPrefix(v, "-") {
			return 0, false
		}
		if err != nil || n > int64((1<<62)/time.Second) {
			return 1 << 62, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// StatusError is a peer's refusal: the channel, the request, the status
// and the start of the answer, cleaned (one line, printable, secrets
// redacted, bounded).
type StatusError struct {
	Channel string
	What    string
	Status  int
	Snippet string
}

func (e *StatusError) Error() string {
	// The reason phrase is the peer's text: print the standard one.
	status := strings.TrimSpace(strconv.Itoa(e.Status) + " " + http.StatusText(e.Status))
	msg := fmt.Sprintf("%s: answered %s", e.What, status)
	if e.Channel != "" {
		msg = e.Channel + ": " + msg
	}
	if e.Snippet != "" {
		msg += ": " + e.Snippet
	}
	return msg
}

// Snippet makes the start of a peer's answer safe for an error or a log:
// valid UTF-8, one line, printable, secrets redacted, at most about 300
// runes.
func (s *HTTPSender) Snippet(body []byte) string {
	if len(body) > maxAnswerSnippet {
		body = body[:maxAnswerSnippet]
	}
	v := text.Redact(strings.ToValidUTF8(string(body), "\uFFFD"), s.Secrets...)
	v = text.OneLine(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' {
			return ' '
		}
		return r
	}, v))
	return text.Truncate(v, maxAnswerRunes+1, "…")
}

// SafeError makes a transport error printable: the *url.Error wrapper and
// its URL (which may carry a token) are dropped, and whatever else names a
// secret is redacted. errors.Is and errors.As still reach the inner error.
func (s *HTTPSender) SafeError(err error) error { return SafeError(err, s.Secrets...) }

// SafeError is HTTPSender.SafeError for channels that send through a
// client library.
func SafeError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		if err == error(ue) {
			err, msg = ue.Err, ue.Err.Error()
		} else {
			// Wrapped: keep what the wrappers say, without the URL.
			msg = strings.ReplaceAll(msg, ue.Error(), ue.Err.Error())
		}
	}
	clean := text.Redact(msg, secrets...)
	if clean == err.Error() {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError carries a cleaned message for an error whose own text is
// not safe to print, keeping the chain for errors.Is/As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// ValidateURL checks a channel's endpoint: a valid absolute URL with a
// host, https, or plain http to a loopback address or with allowHTTP; no
// user name or password in it (they go in the channel's own keys). The
// error never quotes the URL, which may carry a token; example is shown as
// the shape to write ("https://discord.com/api/webhooks/…").
func ValidateURL(raw string, allowHTTP bool, example string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("required; set it to an address such as %s", example)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the URL
		}
		return fmt.Errorf("not a valid URL (%v); check for spaces or unescaped characters", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("scheme must be http or https (got %q); write it as %s", u.Scheme, example)
	}
	if u.Host == "" {
		return fmt.Errorf("has no host; write it as %s", example)
	}
	if u.User != nil {
		return errors.New("carries a user name or password; remove it from the URL and use the channel's own credential keys")
	}
	if u.Scheme == "http" && !allowHTTP && !text.IsLoopback(u.Hostname()) {
		return errors.New("plain http to a host that is not a loopback address; use an https:// address, or set allow_http: true if the peer is on a private network you trust (alerts then cross it unencrypted)")
	}
	return nil
}

// URLSecrets are the parts of an endpoint URL that carry its credential,
// for HTTPSender.Secrets, whole URL first: the URL as given and as
// parsed, its path (escaped and not), the path's last segment when it is
// longer than 8 bytes (a Discord webhook's token, an ntfy topic), the
// query and each query value (a Teams Workflows URL's sig, a Google Chat
// webhook's key and token). A peer that echoes any of them, or an error
// that quotes them, is redacted.
func URLSecrets(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	out = append(out, u.String())
	if len(u.Path) > 1 {
		out = append(out, u.EscapedPath(), u.Path)
		if i := strings.LastIndexByte(u.Path, '/'); i >= 0 && len(u.Path)-i-1 > 8 {
			out = append(out, u.Path[i+1:])
		}
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, vs := range u.Query() {
			out = append(out, vs...)
		}
	}
	return out
}
