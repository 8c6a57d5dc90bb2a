package email

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// Limits on what goes into a message. Error messages and traces come
// straight from the database and can be hundreds of KB; a digest can hold
// thousands of events.
const (
	maxSubjectRunes  = 200
	maxFrames        = 20
	maxFrameRunes    = 500
	maxMessageRunes  = 4000
	maxContextRunes  = 1000
	maxErrors        = 5
	maxLineRunes     = 300
	maxDigestList    = 250
	maxDigestDetails = 5
)

// message is a rendered e-mail.
type message struct {
	Subject string
	Text    string
	HTML    string
}

// view is what both templates render.
type view struct {
	Title string
	// Intro is what a body template wrote, shown under the title ("" by
	// default).
	Intro       string
	App         string
	Environment string
	// Details are events shown in full: the only event, or the first few
	// of a digest.
	Details []eventView
	// List is a digest's one line per event.
	List     []string
	MoreList int
	Digest   bool
}

type eventView struct {
	Kind        string
	App         string
	Environment string
	OccurredAt  string
	Summary     string
	Operation   *opView
	Errors      []errView
	MoreErrors  int
	Pending     *pendingView
	Deferred    *notify.DeferredError
	Source      string
}

type opView struct {
	ID, Name, Type                    string
	ExecutedAt, FailedAt, CompletedAt string
	RunningFor                        string
}

type errView struct {
	N          int
	Exception  string
	Message    string
	Context    string
	CreatedAt  string
	Frames     []string
	MoreFrames int
}

type pendingView struct {
	Count, Threshold int
	Names            []string
	MoreNames        int
}

// render builds the subject and both bodies for one Notify call. The
// templates, if any, word the subject (after the prefix, and the title at
// the top of both bodies) and a paragraph under the title; the text body
// shows it cleaned, the HTML body escaped by html/template, and the
// subject header is encoded, so that nothing a template writes can add a
// header, a tag or a link.
func render(prefix string, events []notify.Event, tpl *notify.Templates) (message, error) {
	leaves, wrapper := flatten(events)
	v := view{}
	var subject string
	apps := appsOf(leaves)
	appPart := ""
	if len(apps) == 1 {
		appPart = apps[0] + ": "
		v.App = apps[0]
		v.Environment = leaves[0].Environment
	}
	switch {
	case len(leaves) == 1 && wrapper == notify.Reminder:
		subject = appPart + "reminder: " + describe(leaves[0])
		v.Details = []eventView{eventOf(leaves[0])}
	case len(leaves) == 1:
		subject = appPart + describe(leaves[0])
		v.Details = []eventView{eventOf(leaves[0])}
	default:
		n := strconv.Itoa(len(leaves)) + " events"
		switch {
		case wrapper == notify.Reminder:
			n = "reminder: " + strconv.Itoa(len(leaves)) + " open events"
		case len(apps) > 1:
			n += " in " + strconv.Itoa(len(apps)) + " apps"
		}
		subject = appPart + n
		v.Digest = true
		for i, e := range leaves {
			if i < maxDigestList {
				v.List = append(v.List, listLine(e, len(apps) > 1))
			}
			if i < maxDigestDetails {
				v.Details = append(v.Details, eventOf(e))
			}
		}
		v.MoreList = max(0, len(leaves)-maxDigestList)
	}
	r := tpl.Render(events, subject, "")
	subject = r.Title
	v.Intro = strings.Trim(truncate(text.Clean(r.Body), maxMessageRunes), "\n")
	v.Title = oneLine(subject, maxSubjectRunes)
	msg := message{Subject: oneLine(prefix+" "+subject, maxSubjectRunes)}

	var buf bytes.Buffer
	if err := textTmpl.Execute(&buf, v); err != nil {
		return message{}, fmt.Errorf("render text body: %w", err)
	}
	msg.Text = buf.String()
	buf.Reset()
	if err := htmlTmpl.Execute(&buf, v); err != nil {
		return message{}, fmt.Errorf("render HTML body: %w", err)
	}
	msg.HTML = buf.String()
	return msg, nil
}

