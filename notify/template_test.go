package notify

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, src TemplateSources, opts TemplateOptions) *Templates {
	t.Helper()
	tpl, errs := ParseTemplates(src, opts)
	if len(errs) > 0 {
		t.Fatalf("ParseTemplates: %v", errs)
	}
	return tpl
}

func TestParseTemplatesNamesEachProblemByItsKey(t *testing.T) {
	cases := []struct {
		name    string
		src     TemplateSources
		parts   []string
		key     string
		message string
	}{
		{"syntax", TemplateSources{"operation.failed": {Title: "{{.Summary"}}, nil, "operation.failed.title", "unclosed action"},
		{"unknown field", TemplateSources{"operation.failed": {Body: "{{.Operaton.Name}}"}}, nil, "operation.failed.body", "there is no field Operaton here"},
		{"unknown kind", TemplateSources{"operation.broken": {Title: "x"}}, nil, "operation.broken", "is not an event kind: use one of operation.failed,"},
		{"unknown function", TemplateSources{"default": {Title: "{{shout .Summary}}"}}, nil, "default.title", `function "shout" not defined`},
		{"unguarded field of another kind", TemplateSources{"default": {Title: "{{.Operation.Name}}"}}, nil, "default.title", "on a sample pending.threshold event"},
		{"part the channel does not take", TemplateSources{"default": {Title: "x"}}, []string{BodyPart}, "default.title", "this channel takes no title template (it takes body)"},
		{"define", TemplateSources{"default": {Body: `{{define "x"}}a{{end}}{{template "x"}}`}}, nil, "default.body", "defines templates of its own"},
		{"range over a number", TemplateSources{"default": {Body: "{{range 1000000000}}{{end}}"}}, nil, "default.body", "ranges over 1000000000"},
		{"range over len", TemplateSources{"default": {Body: "{{range len .Items}}{{end}}"}}, nil, "default.body", "ranges over len"},
		{"range three deep", TemplateSources{"digest": {Body: "{{range .Items}}{{range $.Items}}{{range $.Items}}x{{end}}{{end}}{{end}}"}}, nil, "digest.body", "nests range more than 2 deep"},
		{"too long", TemplateSources{"default": {Body: strings.Repeat("x", MaxTemplateSource+1)}}, nil, "default.body", "a template may have at most 16384"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl, errs := ParseTemplates(c.src, TemplateOptions{Parts: c.parts})
			if tpl != nil || len(errs) != 1 {
				t.Fatalf("got %v, %v; want one error", tpl, errs)
			}
			if errs[0].Key != c.key || !strings.Contains(errs[0].Err.Error(), c.message) {
				t.Errorf("error = %q (key %q), want key %q and %q", errs[0].Err, errs[0].Key, c.key, c.message)
			}
		})
	}
}

func TestGuardedTemplatesServeEveryKind(t *testing.T) {
	src := TemplateSources{"default": {
		Title: "[{{.Environment}}] {{.Title}}",
		Body: "{{with .Operation}}{{.Name}} ({{.Type}}){{end}}{{with .Error}}\n{{.Exception}}: {{.Message}}{{range frames 2 .}}\n  {{.}}{{end}}{{end}}" +
			"{{range .Items}}\n- {{.Kind}} {{.Summary}}{{range .Errors}} {{.Exception}}{{end}}{{end}}" +
			"{{with .Pending}}{{.Count}}/{{.Threshold}}{{end}}{{with .Deferred}}{{.Operation}} {{.Attempts}}{{end}}{{.Source}}" +
			"\n{{date \"2006-01-02\" .OccurredAt}} {{.PageURL}}",
	}}
	tpl := mustParse(t, src, TemplateOptions{PageURL: "https://seqwatch.example.com/"})
	for _, k := range SampleKinds() {
		r := tpl.Render([]Event{SampleEvent(k, "shop", "production", t0)}, "Own title", "own body")
		if !r.TitleTemplated || !r.BodyTemplated || r.Title != "[production] Own title" || !strings.HasSuffix(r.Body, "2024-01-13 https://seqwatch.example.com/") {
			t.Errorf("%s: %+v", k, r)
		}
	}
}

