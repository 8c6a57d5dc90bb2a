package email

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
)

// An exception message with markup, a link and header lines stays inert
// through templates that put it in the subject and the paragraph under
// it: the subject stays one header, the HTML part shows it escaped, and
// the text part shows it as written. Preview is that message.
func TestTemplatedMessageKeepsMarkupInert(t *testing.T) {
	tpl, errs := notify.ParseTemplates(notify.TemplateSources{"operation.failed": {
		Title: "TEMPLATED {{.Error.Message}} in {{.App}}",
		Body:  "TEMPLATED <b>{{.Summary}}</b>\n{{.Error.Message}}\n{{.PageURL}}",
	}}, notify.TemplateOptions{PageURL: "https://seqwatch.example.com/"})
	if errs != nil {
		t.Fatal(errs)
	}
	e := setup(t, authed(serveSTARTTLS), nil)
	e.n.templates = tpl
	hostile := `<a href="https://evil.example/">click</a> <img src=x onerror=alert(1)> &amp; @all` + "\r\nBcc: evil@example.com"
	ev := failedEvent("RuntimeException", hostile, "")
	p := notifyOne(t, e, ev)
	p.html, p.text = strings.ReplaceAll(p.html, "\r\n", "\n"), strings.ReplaceAll(p.text, "\r\n", "\n")
	if want := "[seqwatch] TEMPLATED " + `<a href="https://evil.example/">click</a> <img src=x onerror=alert(1)> &amp; @all Bcc: evil@example.com in app`; p.subject != want {
		t.Errorf("Subject = %q, want %q", p.subject, want)
	}
	if _, ok := p.header["Bcc"]; ok {
		t.Error("the template's text added a Bcc header")
	}
	if !strings.Contains(p.html, "<p style=\"white-space:pre-wrap\">TEMPLATED &lt;b&gt;2024_01_13_120000_FailedOperation failed&lt;/b&gt;\n&lt;a href=&#34;https://evil.example/&#34;&gt;click&lt;/a&gt; &lt;img src=x onerror=alert(1)&gt; &amp;amp; @all") {
		t.Errorf("HTML part does not show the paragraph escaped:\n%s", p.html)
	}
	if strings.Contains(p.html, "<a href") || strings.Contains(p.html, "<img") {
		t.Errorf("HTML part carries live markup:\n%s", p.html)
	}
	if !strings.Contains(p.text, "\nTEMPLATED <b>2024_01_13_120000_FailedOperation failed</b>\n<a href=") {
		t.Errorf("text part:\n%s", p.text)
	}
	pr, err := e.n.Preview([]notify.Event{ev})
	if err != nil || len(pr) != 1 {
		t.Fatal(err)
	}
	got := parse(t, pr[0].Body)
	if got.subject != p.subject || strings.ReplaceAll(got.text, "\r\n", "\n") != p.text || strings.ReplaceAll(got.html, "\r\n", "\n") != p.html {
		t.Errorf("preview differs from what was sent")
	}
	if strings.Contains(string(pr[0].Body), testPassword) {
		t.Error("the preview carries the password")
	}
}
