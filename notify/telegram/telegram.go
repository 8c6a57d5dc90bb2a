// Package telegram is seqwatch's Telegram channel: a bot posts each alert
// to a chat (a group, a channel, or one topic of a forum group) with the
// Bot API's sendMessage.
//
// It holds the channel's configuration, validation, rendering and sender.
// Of seqwatch it imports only the notify core and internal/text (with the
// internal/event and internal/secret leaves beneath notify): it must not
// import check, state, another channel or any database driver.
//
// # Messages
//
// Every Notify call is one message (and perhaps its trace file), sent with parse_mode HTML and link
// previews off (link_preview_options, and disable_web_page_preview for Bot
// API servers older than 7.0): a title in bold, the details in a <pre>
// block, and seqwatch's footer with the event's id. Several events become
// one digest listing up to 20 of them. Text from the database is cleaned
// and escaped (&, <, >), and stays inside the <pre> block, where Telegram
// detects no mentions, links, hashtags or bot commands; the title, which
// it does scan, carries no database text by default and has any @ written
// as the fullwidth ＠. A message stays within Telegram's 4096 characters
// (counted, as Telegram does, in UTF-16 code units after the HTML is
// parsed): an event shows its first 15 trace frames and how many it leaves
// out, and whatever still does not fit is cut after its last whole line,
// with a marker.
//
// # Trace files
//
// When the message of a single failure leaves part of its error out (more
// frames, a frame or the message cut), the whole error follows it as a
// .txt file (sendDocument, a multipart upload): the exception, the whole
// message and every frame the state kept (at most 8 MiB), as a silent
// reply to the alert in its topic, captioned with seqwatch's words and the
// event's id. The file is best effort, so that an alert is never sent
// twice: the alert is delivered when its message is, and an upload that
// fails is logged with where to read the whole trace (seqwatch status
// --failed -v) rather than failing the Notify call, which the dispatcher
// would retry whole. Alerts are paced at 15 a minute and files take at
// most 5, so that a group gets no more than Telegram's 20 a minute; a
// file past its share is skipped and logged.
//
// # Recoveries
//
// With a thread store (the daemon's state), the message of each single
// opening event is remembered, and its recovery is sent as a reply to it
// (allow_sending_without_reply, so a deleted original does not lose the
// recovery).
//
// # Retries
//
// The token travels in the request's path; errors never show it. 429
// carries the wait in its body (parameters.retry_after), which is honoured
// (capped like every Retry-After); 5xx and transport errors are retried;
// every other answer (400 chat not found, 401 a wrong token, 403 the bot
// was removed from the chat) is permanent, with Telegram's description in
// the error.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// maxAnswer is how much of a successful answer is read: the sent Message,
// whose id a recovery replies to.
const maxAnswer = 256 << 10

var _ notify.Notifier = (*Notifier)(nil)

// Notifier sends events to one Telegram chat. It is safe for concurrent
// use if its thread store is.
type Notifier struct {
	cfg      Config
	base     string // APIURL/bot<token>, below which the methods are
	endpoint string // base/sendMessage
	sender   *notify.HTTPSender
	threads  notify.ThreadStore
	logger   *slog.Logger
	// docs spends the trace files' share of the chat's rate.
	docs *budget
	// templates word the messages (nil: the channel's own words).
	templates *notify.Templates
}

// Option configures a Notifier.
type Option func(*Notifier)

// WithThreadStore makes the Notifier remember the message of each single
// opening event and send its recovery as a reply to it.
func WithThreadStore(s notify.ThreadStore) Option {
	return func(n *Notifier) { n.threads = s }
}

// New validates cfg and returns its Notifier. client sends the requests
// (nil: a default client; cfg.Timeout bounds each request either way), now
// is the clock (nil: time.Now), logger receives capped waits and replies
// that could not be recorded (nil: discarded).
func New(cfg Config, client *http.Client, now func() time.Time, logger *slog.Logger, opts ...Option) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tok := cfg.BotToken.Reveal()
	base := strings.TrimSuffix(cfg.APIURL, "/") + "/bot" + tok
	endpoint := base + "/sendMessage"
	n := &Notifier{
		cfg:      cfg,
		base:     base,
		endpoint: endpoint,
		sender: &notify.HTTPSender{
			Channel: "telegram", Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger,
			Secrets:        []string{endpoint, base, "bot" + tok, tok},
			BodyRetryAfter: bodyRetryAfter,
		},
		logger: logger.With("channel_type", "telegram"),
		docs:   newBudget(now),
	}
	for _, o := range opts {
		o(n)
	}
	return n, nil
}

// sendMessage is the request's body.
type sendMessage struct {
	ChatID                any              `json:"chat_id"`
	MessageThreadID       int64            `json:"message_thread_id,omitempty"`
	Text                  string           `json:"text"`
	ParseMode             string           `json:"parse_mode"`
	LinkPreviewOptions    linkPreview      `json:"link_preview_options"`
	DisableWebPagePreview bool             `json:"disable_web_page_preview"`
	ReplyParameters       *replyParameters `json:"reply_parameters,omitempty"`
}

type linkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

