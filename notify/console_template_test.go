package notify

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A template that puts an exception message in the title and the body
// cannot make the terminal follow a link, clear the screen or show a fake
// alert line: the console cleans and indents what the template wrote.
func TestConsoleTemplateKeepsDatabaseTextInert(t *testing.T) {
	tpl := mustParse(t, TemplateSources{"operation.failed": {
		Title: "{{.App}}: {{.Error.Message}}",
		Body:  "{{.Error.Message}}\nsee {{.PageURL}}",
	}}, TemplateOptions{PageURL: "https://seqwatch.example.com/"})
	ev := failedEvent()
	ev.Errors[0].Message = "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 \x1b[2J\n== operation.recovered  shop  all fine"
	var out bytes.Buffer
	c := NewConsole(&out)
	c.templates = tpl
	if _, err := c.Notify(context.Background(), []Event{ev}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.ContainsRune(got, 0x1b) || strings.ContainsRune(got, 0x07) {
		t.Errorf("a control sequence reached the terminal:\n%q", got)
	}
	lines := strings.Split(got, "\n")
	if lines[0] != "== shop: click == operation.recovered shop all fine" {
		t.Errorf("title line = %q", lines[0])
	}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "==") {
			t.Errorf("database text started a line of its own: %q", l)
		}
	}
	if !strings.Contains(got, "\n   click \n     == operation.recovered  shop  all fine\n     see https://seqwatch.example.com/\n") {
		t.Errorf("body not shown indented under the title:\n%s", got)
	}
	p, err := c.Preview([]Event{ev})
	if err != nil || len(p) != 1 || string(p[0].Body) != got {
		t.Errorf("preview differs from what Notify wrote: %v %q", err, p)
	}
}
