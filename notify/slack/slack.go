// Package slack sends seqwatch alerts to Slack, through an incoming webhook
// or as a bot (chat.postMessage), rendered with Block Kit.
//
// All text that comes from the watched database (operation names,
// exception messages, traces) is escaped, so it can neither mention
// (<!channel>) nor link (<url|label>), and truncated to Slack's limits.
//
// It holds the channel's configuration, validation, rendering and sender;
// the thread ids of open problems are kept by the caller through
// ThreadStore. Of seqwatch it imports only notify and internal/text: it
// must not import check, state, another channel, any database driver or
// tablewriter.
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/seqwatch/seqwatch/notify"
)

// ThreadStore remembers which Slack message reported a problem, so that
// the recovery can update that message instead of posting a new one (see
// notify.ThreadStore).
type ThreadStore = notify.ThreadStore

// Option configures a Notifier.
type Option func(*Notifier)

// WithThreadStore makes a bot-mode Notifier record the message of each
// single opening event (failed, stuck, over threshold, ...) and, when the
// closing event with the same Key arrives, update that message in place.
// Without a store (or in webhook mode) every event is a new message.
func WithThreadStore(s ThreadStore) Option {
	return func(n *Notifier) { n.threads = s }
}

// WithClock sets the clock that an HTTP-date Retry-After is read against
// (nil: time.Now).
func WithClock(now func() time.Time) Option {
	return func(n *Notifier) { n.sender.Now = now }
}

// Notifier sends events to Slack. It holds no mutable state of its own.
type Notifier struct {
	cfg     Config
	client  *http.Client
	api     *slack.Client // nil in webhook mode
	threads ThreadStore
	logger  *slog.Logger
	// sender judges Slack's refusals by the shared HTTP rules
	// (notify.HTTPSender.Judge: the statuses, Retry-After and its cap)
	// and scrubs the secrets (the token, the webhook URL) from errors.
	// slack-go makes the requests.
	sender *notify.HTTPSender
	// templates word the messages (nil: the channel's own words).
	templates *notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates cfg and returns a Notifier that sends through client (nil
// means a new one). The client always gets a timeout: cfg.Timeout (default
// 10s) when it has none; the caller's client is not modified.
func New(cfg Config, client *http.Client, logger *slog.Logger, opts ...Option) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// A copy, never the caller's client: it gets a timeout when it has
	// none, and the transport that keeps Slack's answers (recorder).
	c := http.Client{Timeout: cfg.Timeout}
	if client != nil {
		c = *client
		if c.Timeout == 0 {
			c.Timeout = cfg.Timeout
		}
	}
	c.Transport = recorder{base: c.Transport}
	// A redirect is a refusal (notify.HTTPSender): a followed 302 would
	// turn the POST into a GET.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client = &c
	n := &Notifier{cfg: cfg, client: client, logger: logger.With("channel", "slack")}
	n.sender = &notify.HTTPSender{Channel: "slack", Logger: logger}
	if cfg.WebhookURL != "" {
		// The last segment of the path is the credential.
		n.sender.Secrets = notify.URLSecrets(cfg.WebhookURL.Reveal())
	} else {
		tok := cfg.Token.Reveal()
		n.sender.Secrets = []string{tok}
		opts := []slack.Option{slack.OptionHTTPClient(bearerClient{client: client, token: tok})}
		if cfg.APIURL != "" {
			opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
		}
		// slack-go's own retries stay off: the dispatcher retries.
		n.api = slack.New(tok, opts...)
	}
	for _, o := range opts {
		o(n)
	}
	return n, nil
}

// Notify sends events as one message: the event itself when there is one,
// a digest listing up to 20 of them otherwise. In bot mode the stack traces
// go into a thread reply under the alert, and (with a ThreadStore) a
// closing event updates the message that reported the problem.
//
// Refusals are judged by the shared HTTP rules (notify.HTTPSender.Judge):
// retry is true for transport errors, timeouts, 408, 425, 429 and 5xx; a
// Retry-After (seconds or an HTTP date, capped at notify.MaxRetryAfter) is
// returned as a wrapped *notify.RetryAfterError; a webhook's 410 (the
// channel was archived) wraps notify.ErrDisabled.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (retry bool, err error) {
	if len(events) == 0 {
		return false, nil
	}
	ctx = withAnswers(ctx)
	if n.api == nil {
		return n.notifyWebhook(ctx, n.buildMessage(events, false))
	}
	return n.notifyBot(ctx, events)
}

