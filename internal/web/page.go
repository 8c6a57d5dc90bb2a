package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

type pageData struct {
	Status
	Refresh int
	now     time.Time
}

// Ago says how long before the page was rendered t was.
func (p pageData) Ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return human(p.now.Sub(t)) + " ago"
}

// human writes a duration the way people say it: 45s, 3m, 2h 5m, 3d 4h.
func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

var pageFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Format("2006-01-02 15:04:05 MST")
	},
	"iso": func(t time.Time) string { return t.Format(time.RFC3339) },
	"seconds": func(s int64) string {
		return human(time.Duration(s) * time.Second)
	},
	"lower": strings.ToLower,
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
}

// pageTemplate is the status page. html/template escapes every value by
// context; nothing from the database is ever marked safe. There is no
// script: the page reloads itself with a meta refresh.
var pageTemplate = template.Must(template.New("page").Funcs(pageFuncs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>seqwatch{{range .Apps}} · {{.Name}} {{.Verdict}}{{end}}</title>
<style>
:root { color-scheme: light dark; --ok: #1a7f37; --warning: #9a6700; --critical: #cf222e; --unknown: #6e7781; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 72rem; padding: 0.75rem; }
header.top { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: 0.5rem; border-bottom: 1px solid #8884; }
header.top h1 { font-size: 1.3rem; margin: 0.25rem 0; }
section.app { margin: 1rem 0 2rem; }
section.app > header h2 { font-size: 1.2rem; margin: 0.5rem 0 0.25rem; overflow-wrap: anywhere; }
.verdict { display: inline-block; padding: 0.1rem 0.55rem; border-radius: 0.3rem; color: #fff; font-weight: 600; font-size: 0.9rem; vertical-align: middle; }
.verdict-ok { background: var(--ok); } .verdict-warning { background: var(--warning); }
.verdict-critical { background: var(--critical); } .verdict-unknown { background: var(--unknown); }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.4rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.5rem; border-bottom: 1px solid #8884; overflow-wrap: break-word; }
th { font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.02em; white-space: nowrap; }
td.name, td.msg { min-width: 12rem; overflow-wrap: anywhere; }
time { white-space: nowrap; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.8rem; max-height: 30rem; overflow: auto; margin: 0.3rem 0; }
details summary { cursor: pointer; }
.muted { color: #6e7781; }
.mutedev { color: #9a6700; font-weight: normal; }
.err { color: var(--critical); }
.result-delivered { color: var(--ok); } .result-retrying, .result-queued { color: var(--warning); } .result-dead { color: var(--critical); font-weight: 600; }
ul.channels { list-style: none; margin: 0; padding: 0; }
@media (max-width: 40rem) {
  body { font-size: 14px; padding: 0.5rem; }
  table.stack thead { display: none; }
  table.stack tr { display: block; border-bottom: 1px solid #8886; padding: 0.3rem 0; }
  table.stack td { display: block; border: 0; padding: 0.1rem 0.25rem; }
  table.stack td::before { content: attr(data-label) ": "; font-weight: 600; }
}
</style>
</head>
<body>
<header class="top">
<h1>seqwatch</h1>
<p class="muted">Page made {{when .GeneratedAt}}; it reloads every {{.Refresh}}s. Also as <a href="api/v1/status">JSON</a> and <a href="metrics">metrics</a>.</p>
</header>
<main>
{{- if not .Apps}}
<p>No application has been read yet.</p>
{{- end}}
{{- range .Apps}}
<section class="app" aria-labelledby="app-{{.Name}}">
<header>
<h2 id="app-{{.Name}}">{{.Name}}{{if .Environment}} <span class="muted">({{.Environment}})</span>{{end}}
 <span class="verdict verdict-{{lower .Verdict}}">{{.Verdict}}</span></h2>
<p class="summary">{{.Summary}}</p>
<p class="muted">Last read: {{if .LastReadAt.IsZero}}not yet{{else}}<time datetime="{{iso .LastReadAt}}">{{when .LastReadAt}}</time> ({{$.Ago .LastReadAt}}){{end}}.
{{- if .ReadError}} Last successful read: {{if .LastSuccessfulReadAt.IsZero}}never{{else}}<time datetime="{{iso .LastSuccessfulReadAt}}">{{when .LastSuccessfulReadAt}}</time>{{end}}.{{end}}</p>
{{- if .ReadError}}
<p class="err" role="alert">The last read failed: {{.ReadError}}</p>
{{- end}}
</header>
{{- if .Notices}}
<ul class="notices">{{range .Notices}}<li class="err">{{.}}</li>{{end}}</ul>
{{- end}}

<h3>Failing operations ({{len .Failing}})</h3>
{{- if .Failing}}
<div class="scroll"><table class="stack failing">
<thead><tr><th scope="col">Operation</th><th scope="col">Exception</th><th scope="col">Message</th><th scope="col">Failed at</th></tr></thead>
<tbody>
{{- range .Failing}}{{$f := .}}
{{- if .Errors}}{{range .Errors}}
<tr>
<td class="name" data-label="Operation">{{$f.Name}} <span class="muted">#{{$f.ID}}{{if $f.Type}} · {{$f.Type}}{{end}}</span></td>
<td data-label="Exception">{{.Exception}}</td>
<td class="msg" data-label="Message">{{.Message}}{{if .Trace}}
<details><summary>Trace</summary><pre>{{.Trace}}</pre></details>{{end}}</td>
<td data-label="Failed at">{{if $f.FailedAt.IsZero}}<time datetime="{{iso .CreatedAt}}">{{when .CreatedAt}}</time>{{else}}<time datetime="{{iso $f.FailedAt}}">{{when $f.FailedAt}}</time>{{end}}</td>
</tr>
{{- end}}{{else}}
<tr>
<td class="name" data-label="Operation">{{.Name}} <span class="muted">#{{.ID}}</span></td>
<td data-label="Exception" class="muted">no error recorded</td><td data-label="Message"></td>
<td data-label="Failed at"><time datetime="{{iso .FailedAt}}">{{when .FailedAt}}</time></td>
</tr>
{{- end}}
{{- end}}
</tbody>
</table></div>
{{- else}}
<p class="muted">None.</p>
{{- end}}

<h3>In progress ({{len .InProgress}})</h3>
{{- if .InProgress}}
<div class="scroll"><table class="stack in-progress">
<thead><tr><th scope="col">Operation</th><th scope="col">Type</th><th scope="col">Started</th><th scope="col">Running for</th><th scope="col">State</th></tr></thead>
<tbody>
{{- range .InProgress}}
<tr>
<td class="name" data-label="Operation">{{.Name}} <span class="muted">#{{.ID}}</span></td>
<td data-label="Type">{{.Type}}</td>
<td data-label="Started"><time datetime="{{iso .ExecutedAt}}">{{when .ExecutedAt}}</time></td>
<td data-label="Running for">{{seconds .RunningForSeconds}}</td>
<td data-label="State">{{if .Stuck}}<strong class="err">stuck</strong>{{else}}running{{end}}</td>
</tr>
{{- end}}
</tbody>
</table></div>
{{- else}}
<p class="muted">None.</p>
{{- end}}

{{- if .Scheduled}}
<h3>Scheduled, waiting for their time ({{len .Scheduled}})</h3>
<div class="scroll"><table class="stack scheduled">
<thead><tr><th scope="col">Operation</th><th scope="col">Queued</th><th scope="col">Waiting for</th><th scope="col">State</th></tr></thead>
<tbody>
{{- range .Scheduled}}
<tr>
<td class="name" data-label="Operation">{{.Name}} <span class="muted">#{{.ID}}</span></td>
<td data-label="Queued"><time datetime="{{iso .ExecutedAt}}">{{when .ExecutedAt}}</time></td>
<td data-label="Waiting for">{{seconds .RunningForSeconds}}</td>
<td data-label="State">{{if .Stuck}}<strong class="err">waiting too long</strong>{{else}}waiting{{end}}</td>
</tr>
{{- end}}
</tbody>
</table></div>
{{- end}}

<h3>Pending operations</h3>
<p class="pending{{if .Pending.Over}} err{{end}}">{{.Pending.Count}} pending{{if .Pending.Threshold}}, threshold {{.Pending.Threshold}}{{if .Pending.Over}}: over the threshold{{end}}{{else}} (no threshold set){{end}}.</p>
{{- if .Pending.Names}}
<details><summary>Which</summary><ul>{{range .Pending.Names}}<li>{{.}}</li>{{end}}</ul></details>
{{- end}}

{{- if .DeferredExhausted}}
<h3>Deferred operations out of attempts ({{len .DeferredExhausted}})</h3>
<div class="scroll"><table class="stack deferred">
<thead><tr><th scope="col">Operation</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
<tbody>
{{- range .DeferredExhausted}}
<tr><td class="name" data-label="Operation">{{.Operation}} <span class="muted">#{{.ID}}</span></td><td data-label="Attempts">{{.Attempts}} of {{.MaxAttempts}}</td><td class="msg" data-label="Last error">{{.LastError}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- end}}

<h3>Recent events ({{len .Events}})</h3>
{{- if .Events}}
<div class="scroll"><table class="stack events">
<thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Summary</th><th scope="col">Channels</th></tr></thead>
<tbody>
{{- range .Events}}
<tr>
<td data-label="When"><time datetime="{{iso .OccurredAt}}">{{when .OccurredAt}}</time></td>
<td data-label="Event">{{.Kind}}{{if .Muted}} <strong class="mutedev">muted</strong>{{end}}</td>
<td class="msg" data-label="Summary">{{.Summary}}</td>
<td data-label="Channels"><ul class="channels">{{range .Channels}}<li>{{.Channel}}: <span class="result-{{.Result}}">{{.Result}}</span>{{if gt .Attempts 1}} ({{.Attempts}} attempts){{end}}{{if .LastError}} <span class="muted">{{.LastError}}</span>{{end}}</li>{{else}}<li class="muted">{{if .Muted}}not sent (muted){{else}}no channel{{end}}</li>{{end}}</ul></td>
</tr>
{{- end}}
</tbody>
</table></div>
{{- else}}
<p class="muted">No events since the daemon started.</p>
{{- end}}

{{- if .Channels}}
<h3>Channels</h3>
<div class="scroll"><table class="stack channels">
<thead><tr><th scope="col">Channel</th><th scope="col">Waiting</th><th scope="col">Dead letters</th><th scope="col">State</th></tr></thead>
<tbody>
{{- range .Channels}}
<tr><td data-label="Channel">{{.Name}}</td><td data-label="Waiting">{{.Outbox}}</td><td data-label="Dead letters">{{.Dead}}</td><td data-label="State">{{if .Disabled}}<strong class="err">disabled</strong>{{else}}enabled{{end}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- end}}

<h3>Mutes</h3>
{{- if .Mutes}}
<div class="scroll"><table class="stack mutes">
<thead><tr><th scope="col">Until</th><th scope="col">Reason</th><th scope="col">By</th><th scope="col">source.unreachable</th></tr></thead>
<tbody>
{{- range .Mutes}}
<tr><td data-label="Until"><time datetime="{{iso .Until}}">{{when .Until}}</time></td><td data-label="Reason">{{if .Reason}}{{.Reason}}{{else}}<span class="muted">none given</span>{{end}}</td><td data-label="By">{{.By}} <span class="muted">{{.ID}}</span></td><td data-label="source.unreachable">{{if .KeepUnreachable}}still sent{{else}}muted{{end}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- else}}
<p class="muted">No active mutes.</p>
{{- end}}
</section>
{{- end}}
</main>
</body>
</html>
`))
