package gate

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/text"
)

// Printer writes a wait for a person or a CI log: one line per change,
// and on a terminal a status line with the counts and the time waited,
// redrawn in place. It is the Observer of `seqwatch wait` and `deploy`.
type Printer struct {
	w io.Writer
	// Color paints the marks (a terminal without NO_COLOR).
	Color bool
	// StatusLine keeps the status line (a terminal).
	StatusLine bool
	// Grace is the async retry grace, named in the lines.
	Grace time.Duration
	shown bool
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer, color, statusLine bool, grace time.Duration) *Printer {
	return &Printer{w: w, Color: color, StatusLine: statusLine, Grace: grace}
}

const (
	green  = "32"
	red    = "31"
	yellow = "33"
	cyan   = "36"
	dim    = "2"
)

func (p *Printer) paint(code, s string) string {
	if !p.Color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// clear removes the status line, if it is shown.
func (p *Printer) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[2K")
		p.shown = false
	}
}

func (p *Printer) line(s string) {
	p.clear()
	fmt.Fprintln(p.w, s)
}

// Line is the line that tells a run's new outcome ("" for a change not
// worth a line).
func (p *Printer) Line(j Judged, was Outcome) string {
	n := text.Line(j.Name, 255)
	switch j.Outcome {
	case Running:
		return p.paint(dim, "▸") + " " + n + " started (" + text.Line(j.Type, 40) + ")"
	case Completed:
		how := "completed"
		if j.FailedAt != nil {
			how = "completed on the queue's retry"
		}
		return p.paint(green, "✓") + " " + n + " " + how + " (" + check.HumanDuration(j.For) + ")"
	case Recovered:
		return p.paint(green, "✓") + " " + n + " recovered: a later run completed"
	case Failed:
		s := p.paint(red, "✗") + " " + n + " failed: " + failure(j.Run).Headline()
		if was == Retrying {
			s += " (no retry within " + check.HumanDuration(p.Grace) + ")"
		}
		return s
	case Retrying:
		return p.paint(yellow, "↻") + " " + n + " failed a try: " + failure(j.Run).Headline() +
			"; waiting up to " + check.HumanDuration(p.Grace) + " for the queue's retry"
	case RolledBack:
		s := p.paint(yellow, "↺") + " " + n + " rolled back"
		if j.Cause != nil {
			s += " (after " + text.Line(j.Cause.Name, 255) + " failed)"
		}
		return s
	case Skipped:
		s := p.paint(cyan, "↷") + " " + n + " skipped"
		if r := text.Line(j.SkipReason, 200); r != "" {
			s += ": " + r
		}
		return s
	case Scheduled:
		return p.paint(cyan, "◷") + " " + n + " scheduled: waits for its time (queued " + j.ExecutedAt.Format(time.DateTime) + ")"
	}
	return ""
}

// Changed prints the line of a run's new outcome.
func (p *Printer) Changed(j Judged, was Outcome) {
	if s := p.Line(j, was); s != "" {
		p.line(s)
	}
}

// Polled redraws the status line.
func (p *Printer) Polled(runs []Judged, elapsed time.Duration) {
	if !p.StatusLine {
		return
	}
	p.clear()
	fmt.Fprint(p.w, p.paint(dim, "waiting: "+Counts(runs)+" · "+check.HumanDuration(elapsed)))
	p.shown = true
}

// ReadFailed says that a poll failed and the wait goes on.
func (p *Printer) ReadFailed(err error, failures int) {
	p.line(p.paint(yellow, "!") + " cannot read the application (" + text.Line(err.Error(), 300) + "); trying again")
}

// CommandEnded says how the deploy's command ended, before the wait.
func (p *Printer) CommandEnded(c Command, e Exit) {
	mark := p.paint(green, "▸")
	if e.Failed() {
		mark = p.paint(red, "▸")
	}
	p.line(mark + " the command " + e.Describe() + " after " + check.HumanDuration(e.Took) + ": " + text.Line(c.String(), 200))
}

// Finish prints the end of a wait: each run still holding it, with how
// long it has run, the files that did not run, then the verdict's line
// in check's form (Verdict(res), or DeployVerdict's).
func (p *Printer) Finish(res Result, v check.Verdict) {
	p.clear()
	if res.TimedOut || res.Stopped {
		for _, j := range res.Runs {
			if !j.Outcome.holds() {
				continue
			}
			what := "still running"
			if j.Outcome == Retrying {
				what = "still waiting for the queue's retry"
			}
			p.line(p.paint(yellow, "…") + " " + text.Line(j.Name, 255) + " " + what + " after " + check.HumanDuration(j.For) + " (" + text.Line(j.Type, 40) + ")")
		}
	}
	quiet := ""
	if res.Settled > 0 {
		quiet = ", and nothing changed for " + check.HumanDuration(res.Settled)
	}
	for _, f := range res.NotRun {
		p.line(p.paint(dim, "·") + " " + text.Line(f.Name, 255) + " not run: no run since " + res.Since.Format(time.DateTime) + quiet)
	}
	p.line(v.Line())
}

// Counts is "2 running, 5 completed, 1 failed", the outcomes that
// occurred, in a fixed order.
func Counts(runs []Judged) string {
	t := TallyOf(runs)
	var parts []string
	for _, o := range []struct {
		o    Outcome
		word string
	}{
		{Running, "running"}, {Retrying, "waiting for a retry"}, {Completed, "completed"}, {Recovered, "recovered"},
		{Failed, "failed"}, {RolledBack, "rolled back"}, {Skipped, "skipped"}, {Scheduled, "scheduled"},
	} {
		if n := t[o.o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o.word))
		}
	}
	if len(parts) == 0 {
		return "no runs yet"
	}
	return strings.Join(parts, ", ")
}

// Quiet is an Observer that prints nothing (--json writes its lines
// elsewhere, or not at all).
type Quiet struct{}

func (Quiet) Changed(Judged, Outcome)        {}
func (Quiet) Polled([]Judged, time.Duration) {}
func (Quiet) ReadFailed(error, int)          {}
