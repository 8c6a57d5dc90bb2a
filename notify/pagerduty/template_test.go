package pagerduty

import (
	"context"

	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// An exception message with the service's mention markup stays inert
// through a template that puts it in both parts, around words and markup
// of the template's own; Preview shows the same request.
func TestTemplatedMessageKeepsMentionsInert(t *testing.T) {
	tpl := notifytest.HostileTemplates(t)
	c := newClock()
	f := newFakePagerDuty(t, c)
	n := newNotifier(t, f, c)
	n.templates = tpl
	failure := hostileFailure()
	if _, err := n.Notify(context.Background(), []notify.Event{failure}); err != nil {
		t.Fatal(err)
	}
	got := f.sentEvents()
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	p := got[0].event["payload"].(map[string]any)
	summary, desc := p["summary"].(string), p["custom_details"].(map[string]any)["description"].(string)
	// PagerDuty renders no markup: the text is shown as written, cleaned.
	if !strings.HasPrefix(summary, "TEMPLATED <!channel> @here @everyone <b>html</b>") || !strings.HasPrefix(desc, "TEMPLATED **") {
		t.Errorf("summary %q, description %q", summary, desc[:min(len(desc), 80)])
	}
	if strings.ContainsAny(summary+desc, "\u202e\u200b\r") {
		t.Error("a control or format character went through")
	}
	pr, err := n.Preview([]notify.Event{failure})
	if err != nil || len(pr) != 1 || string(pr[0].Body) != strings.Replace(string(got[0].body), testKey, "<redacted>", 1) {
		t.Fatalf("preview differs from what was sent: %v", err)
	}
}
