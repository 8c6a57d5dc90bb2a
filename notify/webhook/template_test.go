package webhook

import (
	"context"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
)

// A body template writes the document's text; an exception message in it
// with mention markup and header lines arrives as plain text, cleaned of
// control and format characters, in a document that still verifies. The
// webhook takes no title template. Preview shows the signed request
// without the URL's tokens.
func TestTemplatedTextIsPlainAndVerifies(t *testing.T) {
	if _, errs := notify.ParseTemplates(notify.TemplateSources{"default": {Title: "x"}}, notify.TemplateOptions{Parts: Channel().TemplateParts}); len(errs) != 1 || errs[0].Key != "default.title" {
		t.Errorf("a title template was taken: %v", errs)
	}
	tpl, errs := notify.ParseTemplates(notify.TemplateSources{"operation.failed": {Body: "{{.App}}: {{.Error.Message}} {{.PageURL}}"}},
		notify.TemplateOptions{Parts: Channel().TemplateParts, PageURL: "https://seqwatch.example.com/"})
	if errs != nil {
		t.Fatal(errs)
	}
	r := newReceiver(t, true, []string{secretA()})
	n := newNotifier(t, r, []string{secretA()}, baseTime(), nil)
	n.templates = tpl
	ev := failedEvent("evt_templated")
	ev.Errors[0].Message = "<!channel> @here <@U1> \x1b[31mred\u202e\r\nX-Injected: yes"
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatalf("Notify: %v (refusals %q)", err, r.refusals())
	}
	d := r.deliveries()[0]
	if want := "shop: <!channel> @here <@U1> red\nX-Injected: yes https://seqwatch.example.com/"; d.payload.Text != want {
		t.Errorf("text = %q, want %q", d.payload.Text, want)
	}
	if d.header.Get("X-Injected") != "" {
		t.Error("text leaked into the headers")
	}
	if d.payload.Errors[0].Message != ev.Errors[0].Message {
		t.Error("the template changed the event's own fields")
	}
	p, err := n.Preview([]notify.Event{ev})
	if err != nil || len(p) != 1 {
		t.Fatal(err)
	}
	if string(p[0].Body) != string(d.body) || strings.Contains(p[0].Target, pathToken) || strings.Contains(p[0].Target, queryToken) {
		t.Errorf("preview: target %s, same body %v", p[0].Target, string(p[0].Body) == string(d.body))
	}
	// Without a template the document has no text field.
	n.templates = nil
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(r.deliveries()[1].body), `"text"`) {
		t.Error("a document without a template carries text")
	}
}
