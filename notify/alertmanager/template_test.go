package alertmanager

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// Templates write the summary and description annotations; an exception
// message in them with the markup Alertmanager's receivers know (a Slack
// mention, an Alertmanager template action) arrives as plain text, the
// summary on one line, both cleaned and bounded, and the labels that make
// the alert's identity are not the templates' to change.
func TestTemplatedAnnotationsArePlainAndLeaveTheLabels(t *testing.T) {
	tpl := notifytest.ParseTemplates(t, "{{.App}}: {{.Error.Message}}", "{{.Error.Message}}\n{{.PageURL}}{{range .Errors}}{{.Message}}{{end}}")
	now := baseTime()
	p := newPeer(t, http.StatusOK, "")
	n, err := New(Config{URLs: []string{p.srv.URL}}, nil, fixed(now), nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := New(Config{URLs: []string{p.srv.URL}}, nil, fixed(now), nil)
	n.templates = tpl
	ev := failedEvent("operation.failed/Op/42", "Op", now)
	ev.Errors[0].Message = "<!channel> {{ template \"slack.title\" . }}\r\nsecond \u202eline" + strings.Repeat("x", 10_000)
	if _, err := n.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Notify(context.Background(), []notify.Event{ev}); err != nil {
		t.Fatal(err)
	}
	posts := p.posts()
	got, def := posts[0][0], posts[1][0]
	if s := got.Annotations["summary"]; !strings.HasPrefix(s, `shop: <!channel> {{ template "slack.title" . }} second line`) || len(s) > maxSummary || strings.ContainsAny(s, "\r\n\u202e") {
		t.Errorf("summary = %q", s)
	}
	if d := got.Annotations["description"]; !strings.HasPrefix(d, "<!channel> {{ template \"slack.title\" . }}\nsecond line") || len(d) > maxDescription || !strings.Contains(d, "more bytes") {
		t.Errorf("description = %q…", d[:min(len(d), 80)])
	}
	if fingerprint(got.Labels) != fingerprint(def.Labels) || got.Annotations["message"] != def.Annotations["message"] {
		t.Errorf("the templates changed the labels or the other annotations: %v / %v", got.Labels, def.Labels)
	}
	if _, ok := def.Annotations["description"]; ok {
		t.Error("the default alert has a description")
	}
	pr, err := n.Preview([]notify.Event{ev})
	if err != nil || len(pr) != 1 || !strings.Contains(string(pr[0].Body), `"description"`) {
		t.Fatalf("preview: %v %v", pr, err)
	}
}
