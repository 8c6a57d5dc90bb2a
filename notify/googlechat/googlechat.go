// Package googlechat sends seqwatch alerts to a Google Chat space through
// an incoming webhook, as a card (cardsV2) with a plain-text fallback for
// notifications.
//
// Each problem has its own thread: the message carries a threadKey made
// from the application and the problem's key, and is posted with
// messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD, so that a
// recovery lands in its failure's thread (and starts a new one when that
// thread is gone). A digest of several problems starts a thread of its
// own. requestId is the event's id, so that a retry after a lost answer
// returns the message already created instead of posting it twice.
//
// The request stays within Google Chat's message size limit (32,000
// bytes): long text is cut with a truncation marker, and a card still too
// large shows less until it fits. Database text is HTML-escaped in the
// card's text (which takes Chat's HTML subset: <b>, <a href>, <font>…),
// replaced by look-alikes in the header and kept plain in the fallback, and
// a URL's "://" becomes a look-alike, so that it can neither format, link
// nor mention.
//
// Answers follow the shared HTTP rules (notify.HTTPSender); a 2xx answer
// must carry the message Chat created.
//
// It holds the channel's configuration, validation, rendering and sender.
// Of seqwatch it imports only notify and internal/text.
package googlechat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// maxAnswer is how much of Chat's answer (the message it created) is read.
const maxAnswer = 64 << 10

var _ notify.Notifier = (*Notifier)(nil)

// Notifier posts alerts to one Google Chat webhook. It is safe for
// concurrent use and holds no mutable state.
type Notifier struct {
	url    string
	sender *notify.HTTPSender
	// templates word the messages (nil: the channel's own words).
	templates *notify.Templates
}

// New validates cfg and returns its Notifier. client sends the requests
// (nil: a default client; cfg.Timeout bounds each request); now is the
// clock for Retry-After dates; logger receives what the channel logs.
func New(cfg Config, client *http.Client, now func() time.Time, logger *slog.Logger) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("googlechat: %w", err)
	}
	return &Notifier{
		url: cfg.WebhookURL.Reveal(),
		sender: &notify.HTTPSender{
			Channel: "googlechat", Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger,
			Secrets: notify.URLSecrets(cfg.WebhookURL.Reveal()),
		},
	}, nil
}

// Notify posts the events as one message: the event itself, in its
// problem's thread, or a digest when there are several (or a Digest or
// Reminder event). retry is true for transport errors, 5xx and 429.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (bool, error) {
	if len(events) == 0 {
		return false, nil
	}
	what := "POST " + events[0].ID
	req, err := n.newRequest(ctx, events)
	if err != nil {
		return false, fmt.Errorf("googlechat: %s: %w", what, err)
	}
	a, retry, err := n.sender.Do(req, what, maxAnswer)
	if err != nil {
		return retry, err
	}
	if a.BodyErr != nil {
		// Chat took the message and its answer broke off (the sender logged
		// it): sent, not an error to retry or dead-letter.
		return false, nil
	}
	var m struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(a.Body, &m) != nil || !strings.HasPrefix(m.Name, "spaces/") {
		return false, fmt.Errorf("googlechat: %s: answered %d without the message it created (%q); check webhook_url", what, a.Status, n.sender.Snippet(a.Body))
	}
	return false, nil
}

// threadKey is the thread of the problem the events are about: one per
// application and problem key, so that a failure and its recovery share
// it; empty when the events are about several problems. It is a digest of
// the two, so that neither their length nor their characters matter.
func threadKey(events []notify.Event) string {
	items := events
	if len(events) == 1 && len(events[0].Items) > 0 {
		return "" // a digest or a reminder: several problems
	}
	app, key := events[0].App, events[0].Key
	for _, ev := range items[1:] {
		if ev.App != app || ev.Key != key {
			return ""
		}
	}
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(app + "\x00" + key))
	return "seqwatch-" + hex.EncodeToString(sum[:16])
}

// newRequest is the request that posts the message for events, in the
// problem's thread.
func (n *Notifier) newRequest(ctx context.Context, events []notify.Event) (*http.Request, error) {
	key := threadKey(events)
	body, err := buildMessage(events, key, n.templates)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(n.url)
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	q := u.Query()
	if key != "" {
		q.Set("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD")
	}
	if events[0].ID != "" {
		q.Set("requestId", events[0].ID)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("User-Agent", "seqwatch")
	return req, nil
}

// Preview is the request Notify would make for events.
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	if len(events) == 0 {
		return nil, nil
	}
	req, err := n.newRequest(context.Background(), events)
	if err != nil {
		return nil, fmt.Errorf("googlechat: %w", err)
	}
	r, err := notify.PreviewHTTP(req, n.sender.Secrets)
	return []notify.Request{r}, err
}
