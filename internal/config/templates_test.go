package config

import (
	"os"
	"strings"
	"testing"
)

// A channel's templates are parsed at validate, and each problem names
// its key and the line it is on.
func TestTemplatesAreCheckedAtValidateWithTheirLine(t *testing.T) {
	doc := `app: /srv/x
http:
  url: https://seqwatch.example.com/
channels:
  - name: chat
    console: {}
    templates:
      operation.failed:
        title: "{{.Summary"
        body: |
          {{.Operaton.Name}}
      default:
        title: "{{.Operation.Name}}"
      operation.broken:
        title: x
  - name: hook
    webhook: {url: "https://hooks.example.com/x"}
    templates:
      default: {title: "{{.Kind}}", body: "{{.Summary}}"}
`
	got := loadErrors(t, doc)
	for _, want := range []string{
		"line 9: channels[0].templates.operation.failed.title: template line 1: unclosed action",
		"line 10: channels[0].templates.operation.failed.body: template line 1, column 11: at <.Operaton.Name>: there is no field Operaton here (docs/channels.md, \"Message templates\", lists the data)",
		"line 13: channels[0].templates.default.title: on a sample pending.threshold event: template line 1, column 12: at <.Operation.Name>: nil pointer evaluating *event.Operation.Name: the event has no such part here; guard it, as in {{with .Operation}}{{.Name}}{{end}}",
		"line 14: channels[0].templates.operation.broken: is not an event kind: use one of operation.failed,",
		"line 19: channels[1].templates.default.title: this channel takes no title template (it takes body)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "channels[1].templates.default.body") {
		t.Errorf("the webhook's body template was refused:\n%s", got)
	}
}

func TestValidTemplatesAndPageURL(t *testing.T) {
	doc := "app: /srv/x\nhttp: {url: \"https://seqwatch.example.com/\"}\nchannels:\n  - name: c\n    console: {}\n    templates:\n" +
		"      default: {title: \"[{{.Environment}}] {{.Title}}\", body: \"{{.Body}}\\n{{.PageURL}}\"}\n"
	if got := loadErrors(t, doc); got != "" {
		t.Fatalf("problems: %s", got)
	}
	cfg, err := Parse("seqwatch.yaml", []byte(doc), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	tpl, errs := cfg.Channels[0].ParseTemplates(cfg.HTTP.URL, nil)
	if errs != nil || tpl == nil {
		t.Fatalf("ParseTemplates: %v", errs)
	}
	if bad := loadErrors(t, "app: /srv/x\nhttp: {url: \"seqwatch.example.com\"}\n"+console); !strings.Contains(bad, "line 2: http.url: must be the page's absolute http(s) address") {
		t.Errorf("a relative page URL: %s", bad)
	}
}

// Templates are left out of the channel's hash: rewording messages does
// not re-enable a channel its endpoint disabled.
func TestTemplatesDoNotChangeTheChannelsHash(t *testing.T) {
	hash := func(doc string) string {
		cfg, err := Parse("seqwatch.yaml", []byte(doc), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Channels[0].ConfigHash()
	}
	plain := "app: /srv/x\nchannels:\n  - name: c\n    console: {}\n"
	if hash(plain) != hash(plain+"    templates: {default: {title: x}}\n") {
		t.Error("templates changed the hash")
	}
}

// The commented example of message templates in seqwatch.yaml is valid
// once uncommented.
func TestCommentedTemplateExampleValidates(t *testing.T) {
	data, err := os.ReadFile("../../seqwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "# ---- Message templates")
	if !ok {
		t.Fatal("seqwatch.yaml has no message templates block")
	}
	block, _, _ = strings.Cut(block, "# ---- end of message templates")
	var doc strings.Builder
	doc.WriteString("app: /x\nhttp: {url: \"https://seqwatch.example.com/\"}\nchannels:\n")
	for _, line := range strings.Split(block, "\n") {
		if rest, ok := strings.CutPrefix(line, "  # "); ok && (strings.HasPrefix(rest, "- ") || strings.HasPrefix(rest, " ")) {
			doc.WriteString("  " + rest + "\n")
		}
	}
	env := map[string]string{"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/123456789012345678/token-abcdefghijkl"}
	cfg, err := Parse("seqwatch.yaml", []byte(doc.String()), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("%v\n%s", err, doc.String())
	}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatalf("the example has problems: %q\n%s", p, doc.String())
	}
	if len(cfg.Channels) != 1 || len(cfg.Channels[0].Templates) != 3 {
		t.Fatalf("channels %+v", cfg.Channels)
	}
}
