package notify

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestConsolePrintsADeployFinished(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 3, 14, 12, 1, 0, 0, time.UTC)
	ev := Event{ID: "evt_deploy_1", Kind: DeployFinished, Key: "deploy.finished/evt_deploy_1", App: "shop", OccurredAt: at,
		Summary: "deploy finished, OK: done in 42s: 5 completed", Deploy: &Deploy{Command: "php artisan sequencer:process", Status: "OK", Seconds: 42}}
	if _, err := NewConsole(&buf).Notify(context.Background(), []Event{ev}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "deploy finished, OK: done in 42s: 5 completed") {
		t.Fatalf("console printed %q", buf.String())
	}
}

// A template for deploy.finished can use the deploy's fields.
func TestTemplatesSeeTheDeploy(t *testing.T) {
	tpl := mustParse(t, TemplateSources{"deploy.finished": {Title: "deploy {{.Deploy.Status}} in {{.Deploy.Seconds}}s",
		Body: "{{range .Deploy.Failed}}{{.Name}}: {{.Exception}}{{end}}"}}, TemplateOptions{})
	r := tpl.Render([]Event{SampleEvent(DeployFinished, "shop", "production", t0)}, "t", "b")
	if r.Title != "deploy CRITICAL in 42s" || r.Body != "2024_01_13_120000_ImportInvoices: RuntimeException" {
		t.Errorf("%+v", r)
	}
}
