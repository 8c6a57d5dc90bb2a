package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func hostileTemplates(t *testing.T) *notify.Templates {
	t.Helper()
	tpl, errs := notify.ParseTemplates(notify.TemplateSources{
		"operation.failed": {
			Title: "TEMPLATED {{.Error.Message}} in {{.App}}",
			Body:  "TEMPLATED *{{.Summary}}*\n{{.Error.Message}}\n{{.PageURL}}",
		},
		"digest": {Title: "TEMPLATED {{len .Items}} for {{.App}}", Body: "{{range .Items}}{{.Summary}}\n{{end}}"},
	}, notify.TemplateOptions{PageURL: "https://seqwatch.example.com/"})
	if errs != nil {
		t.Fatal(errs)
	}
	return tpl
}

const slackMentions = "<!channel> <!here> <@U123ABC> <#C123ABC> <https://evil.example|click> *bold* ~strike~"

// An exception message with Slack's mention markup stays inert through a
// template: the header and the section a template words are plain_text,
// which Slack parses nothing in, and the notification text made of them
// is escaped. The fake checks every text of the message as it checks the
// default's; Preview shows the body that was posted.
func TestTemplatedMessageKeepsMentionsInert(t *testing.T) {
	ev := cutTraceEvent()
	ev.Errors[0].Message = slackMentions
	digest := notify.Event{ID: "01HN0000000000000000000009", Kind: notify.Digest, App: "shop", OccurredAt: t0,
		Summary: "2 past failures", Items: []notify.Event{ev, recoveredEvent(ev.Key)}}
	for _, events := range [][]notify.Event{{ev}, {digest}} {
		f := newFakeSlack(t)
		n := webhookNotifier(t, f)
		n.templates = hostileTemplates(t)
		if _, err := n.Notify(context.Background(), events); err != nil {
			t.Fatal(err)
		}
		req := f.Accepted()[0]
		if !strings.HasPrefix(req.text, "TEMPLATED ") || strings.Contains(req.text, "<!channel>") || strings.Contains(req.text, "<@U123ABC>") {
			t.Errorf("notification text %q: not templated, or a mention is live", req.text)
		}
		var p struct {
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Type, Text string
				} `json:"text"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal(req.body, &p); err != nil {
			t.Fatal(err)
		}
		for _, b := range p.Blocks {
			if b.Text != nil && strings.Contains(b.Text.Text, "<!channel>") && b.Text.Type != "plain_text" {
				t.Errorf("a %s block carries the mention outside plain_text: %q", b.Type, b.Text.Text)
			}
		}
		if h := p.Blocks[0]; h.Type != "header" || !strings.HasPrefix(h.Text.Text, "TEMPLATED ") {
			t.Errorf("header = %+v", h)
		}
		pr, err := n.Preview(events)
		if err != nil || len(pr) != 1 || string(pr[0].Body) != string(req.body) {
			t.Fatalf("preview differs from what was posted: %v\n%s\n%s", err, pr[0].Body, req.body)
		}
		if strings.Contains(pr[0].Target, webhookPath) {
			t.Errorf("preview target shows the webhook path: %s", pr[0].Target)
		}
	}
}

// In bot mode the message and the thread reply are previewed as the
// arguments chat.postMessage gets; the fake received the same text.
func TestBotPreviewShowsMessageAndThreadReply(t *testing.T) {
	f := newFakeSlack(t)
	n := botNotifier(t, f, WithThreadStore(&notifytest.Threads{}))
	n.templates = hostileTemplates(t)
	ev := cutTraceEvent()
	ev.Errors[0].Message = slackMentions
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Accepted()
	pr, err := n.Preview([]notify.Event{ev})
	if err != nil || len(pr) != 2 || len(reqs) != 2 {
		t.Fatalf("%d previews (%v), %d posts", len(pr), err, len(reqs))
	}
	for i := range pr {
		var args struct {
			Text     string `json:"text"`
			ThreadTS string `json:"thread_ts"`
		}
		if err := json.Unmarshal(pr[i].Body, &args); err != nil {
			t.Fatal(err)
		}
		if args.Text != reqs[i].text || (i == 1) != (args.ThreadTS != "") {
			t.Errorf("preview %d: text %q thread %q, posted %q", i, args.Text, args.ThreadTS, reqs[i].text)
		}
		if strings.Contains(pr[i].Target, testToken) || !strings.HasSuffix(pr[i].Target, "chat.postMessage") {
			t.Errorf("target %s", pr[i].Target)
		}
	}
}