// flatten replaces Digest and Reminder events by the events they stand for
// and reports the wrapper kind when there was exactly one wrapper.
func flatten(events []notify.Event) ([]notify.Event, notify.Kind) {
	var out []notify.Event
	var wrapper notify.Kind
	for _, e := range events {
		if (e.Kind == notify.Digest || e.Kind == notify.Reminder) && len(e.Items) > 0 {
			if len(events) == 1 {
				wrapper = e.Kind
			}
			for _, it := range e.Items {
				if it.App == "" {
					it.App, it.Environment = e.App, e.Environment
				}
				out = append(out, it)
			}
			continue
		}
		out = append(out, e)
	}
	return out, wrapper
}

func appsOf(events []notify.Event) []string {
	var apps []string
	seen := map[string]bool{}
	for _, e := range events {
		a := oneLine(e.App, maxLineRunes)
		if !seen[a] {
			seen[a] = true
			apps = append(apps, a)
		}
	}
	return apps
}

// describe is the subject of one event, e.g.
// "operation.failed 2024_01_13_120000_FailedOperation: RuntimeException".
func describe(e notify.Event) string {
	s := string(e.Kind)
	switch {
	case e.Operation != nil:
		s += " " + e.Operation.Name
		if er, ok := e.HeadlineError(); ok && er.Exception != "" {
			s += ": " + er.Exception
		}
	case e.Deferred != nil:
		s += " " + e.Deferred.Operation
	case e.Summary != "":
		s += ": " + e.Summary
	}
	return oneLine(s, maxSubjectRunes)
}

// listLine is one event in a digest's list.
func listLine(e notify.Event, withApp bool) string {
	s := describe(e)
	if er, ok := e.HeadlineError(); ok {
		if first, _, _ := strings.Cut(text.Clean(er.Message), "\n"); first != "" {
			s += ": " + first
		}
	} else if e.Operation == nil && e.Deferred == nil {
		s = string(e.Kind) + ": " + e.Summary
	}
	if withApp {
		s = e.App + ": " + s
	}
	if !e.OccurredAt.IsZero() {
		s = formatTime(e.OccurredAt) + "  " + s
	}
	return oneLine(s, maxLineRunes)
}

func eventOf(e notify.Event) eventView {
	v := eventView{
		Kind:        oneLine(string(e.Kind), maxLineRunes),
		App:         oneLine(e.App, maxLineRunes),
		Environment: oneLine(e.Environment, maxLineRunes),
		Summary:     truncate(text.Clean(e.Summary), maxMessageRunes),
		Source:      truncate(text.Clean(e.Source), maxMessageRunes),
	}
	if !e.OccurredAt.IsZero() {
		v.OccurredAt = formatTime(e.OccurredAt)
	}
	if op := e.Operation; op != nil {
		v.Operation = &opView{
			ID:   oneLine(op.ID, maxLineRunes),
			Name: oneLine(op.Name, maxLineRunes),
			Type: oneLine(op.Type, maxLineRunes),
		}
		if !op.ExecutedAt.IsZero() {
			v.Operation.ExecutedAt = formatTime(op.ExecutedAt)
		}
		if op.FailedAt != nil {
			v.Operation.FailedAt = formatTime(*op.FailedAt)
		}
		if op.CompletedAt != nil {
			v.Operation.CompletedAt = formatTime(*op.CompletedAt)
		}
		if op.RunningFor > 0 {
			v.Operation.RunningFor = op.RunningFor.Round(time.Second).String()
		}
	}
	for i, er := range e.Errors {
		if i == maxErrors {
			v.MoreErrors = len(e.Errors) - maxErrors
			break
		}
		ev := errView{
			N:         i + 1,
			Exception: oneLine(er.Exception, maxLineRunes),
			Message:   truncate(text.Clean(er.Message), maxMessageRunes),
			Context:   truncate(text.Clean(er.Context), maxContextRunes),
		}
		if !er.CreatedAt.IsZero() {
			ev.CreatedAt = formatTime(er.CreatedAt)
		}
		ev.Frames, ev.MoreFrames = frames(er)
		v.Errors = append(v.Errors, ev)
	}
	if p := e.Pending; p != nil {
		pv := &pendingView{Count: p.Count, Threshold: p.Threshold}
		for i, n := range p.Names {
			if i == maxFrames {
				pv.MoreNames = len(p.Names) - maxFrames
				break
			}
			pv.Names = append(pv.Names, oneLine(n, maxLineRunes))
		}
		v.Pending = pv
	}
	if d := e.Deferred; d != nil {
		v.Deferred = &notify.DeferredError{
			ID:          oneLine(d.ID, maxLineRunes),
			Operation:   oneLine(d.Operation, maxLineRunes),
			Attempts:    d.Attempts,
			MaxAttempts: d.MaxAttempts,
			LastError:   truncate(text.Clean(d.LastError), maxMessageRunes),
		}
	}
	return v
}