type replyParameters struct {
	MessageID                int64 `json:"message_id"`
	AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
}

// answer is the part of the Bot API's answer seqwatch reads.
type answer struct {
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	Result      struct {
		MessageID int64 `json:"message_id"`
	} `json:"result"`
	Parameters struct {
		RetryAfter float64 `json:"retry_after"`
	} `json:"parameters"`
}

// bodyRetryAfter reads the wait a 429 names in its body.
func bodyRetryAfter(body []byte) (time.Duration, bool) {
	var a answer
	if json.Unmarshal(body, &a) != nil || a.Parameters.RetryAfter <= 0 {
		return 0, false
	}
	s := a.Parameters.RetryAfter
	if s > float64(notify.MaxRetryAfter/time.Second) {
		return notify.MaxRetryAfter + time.Second, true // HTTPSender caps it, and says so
	}
	return time.Duration(s * float64(time.Second)), true
}

// Notify sends the events as one message (see the package documentation).
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (retry bool, err error) {
	if len(events) == 0 {
		return false, nil
	}
	msg := n.message(events)
	single := len(events) == 1 && len(events[0].Items) == 0
	key := events[0].Key
	if single && n.threads != nil && notify.Closes(events[0].Kind) {
		if _, ts, ok := n.threads.Thread(key); ok {
			if id, err := strconv.ParseInt(ts, 10, 64); err == nil {
				msg.ReplyParameters = &replyParameters{MessageID: id, AllowSendingWithoutReply: true}
			}
		}
	}
	id, retry, err := n.send(ctx, msg, "sendMessage "+strings.Join(ids(events), ","))
	if err != nil {
		return retry, err
	}
	if single && n.threads != nil && key != "" && !notify.Closes(events[0].Kind) && events[0].Kind != notify.Test {
		if id == 0 {
			n.logger.WarnContext(ctx, "Telegram's answer named no message id; the recovery will not be a reply", "key", key)
		} else {
			n.threads.SetThread(key, n.cfg.ChatID, strconv.FormatInt(id, 10))
		}
	}
	if doc, ok := traceDocument(events, msg.Text); ok {
		n.sendTrace(ctx, events[0], doc, id)
	}
	return false, nil
}

// message is the sendMessage body for events, before any reply.
func (n *Notifier) message(events []notify.Event) sendMessage {
	return sendMessage{
		ChatID:                chatID(n.cfg.ChatID),
		MessageThreadID:       n.cfg.MessageThreadID,
		Text:                  pack(content(events, n.templates), footer(events)),
		ParseMode:             "HTML",
		LinkPreviewOptions:    linkPreview{IsDisabled: true},
		DisableWebPagePreview: true,
	}
}

// Preview is the request Notify would make for events (a recovery whose
// failure's message is known replies to it, with reply_parameters).
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	if len(events) == 0 {
		return nil, nil
	}
	req, err := n.newRequest(context.Background(), n.message(events))
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	r, err := notify.PreviewHTTP(req, n.sender.Secrets)
	return []notify.Request{r}, err
}

// send posts one message and returns its id.
func (n *Notifier) send(ctx context.Context, msg sendMessage, what string) (int64, bool, error) {
	req, err := n.newRequest(ctx, msg)
	if err != nil {
		return 0, false, fmt.Errorf("telegram: %s: %w", what, err)
	}
	return n.sendRequest(req, what)
}

// sendRequest posts a request of the Bot API that answers with the sent
// Message, and returns the message's id (0 when the answer names none).
func (n *Notifier) sendRequest(req *http.Request, what string) (int64, bool, error) {
	a, retry, err := n.sender.Do(req, what, maxAnswer)
	if err != nil {
		return 0, retry, err
	}
	var ans answer
	if err := json.Unmarshal(a.Body, &ans); err != nil {
		// The message was taken (2xx); an answer cut at maxAnswer or not
		// JSON only costs the reply on recovery.
		return 0, false, nil
	}
	if !ans.OK {
		return 0, false, fmt.Errorf("telegram: %s: answered %d with ok false: %s", what, a.Status, n.sender.Snippet([]byte(ans.Description)))
	}
	return ans.Result.MessageID, false, nil
}

// newRequest is the sendMessage request that posts msg.
func (n *Notifier) newRequest(ctx context.Context, msg sendMessage) (*http.Request, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the text is Telegram's HTML already
	if err := enc.Encode(msg); err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.endpoint, &b)
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "seqwatch-telegram")
	return req, nil
}

// chatID is the chat as the Bot API takes it: a number, or an @username.
func chatID(s string) any {
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		return id
	}
	return s
}

// footer is seqwatch's line under a message: the event's id, to find it
// in the outbox and the log.
func footer(events []notify.Event) string {
	if len(events) == 1 && events[0].ID != "" {
		return "seqwatch · " + events[0].ID
	}
	return "seqwatch"
}

func ids(events []notify.Event) []string {
	out := make([]string, 0, min(len(events), 3))
	for _, ev := range events[:min(len(events), 3)] {
		out = append(out, ev.ID)
	}
	if len(events) > 3 {
		out = append(out, fmt.Sprintf("and %d more", len(events)-3))
	}
	return out
}