func (n *Notifier) notifyWebhook(ctx context.Context, m message) (bool, error) {
	no := false
	msg := &slack.WebhookMessage{
		Username:    n.cfg.Username,
		IconEmoji:   n.cfg.IconEmoji,
		Text:        m.text,
		Blocks:      &slack.Blocks{BlockSet: m.blocks},
		UnfurlLinks: &no,
		UnfurlMedia: &no,
	}
	// The library keeps what matters on failure: the status code, and the
	// Retry-After of a 429 (as *slack.RateLimitedError). It drops the
	// body (e.g. "no_service"), which the status code already implies.
	err := slack.PostWebhookCustomHTTPContext(ctx, n.cfg.WebhookURL.Reveal(), n.client, msg)
	if err != nil {
		return n.classify(ctx, "webhook", err)
	}
	return false, nil
}

func (n *Notifier) notifyBot(ctx context.Context, events []notify.Event) (bool, error) {
	single := len(events) == 1 && len(events[0].Items) == 0
	if single && n.threads != nil && closes(events[0].Kind) {
		if ch, ts, ok := n.threads.Thread(events[0].Key); ok {
			retry, err, done := n.updateOriginal(ctx, ch, ts, events[0])
			if done {
				return retry, err
			}
		}
	}

	m := n.buildMessage(events, true)
	ch, ts, err := n.api.PostMessageContext(ctx, n.cfg.Channel, n.msgOptions(m.text, m.blocks)...)
	if err != nil {
		return n.classify(ctx, "chat.postMessage", err)
	}
	if single && n.threads != nil && opens(events[0].Kind) && events[0].Key != "" {
		n.threads.SetThread(events[0].Key, ch, ts)
	}
	if len(m.thread) > 0 {
		opts := append(n.msgOptions(m.threadText, m.thread), slack.MsgOptionTS(ts))
		if _, _, err := n.api.PostMessageContext(ctx, ch, opts...); err != nil {
			// The alert itself is out; retrying would post it twice.
			_, err = n.classify(ctx, "chat.postMessage (thread)", err)
			n.logger.WarnContext(ctx, "posting the stack traces in the alert's thread failed", "key", events[0].Key, "err", err)
		}
	}
	return false, nil
}

// updateOriginal rewrites the message that reported ev's problem. done is
// false when that message can no longer be updated (deleted, too old):
// the caller then posts a new message.
func (n *Notifier) updateOriginal(ctx context.Context, ch, ts string, ev notify.Event) (retry bool, err error, done bool) {
	m := n.buildMessage([]notify.Event{ev}, true)
	_, _, _, err = n.api.UpdateMessageContext(ctx, ch, ts, n.msgOptions(m.text, m.blocks)...)
	if err == nil {
		return false, nil, true
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found", "is_archived":
			n.logger.InfoContext(ctx, "cannot update the original alert; posting a new message", "key", ev.Key, "reason", se.Err)
			return false, nil, false
		}
	}
	retry, err = n.classify(ctx, "chat.update", err)
	return retry, err, true
}