// frames returns the first maxFrames frames of an error's trace, each
// capped, and how many frames of the whole recorded trace were left out
// (not of the part the event carries: see notify.Error.TraceFrames).
func frames(er notify.Error) ([]string, int) {
	shown, more := er.Frames(maxFrames)
	out := make([]string, 0, len(shown))
	for _, f := range shown {
		if f = oneLine(f, maxFrameRunes); f != "" {
			out = append(out, f)
		}
	}
	return out, more
}

func formatTime(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") }

// oneLine makes database text safe for a header or a single line: it is
// cleaned, every run of white space (line breaks included) becomes one
// space, and it is capped at n runes.
func oneLine(s string, n int) string { return truncate(text.OneLine(text.Clean(s)), n) }

// truncate caps s at n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string { return text.Truncate(s, n, "…") }

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(textSource))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(htmlSource))

const textSource = `{{define "event" -}}
{{.Kind}}{{if .OccurredAt}} at {{.OccurredAt}}{{end}}
{{- if .App}}
App:          {{.App}}{{end}}
{{- if .Environment}}
Environment:  {{.Environment}}{{end}}
{{- if .Summary}}
Summary:      {{.Summary}}{{end}}
{{- with .Operation}}
Operation:    {{.Name}}
Type:         {{.Type}}
{{- if .ID}}
Row ID:       {{.ID}}{{end}}
{{- if .ExecutedAt}}
Executed at:  {{.ExecutedAt}}{{end}}
{{- if .FailedAt}}
Failed at:    {{.FailedAt}}{{end}}
{{- if .CompletedAt}}
Completed at: {{.CompletedAt}}{{end}}
{{- if .RunningFor}}
Running for:  {{.RunningFor}}{{end}}
{{- end}}
{{- with .Pending}}
Pending:      {{.Count}} (threshold {{.Threshold}})
{{- range .Names}}
  - {{.}}{{end}}
{{- if .MoreNames}}
  and {{.MoreNames}} more{{end}}
{{- end}}
{{- with .Deferred}}
Deferred:     {{.Operation}} (id {{.ID}}), {{.Attempts}} of {{.MaxAttempts}} attempts
Last error:   {{.LastError}}
{{- end}}
{{- if .Source}}
Error:        {{.Source}}{{end}}
{{- range $e := .Errors}}

Error {{$e.N}}: {{$e.Exception}}{{if $e.CreatedAt}} at {{$e.CreatedAt}}{{end}}
{{$e.Message}}
{{- if $e.Context}}
Context: {{$e.Context}}{{end}}
{{- if $e.Frames}}
Trace:
{{- range $e.Frames}}
  {{.}}{{end}}
{{- if $e.MoreFrames}}
  and {{$e.MoreFrames}} more frames{{end}}
{{- end}}
{{- end}}
{{- if .MoreErrors}}

and {{.MoreErrors}} more errors{{end}}
{{end -}}
{{.Title}}
{{with .Intro}}
{{.}}
{{end}}{{if .Digest}}
{{- range .List}}
- {{.}}{{end}}
{{- if .MoreList}}
and {{.MoreList}} more events{{end}}
{{range .Details}}
----------------------------------------
{{template "event" .}}{{end}}
{{- else}}
{{range .Details}}{{template "event" .}}{{end}}
{{- end}}
-- 
Sent by seqwatch.
`

