package telegram

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// An exception message with the service's mention markup stays inert
// through a template that puts it in both parts, around words and markup
// of the template's own; Preview shows the same request.
func TestTemplatedMessageKeepsMentionsInert(t *testing.T) {
	f := newFakeTelegram(t)
	n := newNotifier(t, f)
	n.templates = notifytest.HostileTemplates(t)
	failure := hostileFailure()
	failure.Errors[0].Message = hostile
	if _, err := n.Notify(context.Background(), []notify.Event{failure}); err != nil {
		t.Fatal(err)
	}
	got := f.messages()
	if len(got) != 2 || got[1].document == nil {
		t.Fatalf("%d messages, want the alert and its trace file", len(got))
	}
	m := got[0]
	// The receiver parsed the HTML as Telegram does: the message text is
	// shown as written, in the pre, and the title is defused.
	title, _, _ := strings.Cut(m.plain, "\n")
	if !strings.HasPrefix(title, "TEMPLATED ＠channel ＠admin_bot") || strings.ContainsAny(title, "@#/$") {
		t.Errorf("title %q is not defused", title)
	}
	if !strings.Contains(m.plain, "TEMPLATED **") || !strings.Contains(m.plain, "<a href=\"tg://user?id=1\">x</a>") {
		t.Errorf("body not shown as written:\n%s", m.plain)
	}
	var sentBody struct {
		Text string `json:"text"`
	}
	p, err := n.Preview([]notify.Event{failure})
	if err != nil || len(p) != 1 || json.Unmarshal(p[0].Body, &sentBody) != nil || sentBody.Text != m.html {
		t.Fatalf("preview differs from what was sent: %v", err)
	}
	if strings.Contains(p[0].Target, testToken) {
		t.Errorf("the preview shows the bot token: %s", p[0].Target)
	}
}
