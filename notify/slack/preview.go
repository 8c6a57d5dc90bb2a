package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/slack-go/slack"

	"github.com/seqwatch/seqwatch/notify"
)

// Preview is what Notify would post for events: in webhook mode the
// webhook's JSON body; in bot mode the chat.postMessage arguments (which
// slack-go sends as a form) as JSON, and the thread reply with the stack
// traces when there are any. A recovery that updates its failure's message
// (chat.update) posts the same text and blocks. Neither shows the token or
// the webhook's path.
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if n.api == nil {
		m := n.buildMessage(events, false)
		no := false
		// The message notifyWebhook posts, encoded as slack-go encodes it.
		body, err := json.Marshal(&slack.WebhookMessage{
			Username: n.cfg.Username, IconEmoji: n.cfg.IconEmoji, Text: m.text,
			Blocks: &slack.Blocks{BlockSet: m.blocks}, UnfurlLinks: &no, UnfurlMedia: &no,
		})
		if err != nil {
			return nil, fmt.Errorf("slack: encoding the preview: %w", err)
		}
		return []notify.Request{{Method: http.MethodPost, Target: notify.PreviewTarget(n.cfg.WebhookURL.Reveal(), n.sender.Secrets...),
			Header: http.Header{"Content-Type": {"application/json"}}, Body: body}}, nil
	}
	m := n.buildMessage(events, true)
	target := n.apiURL() + "chat.postMessage"
	main, err := n.botArgs(n.cfg.Channel, m.text, m.blocks, "")
	if err != nil {
		return nil, err
	}
	out := []notify.Request{{Method: http.MethodPost, Target: target, Body: main}}
	if len(m.thread) > 0 {
		reply, err := n.botArgs(n.cfg.Channel, m.threadText, m.thread, "(the message's ts)")
		if err != nil {
			return nil, err
		}
		out = append(out, notify.Request{Method: http.MethodPost, Target: target, Body: reply})
	}
	return out, nil
}

// botArgs are the arguments msgOptions gives chat.postMessage.
func (n *Notifier) botArgs(channel, text string, blocks []slack.Block, threadTS string) ([]byte, error) {
	args := map[string]any{"channel": channel, "text": text, "blocks": blocks, "unfurl_links": false, "unfurl_media": false}
	if n.cfg.Username != "" {
		args["username"] = n.cfg.Username
	}
	if n.cfg.IconEmoji != "" {
		args["icon_emoji"] = n.cfg.IconEmoji
	}
	if threadTS != "" {
		args["thread_ts"] = threadTS
	}
	return encodeJSON(args)
}

func (n *Notifier) apiURL() string {
	if n.cfg.APIURL != "" {
		return n.cfg.APIURL
	}
	return slack.APIURL
}

func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("slack: encoding the preview: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