func TestRenderChoosesTheKindsTemplateThenTheDefault(t *testing.T) {
	tpl := mustParse(t, TemplateSources{
		"operation.failed": {Title: "FAILED {{.Operation.Name}}"},
		"default":          {Title: "{{.Kind}}", Body: "default body"},
		"digest":           {Title: "{{len .Items}} {{plural (len .Items) \"alert\" \"alerts\"}} for {{.App | default \"several apps\"}}"},
	}, TemplateOptions{})
	failed := SampleEvent(OperationFailed, "shop", "", t0)
	stuck := SampleEvent(OperationStuck, "shop", "", t0)
	other := SampleEvent(PendingThreshold, "billing", "", t0)
	cases := []struct {
		name   string
		events []Event
		want   Rendered
	}{
		{"its kind's title, the channel's body", []Event{failed}, Rendered{Title: "FAILED 2024_01_13_120000_ImportInvoices", Body: "own", TitleTemplated: true}},
		{"the default", []Event{stuck}, Rendered{Title: "operation.stuck", Body: "default body", TitleTemplated: true, BodyTemplated: true}},
		{"several events are a digest", []Event{failed, stuck}, Rendered{Title: "2 alerts for shop", Body: "own", TitleTemplated: true}},
		{"of several apps", []Event{failed, other}, Rendered{Title: "2 alerts for several apps", Body: "own", TitleTemplated: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := tpl.Render(c.events, "own title", "own"); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
	var none *Templates
	if got := none.Render([]Event{failed}, "t", "b"); got != (Rendered{Title: "t", Body: "b"}) || none.Has([]Event{failed}) {
		t.Errorf("nil templates: %+v", got)
	}
}

func TestTemplateThatFailsAtSendTimeSendsTheChannelsWords(t *testing.T) {
	var log bytes.Buffer
	// .Operation is guarded on the sample (a failure has one), but a
	// failure event without it (an older seqwatch's) has none.
	tpl := mustParse(t, TemplateSources{"operation.failed": {Title: "{{.Operation.Name}}", Body: "{{.Summary}}!"}},
		TemplateOptions{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	ev := SampleEvent(OperationFailed, "shop", "", t0)
	ev.Operation = nil
	got := tpl.Render([]Event{ev}, "own title", "own body")
	if got.Title != "own title" || got.TitleTemplated || got.Body != ev.Summary+"!" {
		t.Errorf("got %+v", got)
	}
	if !strings.Contains(log.String(), "template=operation.failed.title") || !strings.Contains(log.String(), "nil pointer") {
		t.Errorf("log = %q", log.String())
	}
}

func TestTemplateOutputIsBoundedAndCleaned(t *testing.T) {
	ev := SampleEvent(OperationFailed, "shop", "", t0)
	ev.Errors[0].Message = strings.Repeat("x", 1<<20) + "\x1b[2J\u202e"
	tpl := mustParse(t, TemplateSources{"operation.failed": {
		Title: "{{range .Errors}}{{.Message}}{{end}}",
		Body:  "{{.Error.Message}}{{.Error.Message}}",
	}}, TemplateOptions{})
	got := tpl.Render([]Event{ev}, "", "")
	if len(got.Title) > MaxTitleOutput || !strings.HasSuffix(got.Title, outputMarker) {
		t.Errorf("title is %d bytes, ends %q", len(got.Title), got.Title[max(0, len(got.Title)-20):])
	}
	if len(got.Body) > MaxBodyOutput || !strings.HasSuffix(got.Body, outputMarker) {
		t.Errorf("body is %d bytes", len(got.Body))
	}
	ev.Errors[0].Message = "boom \x1b[2J\u202eevil\u200b"
	if got := tpl.Render([]Event{ev}, "", ""); got.Title != "boom evil" {
		t.Errorf("title %q keeps control or format characters", got.Title)
	}
}

func TestTemplateFunctions(t *testing.T) {
	ev := SampleEvent(OperationFailed, "shop", "", t0)
	ev.Summary = "  a\n  b  "
	cases := []struct{ src, want string }{
		{`{{oneline .Summary}}`, "a b"},
		{`{{firstline .Error.Trace}}`, `#0 /app/database/operations/2024_01_13_120000_ImportInvoices.php(31): App\Services\Invoices->import()`},
		{`{{truncate 10 .Error.Message}}`, "The invoi…"},
		{`{{upper .App}} {{lower "X"}} {{trim .Summary | oneline}}`, "SHOP x a b"},
		{`{{"" | default "none"}}`, "none"},
		{`{{if contains "invoice" .Error.Message}}yes{{end}}{{if hasPrefix "Runtime" .Error.Exception}}!{{end}}`, "yes!"},
		{`{{replace "invoice" "bill" .Error.Message}}`, "The bill service did not answer within 30 seconds"},
		{`{{join ", " (frames 2 .Error)}}`, `#0 /app/database/operations/2024_01_13_120000_ImportInvoices.php(31): App\Services\Invoices->import(), #1 /app/vendor/faustbrian/sequencer/src/Executor.php(88): Operation->handle()`},
		{`{{date "15:04" .Operation.FailedAt}}|{{date "15:04" .Operation.CompletedAt}}`, "11:58|"},
		{`{{duration .Operation.RunningFor}}`, "0s"},
	}
	for _, c := range cases {
		tpl := mustParse(t, TemplateSources{"operation.failed": {Body: c.src}}, TemplateOptions{})
		if got := tpl.Render([]Event{ev}, "", "").Body; got != c.want {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
	}
	if _, err := replaceFunc("", strings.Repeat("y", 100), strings.Repeat("x", 10_000)); err == nil {
		t.Error("replace grew a trace past the output limit")
	}
}

func TestSampleEventsAreOfTheirKind(t *testing.T) {
	at := time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)
	for _, k := range SampleKinds() {
		ev := SampleEvent(k, "shop", "production", at)
		if ev.Kind != k || ev.App != "shop" || ev.ID == "" || ev.Summary == "" {
			t.Errorf("%s: %+v", k, ev)
		}
	}
	if len(TemplateKinds()) != len(SampleKinds())+1 {
		t.Errorf("TemplateKinds = %v", TemplateKinds())
	}
}
