// Package teams sends seqwatch alerts to Microsoft Teams through a
// Workflows (Power Automate) webhook, as an Adaptive Card.
//
// The old Office 365 connector URLs (*.webhook.office.com) are retired;
// the configuration refuses them and says how to make a Workflows webhook.
// Each alert is POSTed as the message envelope the workflow's "Post card"
// step expects:
//
//	{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
//	  "contentUrl": null, "content": {"type": "AdaptiveCard", "version": "1.4", "body": […],
//	  "msteams": {"width": "full"}}}]}
//
// The whole request stays under Teams' 28 KB message limit: a long trace
// or message is cut with a truncation marker, and a card that would still
// be too large shows less until it fits. Database text goes into
// TextBlocks and facts, where Adaptive Card markdown (emphasis, lists,
// headings, links, entities, DATE/TIME functions) is neutralised with
// look-alike characters, so that it can neither format nor link.
//
// A workflow answers 202 Accepted with an empty body as soon as it has
// taken the request: Teams confirms nothing more, so a card the workflow
// later fails to post is not seen by seqwatch (the workflow's run history
// shows it). Other answers follow the shared HTTP rules
// (notify.HTTPSender).
//
// It holds the channel's configuration, validation, rendering and sender.
// Of seqwatch it imports only notify and internal/text.
package teams

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

var _ notify.Notifier = (*Notifier)(nil)

// Notifier posts alerts to one Workflows webhook. It is safe for
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
		return nil, fmt.Errorf("teams: %w", err)
	}
	return &Notifier{
		url: cfg.WebhookURL.Reveal(),
		sender: &notify.HTTPSender{
			Channel: "teams", Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger,
			Secrets: notify.URLSecrets(cfg.WebhookURL.Reveal()),
		},
	}, nil
}

// Notify posts the events as one card: the event itself, or a digest when
// there are several (or a Digest or Reminder event). Any 2xx is success
// (the workflow answers 202 and nothing more); retry is true for transport
// errors, 5xx and 429.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (bool, error) {
	if len(events) == 0 {
		return false, nil
	}
	what := "POST " + events[0].ID
	req, err := n.newRequest(ctx, events)
	if err != nil {
		return false, fmt.Errorf("teams: %s: %w", what, err)
	}
	_, retry, err := n.sender.Do(req, what, 0)
	return retry, err
}

// newRequest is the request that posts the card for events.
func (n *Notifier) newRequest(ctx context.Context, events []notify.Event) (*http.Request, error) {
	body, err := buildMessage(events, n.templates)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	req.Header.Set("Content-Type", "application/json")
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
		return nil, fmt.Errorf("teams: %w", err)
	}
	r, err := notify.PreviewHTTP(req, n.sender.Secrets)
	return []notify.Request{r}, err
}
