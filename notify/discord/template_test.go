package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// A template that puts an exception message with Discord's mention and
// markdown markup in the title and the description sends it inert: the
// receiver checks every text as it checks the default message's, and the
// template's own ** is shown as written too.
func TestTemplatedMessageKeepsMentionsInert(t *testing.T) {
	tpl := notifytest.ParseTemplates(t, "{{.Error.Message}} in {{.App}}", "**{{.Summary}}**\n{{.Error.Message}}\n{{.PageURL}}")
	f := newFakeDiscord(t)
	n := newNotifier(t, f, Config{}, nil)
	n.templates = tpl
	ev := recovered("k")
	ev.Kind = notify.OperationFailed
	ev.Summary = "nightly import"
	ev.Errors = []notify.Error{{Exception: "RuntimeException", Message: "@everyone <@123456789012345678> [pay](https://evil.example/) ||x||", CreatedAt: t0}}
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Accepted()
	if len(reqs) != 1 {
		t.Fatalf("%d messages", len(reqs))
	}
	e := reqs[0].payload["embeds"].([]any)[0].(map[string]any)
	title, desc := e["title"].(string), e["description"].(string)
	if !strings.Contains(title, "＠everyone ‹＠123456789012345678› ［pay］(https://evil.example/) ǀǀxǀǀ in shop") {
		t.Errorf("title = %q", title)
	}
	if want := `\*\*nightly import\*\*` + "\n" + `\@everyone \<\@123456789012345678\> \[pay\](https\://evil.example/) \|\|x\|\|` + "\nhttps\\://seqwatch.example.com/"; desc != want {
		t.Errorf("description = %q, want %q", desc, want)
	}
	p, err := n.Preview([]notify.Event{ev})
	if err != nil || len(p) != 1 || string(p[0].Body) != string(reqs[0].body) {
		t.Fatalf("preview differs from what was posted: %v\n%s\n%s", err, p[0].Body, reqs[0].body)
	}
	if strings.Contains(p[0].Target, webhookToken) || !strings.HasSuffix(p[0].Target, "?wait=true") {
		t.Errorf("preview target = %q", p[0].Target)
	}
}
