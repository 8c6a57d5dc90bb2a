// Package ntfy sends seqwatch alerts to an ntfy topic (ntfy.sh or a
// self-hosted server), which phones subscribed to it show as
// notifications.
//
// Each alert is one POST to the topic's URL: the title, the priority (5
// for a failure, 4 for a warning, 3 for a recovery or a test) and tags
// (an emoji and the event's kind) as headers, optionally Click (a page to
// open when the notification is tapped), and a plain-text body within
// ntfy's 4,096-byte message limit, cut at a line with a truncation marker
// (ntfy would turn a longer body into an attachment). A title that is not
// ASCII is sent as an RFC 2047 encoded word, which ntfy decodes. Markdown
// is never asked for, so the body is shown as written; a URL's "://" in
// database text becomes a look-alike, so that nothing links.
//
// Authentication is a bearer token or basic auth. Answers follow the
// shared HTTP rules (notify.HTTPSender); a 2xx answer must carry the
// message ntfy published.
//
// It holds the channel's configuration, validation, rendering and sender.
// Of seqwatch it imports only notify and internal/text.
package ntfy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// maxAnswer is how much of ntfy's answer (the message it published) is
// read.
const maxAnswer = 16 << 10

var _ notify.Notifier = (*Notifier)(nil)

// Notifier publishes alerts to one ntfy topic. It is safe for concurrent
// use and holds no mutable state.
type Notifier struct {
	cfg    Config
	sender *notify.HTTPSender
	// templates word the notifications (nil: the channel's own words).
	templates *notify.Templates
}

// New validates cfg and returns its Notifier. client sends the requests
// (nil: a default client; cfg.Timeout bounds each request); now is the
// clock for Retry-After dates; logger receives what the channel logs.
func New(cfg Config, client *http.Client, now func() time.Time, logger *slog.Logger) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ntfy: %w", err)
	}
	return &Notifier{
		cfg: cfg,
		sender: &notify.HTTPSender{
			Channel: "ntfy", Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger,
			Secrets: secrets(cfg),
		},
	}, nil
}

// secrets are what no error may show: the URL and its topic, the token,
// the password.
func secrets(cfg Config) []string {
	out := notify.URLSecrets(cfg.URL.Reveal())
	if u, err := url.Parse(cfg.URL.Reveal()); err == nil {
		path := strings.TrimSuffix(u.Path, "/")
		out = append(out, path[strings.LastIndexByte(path, '/')+1:])
	}
	return append(out, cfg.Token.Reveal(), cfg.Password.Reveal())
}

// Notify publishes the events as one notification: the event itself, or
// a digest when there are several (or a Digest or Reminder event). retry
// is true for transport errors, 5xx and 429.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (bool, error) {
	if len(events) == 0 {
		return false, nil
	}
	what := "POST " + events[0].ID
	req, err := n.newRequest(ctx, events)
	if err != nil {
		return false, fmt.Errorf("ntfy: %s: %w", what, err)
	}
	a, retry, err := n.sender.Do(req, what, maxAnswer)
	if err != nil {
		return retry, err
	}
	if a.BodyErr != nil {
		// ntfy took the message and its answer broke off (the sender logged
		// it): published, not an error to retry or dead-letter.
		return false, nil
	}
	var published struct {
		ID    string `json:"id"`
		Event string `json:"event"`
	}
	if json.Unmarshal(a.Body, &published) != nil || published.ID == "" || published.Event != "message" {
		return false, fmt.Errorf("ntfy: %s: answered %d without the message it published (%q); check url", what, a.Status, n.sender.Snippet(a.Body))
	}
	return false, nil
}

// newRequest is the request that publishes the notification for events.
func (n *Notifier) newRequest(ctx context.Context, events []notify.Event) (*http.Request, error) {
	m := buildMessage(events, n.templates)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL.Reveal(), strings.NewReader(m.body))
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	h := req.Header
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("User-Agent", "seqwatch")
	h.Set("Title", headerText(m.title))
	h.Set("Priority", strconv.Itoa(m.priority))
	h.Set("Tags", strings.Join(m.tags, ","))
	if n.cfg.Click != "" {
		h.Set("Click", n.cfg.Click)
	}
	switch {
	case n.cfg.Token != "":
		h.Set("Authorization", "Bearer "+n.cfg.Token.Reveal())
	case n.cfg.Username != "":
		req.SetBasicAuth(n.cfg.Username, n.cfg.Password.Reveal())
	}
	return req, nil
}

// Preview is the request Notify would make for events, without its
// credentials.
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	if len(events) == 0 {
		return nil, nil
	}
	req, err := n.newRequest(context.Background(), events)
	if err != nil {
		return nil, fmt.Errorf("ntfy: %w", err)
	}
	r, err := notify.PreviewHTTP(req, n.sender.Secrets)
	return []notify.Request{r}, err
}

// headerText is a header's value: as it is when it is printable ASCII,
// RFC 2047 encoded words otherwise (ntfy decodes them).
func headerText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return mime.BEncoding.Encode("utf-8", s)
		}
	}
	if strings.Contains(s, "=?") {
		// ntfy would decode an encoded word written in the text itself
		// (which could spell a control character): inside one, it does
		// not decode again.
		return mime.BEncoding.Encode("utf-8", s)
	}
	return s
}
