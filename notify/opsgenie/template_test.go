package opsgenie

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
	f := newFakeOpsgenie(t, c)
	n := newNotifier(t, f, c)
	n.templates = tpl
	failure := hostileFailure()
	if _, err := n.Notify(context.Background(), []notify.Event{failure}); err != nil {
		t.Fatal(err)
	}
	got := f.taken()
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	msg, desc := str(got[0].body, "message"), str(got[0].body, "description")
	// Opsgenie shows HTML: what the template wrote is escaped for it.
	if !strings.HasPrefix(msg, "TEMPLATED &lt;!channel&gt; @here &lt;b&gt;html") || !strings.HasPrefix(desc, "TEMPLATED **") || !strings.Contains(desc, "&lt;img src=x") {
		t.Errorf("message %q, description %q", msg, desc[:min(len(desc), 120)])
	}
	pr, err := n.Preview([]notify.Event{failure})
	if err != nil || len(pr) != 1 || string(pr[0].Body) != string(got[0].raw) || pr[0].Header.Get("Authorization") != "" {
		t.Fatalf("preview differs from what was sent: %v", err)
	}
}
