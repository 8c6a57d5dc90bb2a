package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

var _ notify.Notifier = (*Notifier)(nil)

// Notifier sends events to one webhook receiver. It is safe for concurrent
// use. A 410 Gone answer is an error wrapping notify.ErrDisabled: the
// daemon records it and sends nothing more to the channel until its
// configuration changes or seqwatch outbox enable (state.Disabled), so the
// Notifier itself keeps no such mark, which a running daemon could not
// clear.
type Notifier struct {
	url     string
	keys    [][]byte
	headers http.Header
	now     func() time.Time
	// sender applies the shared HTTP rules (notify.HTTPSender): the
	// timeout, the statuses, Retry-After and its cap, and errors without
	// the URL, its path or query, a secret or an extra header's value,
	// even when the receiver echoes them back.
	sender *notify.HTTPSender
	// templates write the document's text (nil: none).
	templates *notify.Templates
}

// New validates cfg and returns its Notifier. client is the HTTP client to
// send with (nil: a new default client); now is the clock for
// webhook-timestamp and Retry-After dates (nil: time.Now); logger is told
// when a receiver's Retry-After was capped (nil: discarded).
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
		now:     now,
	}
	var redact []string
	for _, s := range cfg.Secrets {
		key, err := signingKey(s.Reveal())
		if err != nil { // unreachable after Validate; kept for safety
			return nil, fmt.Errorf("webhook: %w", err)
		}
		n.keys = append(n.keys, key)
		redact = append(redact, s.Reveal())
	}
	for name, value := range cfg.Headers {
		n.headers.Set(name, value)
		redact = append(redact, value) // may be a credential
	}
	// Webhook URLs often carry a token in their path or query.
	redact = append(redact, notify.URLSecrets(n.url)...)
	n.sender = &notify.HTTPSender{Channel: "webhook", Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger, Secrets: redact}
	return n, nil
}

// Notify POSTs the events as one signed JSON document: the event itself, or
// a digest when there are several. The answer is judged by the shared rules
// (notify.HTTPSender): retry=true for 408, 425, 429, 5xx, timeouts and
// transport errors, with the receiver's Retry-After (seconds or a date)
// capped at notify.MaxRetryAfter; a 410 Gone wraps notify.ErrDisabled
// (retry=false). Sending no events does nothing.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (retry bool, err error) {
	if len(events) == 0 {
		return false, nil
	}
	req, id, err := n.newRequest(ctx, events)
	if err != nil {
		return false, err
	}
	_, retry, err = n.sender.Do(req, "POST "+id, 0)
	return retry, err
}

// newRequest is the signed request that posts the document for events,
// and the document's id.
func (n *Notifier) newRequest(ctx context.Context, events []notify.Event) (*http.Request, string, error) {
	payload, err := n.payload(events)
	if err != nil {
		return nil, "", fmt.Errorf("webhook: %w", err)
	}
	body, err := encode(payload)
	if err != nil {
		return nil, "", fmt.Errorf("webhook: encoding %s: %w", payload.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("webhook: building request: %w", n.sender.SafeError(err))
	}
	for name, values := range n.headers {
		req.Header[name] = values
	}
	n.setStandardHeaders(req.Header, payload.ID, body)
	return req, payload.ID, nil
}

// Preview is the signed request Notify would make for events, with the
// URL's token and the extra headers' secret values redacted.
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	if len(events) == 0 {
		return nil, nil
	}
	req, _, err := n.newRequest(context.Background(), events)
	if err != nil {
		return nil, err
	}
	r, err := notify.PreviewHTTP(req, n.sender.Secrets)
	return []notify.Request{r}, err
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
