package googlechat

import (
	"context"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
)

// hostileTemplates put database text (an exception message carrying the
// service's mention markup) into both parts, around words and markup of
// their own.
func hostileTemplates(t *testing.T) *notify.Templates {
	t.Helper()
	tpl, errs := notify.ParseTemplates(notify.TemplateSources{"operation.failed": {
		Title: "TEMPLATED {{.Error.Message}} in {{.App}}",
		Body:  "TEMPLATED **{{.Summary}}**\n{{.Error.Message}}\n{{.PageURL}}",
	}}, notify.TemplateOptions{PageURL: "https://seqwatch.example.com/"})
	if errs != nil {
		t.Fatal(errs)
	}
	return tpl
}

// An exception message with the service's mention markup stays inert
// through a template: the receiver checks every text of the templated
// message as it checks the default one's. Preview shows the same body.
func TestTemplatedMessageKeepsMentionsInert(t *testing.T) {
	f := newFakeChat(t)
	n := newNotifier(t, f)
	n.templates = hostileTemplates(t)
	ev := hostileFailure("k")
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	posts := f.posted()
	if len(posts) != 1 {
		t.Fatalf("%d messages", len(posts))
	}
	sent := posts[0].body
	if !strings.Contains(string(sent), "TEMPLATED") {
		t.Errorf("the template did not word the message:\n%s", sent)
	}
	p, err := n.Preview([]notify.Event{ev})
	if err != nil || len(p) != 1 || string(p[0].Body) != string(sent) {
		t.Fatalf("preview differs from what was sent: %v", err)
	}
}