// msgOptions are the options of every bot message. text and blocks are
// already escaped; link_names is never set, so nothing can mention anyone.
func (n *Notifier) msgOptions(text string, blocks []slack.Block) []slack.MsgOption {
	o := []slack.MsgOption{
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	if n.cfg.Username != "" {
		o = append(o, slack.MsgOptionUsername(n.cfg.Username))
	}
	if n.cfg.IconEmoji != "" {
		o = append(o, slack.MsgOptionIconEmoji(n.cfg.IconEmoji))
	}
	return o
}

// opens reports whether k starts a problem that a later event closes.
func opens(k notify.Kind) bool {
	switch k {
	case notify.OperationFailed, notify.OperationStuck, notify.PendingThreshold, notify.SourceUnreachable:
		return true
	}
	return false
}

// closes reports whether k ends a problem; it carries the opener's Key.
func closes(k notify.Kind) bool {
	switch k {
	case notify.OperationRecovered, notify.OperationUnstuck, notify.PendingCleared, notify.SourceRecovered:
		return true
	}
	return false
}

// Slack Web API error codes worth retrying (documented for every method).
var retryableAPIErrors = map[string]bool{
	"ratelimited":         true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

// apiHints says what to do about API errors a configuration causes.
var apiHints = map[string]string{
	"invalid_auth":      "check token",
	"invalid_token":     "check token",
	"not_authed":        "check token",
	"account_inactive":  "the token's app or user was deactivated: check token",
	"token_revoked":     "the token was revoked: install the app again and update token",
	"missing_scope":     "add the chat:write scope to the app and reinstall it",
	"channel_not_found": "check channel (use the channel ID, and invite the bot to private channels)",
	"not_in_channel":    "invite the bot to the channel",
	"is_archived":       "the channel is archived: change channel",
}

// webhookHints say what a webhook status means, from Slack's list of
// incoming-webhook errors (the library drops the body that names them).
var webhookHints = map[int]string{
	http.StatusBadRequest: "invalid_payload or a similar client error",
	http.StatusForbidden:  "action_prohibited, invalid_token or posting to #general denied",
	http.StatusNotFound:   "no_service or channel_not_found: the webhook was removed, check webhook_url",
	http.StatusGone:       "channel_is_archived",
}

// classify turns a send error into (retry, error) and makes sure the error
// carries no secret: *url.Error (which quotes the URL) is taken apart.
func (n *Notifier) classify(ctx context.Context, op string, err error) (bool, error) {
	retry, err := n.classifyErr(ctx, op, err)
	if err == nil {
		return retry, nil
	}
	return retry, n.sender.SafeError(err)
}

func (n *Notifier) classifyErr(ctx context.Context, op string, err error) (bool, error) {
	var (
		rl  *slack.RateLimitedError
		sc  slack.StatusCodeError
		se  slack.SlackErrorResponse
		ue  *url.Error
		num *strconv.NumError
	)
	switch {
	case errors.As(err, &rl), errors.As(err, &sc), errors.As(err, &num):
		// An HTTP refusal. slack-go keeps its status, and a Retry-After
		// only in seconds (a date is a *strconv.NumError): the answer as
		// it came is judged instead.
		a := lastAnswer(ctx)
		switch {
		case a != nil && a.Status >= 300:
		case rl != nil:
			a = &notify.Answer{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {strconv.FormatInt(int64(rl.RetryAfter/time.Second), 10)}}}
		case sc.Code != 0:
			a = &notify.Answer{Status: sc.Code}
		default:
			return true, fmt.Errorf("slack: %s: unexpected answer: %w", op, num)
		}
		what := op
		if h := webhookHints[a.Status]; n.api == nil && h != "" {
			// The library drops the body that names the error.
			what += " (" + h + ")"
		}
		return n.sender.Judge(a, what)
	case errors.As(err, &se):
		if h := apiHints[se.Err]; h != "" {
			return false, fmt.Errorf("slack: %s: %w (%s)", op, se, h)
		}
		return retryableAPIErrors[se.Err], fmt.Errorf("slack: %s: %w", op, se)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true, fmt.Errorf("slack: %s: %w", op, notify.SafeError(err))
	case errors.As(err, &ue):
		return true, fmt.Errorf("slack: %s: %s: %w", op, ue.Op, ue.Err)
	}
	return false, fmt.Errorf("slack: %s: %w", op, notify.SafeError(err))
}

// maxAnswer bounds what is read of one Slack answer: chat.postMessage
// echoes the message back, tens of KB at most; a peer may send anything.
const maxAnswer = 1 << 20

// answersKey is the context key of a Notify call's answers.
type answersKey struct{}

// answers holds the last HTTP answer of one Notify call, which the
// recorder transport fills in: slack-go keeps of a refusal only its status.
type answers struct {
	mu   sync.Mutex
	last *notify.Answer
}

func withAnswers(ctx context.Context) context.Context {
	return context.WithValue(ctx, answersKey{}, &answers{})
}

// lastAnswer is the last answer Slack gave within ctx's Notify call.
func lastAnswer(ctx context.Context) *notify.Answer {
	a, _ := ctx.Value(answersKey{}).(*answers)
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// recorder is the transport of a Notifier's client: it keeps each
// answer's status and headers for classify, and bounds its body.
type recorder struct{ base http.RoundTripper }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	base := r.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if a, _ := req.Context().Value(answersKey{}).(*answers); a != nil {
		a.mu.Lock()
		a.last = &notify.Answer{Status: resp.StatusCode, Header: resp.Header.Clone()}
		a.mu.Unlock()
	}
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxAnswer), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// bearerClient sends the token in the Authorization header, as Slack
// recommends, instead of the form field where slack-go v0.35.0 puts it for
// chat.postMessage and chat.update.
type bearerClient struct {
	client *http.Client
	token  string
}

func (b bearerClient) Do(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	if req.Body != nil && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		raw, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("slack: re-encoding request: %w", err)
		}
		form.Del("token")
		body := []byte(form.Encode())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	return b.client.Do(r)
}
