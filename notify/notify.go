// Package notify holds the events seqwatch sends and the channels that send
// them. Each channel (Slack, email, webhook, Alertmanager, console, and the
// others under notify/) implements Notifier; the Dispatcher routes events
// to channels, batches them into digests, rate limits and retries.
//
// It is the core every channel package (notify/...) builds on: the event
// vocabulary (re-exported from internal/event), Notifier, the channel
// registry, routes, the console channel, the one headline rule
// (HeadlineError), the one HTTP sender (HTTPSender), the message
// templates every channel words its messages with (ParseTemplates) and
// the previews of what a channel would send (Previewer). Of seqwatch it
// imports only the leaves internal/event, internal/secret, internal/text
// and internal/pause (the dispatcher's one real sleep). It must not import
// check, state, internal/web or its own channel packages, nor any database
// driver or tablewriter, so that a receiver that imports notify/webhook
// stays small (internal/layering holds it to that).
//
// Every channel cleans the text it sends with internal/text (Clean, and
// CleanLine for a title or a label). notify exports no cleaning function
// of its own: a channel lives in this module (the registry of channel
// types is internal/config's), and a receiver outside it gets text that
// is already clean.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Notifier sends events through one channel. Notify sends all the events as
// one message (a digest when there are several). It reports whether a
// failure is worth retrying: transport errors, 5xx and 429 are; answers
// that will never succeed (400, 403, 404, invalid_token) are not.
type Notifier interface {
	Notify(ctx context.Context, events []Event) (retry bool, err error)
}

// RetryAfterError is returned (wrapped) by a notifier whose peer asked it
// to wait, e.g. HTTP 429 with Retry-After.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns how long the peer asked to wait, if err carries a
// RetryAfterError.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.After, true
	}
	return 0, false
}

// ErrDisabled is returned (wrapped) by a notifier whose endpoint told it to
// stop sending for good (a webhook answering 410 Gone).
var ErrDisabled = errors.New("endpoint disabled")