const htmlSource = `{{define "event" -}}
<h3 style="margin:16px 0 4px">{{.Kind}}{{if .OccurredAt}} <small>at {{.OccurredAt}}</small>{{end}}</h3>
<table style="border-collapse:collapse;font-size:14px">
{{- if .App}}<tr><th align="left">App</th><td>{{.App}}</td></tr>{{end}}
{{- if .Environment}}<tr><th align="left">Environment</th><td>{{.Environment}}</td></tr>{{end}}
{{- if .Summary}}<tr><th align="left">Summary</th><td>{{.Summary}}</td></tr>{{end}}
{{- with .Operation}}
<tr><th align="left">Operation</th><td><code>{{.Name}}</code></td></tr>
<tr><th align="left">Type</th><td>{{.Type}}</td></tr>
{{- if .ID}}<tr><th align="left">Row ID</th><td>{{.ID}}</td></tr>{{end}}
{{- if .ExecutedAt}}<tr><th align="left">Executed at</th><td>{{.ExecutedAt}}</td></tr>{{end}}
{{- if .FailedAt}}<tr><th align="left">Failed at</th><td>{{.FailedAt}}</td></tr>{{end}}
{{- if .CompletedAt}}<tr><th align="left">Completed at</th><td>{{.CompletedAt}}</td></tr>{{end}}
{{- if .RunningFor}}<tr><th align="left">Running for</th><td>{{.RunningFor}}</td></tr>{{end}}
{{- end}}
{{- with .Pending}}
<tr><th align="left">Pending</th><td>{{.Count}} (threshold {{.Threshold}}){{range .Names}}<br><code>{{.}}</code>{{end}}{{if .MoreNames}}<br>and {{.MoreNames}} more{{end}}</td></tr>
{{- end}}
{{- with .Deferred}}
<tr><th align="left">Deferred</th><td><code>{{.Operation}}</code> (id {{.ID}}), {{.Attempts}} of {{.MaxAttempts}} attempts</td></tr>
<tr><th align="left">Last error</th><td><pre style="white-space:pre-wrap;margin:0">{{.LastError}}</pre></td></tr>
{{- end}}
{{- if .Source}}<tr><th align="left">Error</th><td><pre style="white-space:pre-wrap;margin:0">{{.Source}}</pre></td></tr>{{end}}
</table>
{{- range $e := .Errors}}
<h4 style="margin:12px 0 4px">Error {{$e.N}}: <code>{{$e.Exception}}</code>{{if $e.CreatedAt}} <small>at {{$e.CreatedAt}}</small>{{end}}</h4>
<pre style="white-space:pre-wrap;margin:0">{{$e.Message}}</pre>
{{- if $e.Context}}
<p>Context: <code>{{$e.Context}}</code></p>{{end}}
{{- if $e.Frames}}
<pre style="font-size:12px;color:#555">
{{- range $e.Frames}}
{{.}}{{end}}
{{- if $e.MoreFrames}}
and {{$e.MoreFrames}} more frames{{end}}
</pre>
{{- end}}
{{- end}}
{{- if .MoreErrors}}
<p>and {{.MoreErrors}} more errors</p>{{end}}
{{end -}}
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:sans-serif">
<h2 style="margin:0 0 8px">{{.Title}}</h2>
{{- with .Intro}}
<p style="white-space:pre-wrap">{{.}}</p>{{end}}
{{- if .Digest}}
<ul>
{{- range .List}}
<li>{{.}}</li>{{end}}
</ul>
{{- if .MoreList}}
<p>and {{.MoreList}} more events</p>{{end}}
{{- range .Details}}
<hr>
{{template "event" .}}{{end}}
{{- else}}
{{range .Details}}{{template "event" .}}{{end}}
{{- end}}
<p style="color:#888;font-size:12px">Sent by seqwatch.</p>
</body></html>
`
