// Package discord sends seqwatch alerts to a Discord channel through an
// incoming webhook, as one embed per message.
//
// Every request is POST <webhook_url>?wait=true, so that Discord answers
// with the message it kept and a message it did not keep is an error. It
// carries allowed_mentions {"parse": []}, so nothing in a message pings
// anyone, and database text is escaped for Discord's markdown (in prose)
// or shown in code spans and blocks (names, exceptions, messages, traces),
// so that it can neither format, link nor mention. Each part is cut to
// Discord's limits with a truncation marker, and the whole embed to
// fewer than 6,000 characters.
//
// The answers follow the shared HTTP rules (notify.HTTPSender): 429 waits
// for the retry_after of Discord's answer (or Retry-After), and 404 means
// the webhook was deleted, which disables the channel as a 410 does.
//
// A forum channel takes a thread_name: with forum: true each alert opens a
// post named after it, and the recovery goes into the failure's post.
//
// It holds the channel's configuration, validation, rendering and sender.
// Of seqwatch it imports only notify and internal/text.
package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// maxAnswer is how much of Discord's answer (the message it kept, which
// echoes the embed) is read.
const maxAnswer = 64 << 10

// codeUnknownChannel is Discord's JSON error code for a thread (forum
// post) that no longer exists; a deleted webhook is 10015.
const codeUnknownChannel = 10003

var _ notify.Notifier = (*Notifier)(nil)

// Notifier posts alerts to one Discord webhook. It is safe for concurrent
// use and holds no mutable state of its own.
type Notifier struct {
	cfg     Config
	sender  *notify.HTTPSender
	threads notify.ThreadStore // forum posts of open problems; nil: none kept
	logger  *slog.Logger
	// templates word the messages (nil: the channel's own words).
	templates *notify.Templates
}

// New validates cfg and returns its Notifier. client sends the requests
// (nil: a default client; cfg.Timeout bounds each request); now is the
// clock for Retry-After dates; logger receives what the channel logs;
// threads, for a forum channel, remembers each open problem's post.
func New(cfg Config, client *http.Client, now func() time.Time, logger *slog.Logger, threads notify.ThreadStore) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("channel_type", "discord")
	return &Notifier{
		cfg: cfg,
		sender: &notify.HTTPSender{
			Channel: "discord", Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger,
			Secrets:        notify.URLSecrets(cfg.WebhookURL.Reveal()),
			Gone:           []int{http.StatusNotFound},
			BodyRetryAfter: bodyRetryAfter,
		},
		threads: threads,
		logger:  logger,
	}, nil
}

// Notify posts the events as one message: the event itself, or a digest
// when there are several (or a Digest or Reminder event). retry is true
// for transport errors, 5xx and 429; a deleted webhook (404) wraps
// notify.ErrDisabled.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (bool, error) {
	if len(events) == 0 {
		return false, nil
	}
	p := n.payload(events)
	what := "POST " + events[0].ID
	single := len(events) == 1 && len(events[0].Items) == 0
	key := events[0].Key
	if n.cfg.Forum {
		if single && closes(events[0].Kind) && n.threads != nil {
			if thread, _, ok := n.threads.Thread(key); ok {
				retry, err, done := n.postInThread(ctx, p, thread, what)
				if done {
					return retry, err
				}
			}
		}
		p.ThreadName = threadName(p)
	}
	_, m, retry, err := n.post(ctx, p, n.cfg.ThreadID, what)
	if err != nil {
		return retry, err
	}
	if n.cfg.Forum && single && opens(events[0].Kind) && n.threads != nil && key != "" && m.ChannelID != "" {
		n.threads.SetThread(key, m.ChannelID, m.ID)
	}
	return false, nil
}

// payload is the message for events.
func (n *Notifier) payload(events []notify.Event) payload {
	p := buildPayload(events, n.templates)
	p.Username = n.cfg.Username
	return p
}

// Preview is the request Notify would make for events: a forum channel's
// new post (a recovery whose failure's post is known goes into that post
// instead, without thread_name).
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	if len(events) == 0 {
		return nil, nil
	}
	p := n.payload(events)
	if n.cfg.Forum {
		p.ThreadName = threadName(p)
	}
	req, err := n.newRequest(context.Background(), p, n.cfg.ThreadID)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	r, err := notify.PreviewHTTP(req, n.sender.Secrets)
	return []notify.Request{r}, err
}

// postInThread posts a recovery into its failure's forum post. done is
// false when the post is gone (deleted by a moderator): the caller then
// opens a new one.
func (n *Notifier) postInThread(ctx context.Context, p payload, thread, what string) (retry bool, err error, done bool) {
	a, _, retry, err := n.post(ctx, p, thread, what)
	if err != nil && a != nil && a.Status == http.StatusNotFound && errorCode(a.Body) == codeUnknownChannel {
		n.logger.InfoContext(ctx, "the failure's forum post is gone; opening a new post", "thread", thread)
		return false, nil, false
	}
	return retry, err, true
}

// sentMessage is the part of Discord's answer seqwatch reads.
type sentMessage struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
}

// post sends p with ?wait=true (and thread_id when given) and reads the
// message Discord kept. The answer is returned whenever there was one.
func (n *Notifier) post(ctx context.Context, p payload, threadID, what string) (*notify.Answer, sentMessage, bool, error) {
	var m sentMessage
	req, err := n.newRequest(ctx, p, threadID)
	if err != nil {
		return nil, m, false, fmt.Errorf("discord: %s: %w", what, err)
	}
	a, retry, err := n.sender.Do(req, what, maxAnswer)
	if err != nil {
		return a, m, retry, err
	}
	if a.BodyErr != nil {
		// Discord kept the message and its answer broke off (the sender
		// logged it): posted, though without the ids a forum thread needs.
		return a, m, false, nil
	}
	// With wait=true Discord answers with the message it kept; anything
	// else (a proxy's page, an empty 204) did not post it.
	if json.Unmarshal(a.Body, &m) != nil || m.ID == "" {
		return a, m, false, fmt.Errorf("discord: %s: answered %d without the message it kept (%q); check webhook_url", what, a.Status, n.sender.Snippet(a.Body))
	}
	return a, m, false, nil
}

// newRequest is the Execute Webhook request that posts p, with ?wait=true
// (and thread_id when given).
func (n *Notifier) newRequest(ctx context.Context, p payload, threadID string) (*http.Request, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encoding the message: %w", err)
	}
	u, err := url.Parse(n.cfg.WebhookURL.Reveal())
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	q := u.Query()
	q.Set("wait", "true")
	if threadID != "" {
		q.Set("thread_id", threadID)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), &body)
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "seqwatch")
	return req, nil
}

// errorCode is the code of a Discord error answer ({"message": …,
// "code": 10003}), or 0.
func errorCode(body []byte) int {
	var v struct {
		Code int `json:"code"`
	}
	if json.Unmarshal(body, &v) != nil {
		return 0
	}
	return v.Code
}

// bodyRetryAfter reads the retry_after (seconds, fractional) of Discord's
// 429 answer.
func bodyRetryAfter(body []byte) (time.Duration, bool) {
	var v struct {
		RetryAfter *float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &v) != nil || v.RetryAfter == nil || *v.RetryAfter < 0 {
		return 0, false
	}
	s := *v.RetryAfter
	if s > float64(notify.MaxRetryAfter/time.Second) {
		return notify.MaxRetryAfter + time.Second, true // capped, and logged, by the sender
	}
	return time.Duration(math.Round(s*1000)) * time.Millisecond, true
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
