package check

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/event"
	"github.com/seqwatch/seqwatch/internal/text"
)

// Status is a monitoring-plugins status; its value is the exit code.
type Status int

// The monitoring-plugins statuses, in order of severity.
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, so that a program
// can decode `seqwatch check --json`.
func (s *Status) UnmarshalText(b []byte) error {
	for _, st := range []Status{OK, Warning, Critical, Unknown} {
		if string(b) == st.String() {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("unknown status %q: want OK, WARNING, CRITICAL or UNKNOWN", b)
}

// Verdict is the judgement of one snapshot: what `seqwatch check` prints.
type Verdict struct {
	Status   Status   `json:"status"`
	Code     int      `json:"code"`
	Summary  string   `json:"summary"`
	Problems []string `json:"problems"`
	// Perf is the performance data, in order.
	Perf []Perf `json:"perfdata"`
	// Stuck are the in-progress operations over StuckAfter, then the
	// Scheduled operations waiting longer than ScheduledStuckAfter.
	Stuck []Attempt `json:"stuck"`
	// Failing are the newest failure of each failing operation.
	Failing []Failure `json:"failing"`
	Counts  Counts    `json:"counts"`
	App     string    `json:"app,omitempty"`
	TakenAt time.Time `json:"taken_at,omitzero"`
}

// Perf is one performance-data item: label=value;warn;crit.
type Perf struct {
	Label string `json:"label"`
	Value int    `json:"value"`
	// Warn is the warning threshold, 0 when there is none.
	Warn int `json:"warn,omitempty"`
}

func (p Perf) String() string {
	s := fmt.Sprintf("%s=%d", p.Label, p.Value)
	if p.Warn > 0 {
		s += fmt.Sprintf(";%d", p.Warn)
	}
	return s
}

// Line is the one-line plugin output: "SEQWATCH STATUS - summary | perfdata".
func (v Verdict) Line() string {
	var perf []string
	for _, p := range v.Perf {
		perf = append(perf, p.String())
	}
	line := "SEQWATCH " + v.Status.String() + " - " + v.Summary
	if len(perf) > 0 {
		line += " | " + strings.Join(perf, " ")
	}
	return line
}

// The separators of the plugin line. Nagios rewrites ';' in plugin output
// to ':' (so "; " ran two failures into one), '|' starts the performance
// data, and Nagios strips `~$&|'"<> from the macros notifications use.
// These are plain ASCII (Nagios's CGIs mangle multi-byte text in some
// locales), survive both Nagios and Icinga 2 unchanged, and have spaces on
// both sides, so no URL can run across one.
const (
	// ProblemSeparator separates the problems of one verdict.
	ProblemSeparator = " -- "
	// ItemSeparator separates the operations listed within one problem.
	ItemSeparator = " / "
)

// Judge judges a snapshot: CRITICAL when an operation has failed and not
// completed since (or a deferred operation used up its attempts), WARNING
// when too many operations are pending or one is stuck in progress, OK
// otherwise. It is Assess(s, th).Verdict().
func Judge(s *Snapshot, th Thresholds) Verdict { return Assess(s, th).Verdict() }

// Verdict summarises the problems as `seqwatch check` prints them: the
// worst status among them; failed runs counted by operation, each named
// with its newest failed run (the snapshot lists them newest first); the
// other problems counted; and the performance data.
func (ps Problems) Verdict() Verdict {
	s, th := ps.Snapshot, ps.Thresholds
	if s == nil {
		s = &Snapshot{}
	}
	v := Verdict{Status: OK, Counts: s.Counts, App: s.App, TakenAt: s.TakenAt, Problems: []string{}, Stuck: []Attempt{}, Failing: []Failure{}}
	seen := map[string]bool{}
	var deferred []DeferredFailure
	var pending *PendingOver
	var waiting []Attempt
	var rolledBack []RolledBackRun
	for _, p := range ps.list {
		if p.Missing != nil {
			v.Problems = append(v.Problems, text.Line(p.Missing.String(), 400))
		}
		v.Status = max(v.Status, p.Status)
		switch {
		case p.Failure != nil:
			if !seen[p.Failure.Name] {
				seen[p.Failure.Name] = true
				v.Failing = append(v.Failing, *p.Failure)
			}
		case p.Running != nil:
			v.Stuck = append(v.Stuck, *p.Running)
		case p.Waiting != nil:
			waiting = append(waiting, *p.Waiting)
		case p.RolledBack != nil:
			rolledBack = append(rolledBack, *p.RolledBack)
		case p.Deferred != nil:
			deferred = append(deferred, *p.Deferred)
		case p.Pending != nil:
			pending = p.Pending
		}
	}

	if n := len(v.Failing); n > 0 {
		var parts []string
		for i, f := range v.Failing {
			if i == 3 {
				parts = append(parts, fmt.Sprintf("and %d more", n-3))
				break
			}
			parts = append(parts, text.Line(f.Name, 255)+": "+f.Headline())
		}
		v.Problems = append(v.Problems, fmt.Sprintf("%d failed %s (%s)", n, plural(n, "operation"), strings.Join(parts, ItemSeparator)))
	}
	if n := len(deferred); n > 0 {
		d := deferred[0]
		v.Problems = append(v.Problems, fmt.Sprintf("%d deferred %s out of attempts (%s: %s)", n, plural(n, "operation"), text.Line(d.Operation, 80), text.Line(d.LastError, 120)))
	}
	if n := len(rolledBack); n > 0 {
		r := rolledBack[0]
		why := ""
		if r.Cause != nil {
			why = " after " + text.Line(r.Cause.Name, 255) + " failed"
		}
		v.Problems = append(v.Problems, fmt.Sprintf("%d rolled-back %s that Sequencer will not run again (%s rolled back %s ago%s)",
			n, plural(n, "operation"), text.Line(r.Name, 255), HumanDuration(s.TakenAt.Sub(*r.RolledBackAt)), why))
	}
	for _, p := range ps.list {
		if line := p.LateLine(s.TakenAt); line != "" {
			v.Problems = append(v.Problems, line)
		}
	}
	if pending != nil {
		v.Problems = append(v.Problems, fmt.Sprintf("%d pending %s (more than %d)", pending.Count, plural(pending.Count, "operation"), pending.Threshold))
	}
	if n := len(v.Stuck); n > 0 {
		a := v.Stuck[0]
		v.Problems = append(v.Problems, fmt.Sprintf("%d %s in progress longer than %s (%s running for %s)", n, plural(n, "operation"), HumanDuration(th.StuckAfter), text.Line(a.Name, 255), HumanDuration(a.RunningFor.Std())))
	}
	if n := len(waiting); n > 0 {
		a := waiting[0]
		v.Problems = append(v.Problems, fmt.Sprintf("%d scheduled %s waiting longer than %s (%s queued %s ago)", n, plural(n, "operation"), HumanDuration(th.ScheduledStuckAfter), text.Line(a.Name, 255), HumanDuration(a.RunningFor.Std())))
		v.Stuck = append(v.Stuck, waiting...)
	}
	if len(v.Problems) == 0 {
		v.Summary = fmt.Sprintf("no failed operations, %d pending %s, %d in progress", s.Counts.PendingOperations, plural(s.Counts.PendingOperations, "operation"), s.Counts.InProgress)
	} else {
		v.Summary = strings.Join(v.Problems, ProblemSeparator)
	}
	if note := unreadableNote(s); note != "" {
		// Named, not a problem: the verdict is the other rows'.
		v.Summary += ProblemSeparator + note
	}
	v.Code = int(v.Status)
	v.Perf = []Perf{
		{Label: "failed", Value: len(v.Failing)},
		{Label: "pending", Value: s.Counts.PendingOperations, Warn: th.MaxPending},
		{Label: "in_progress", Value: s.Counts.InProgress},
		{Label: "stuck", Value: len(v.Stuck)},
		{Label: "pending_migrations", Value: s.Counts.PendingMigrations},
		{Label: "completed", Value: s.Counts.Completed},
		{Label: "deferred_failed", Value: len(deferred)},
		{Label: "unreadable_rows", Value: s.Counts.UnreadableRows},
		// Added labels go last: graphers and scripts that split the line
		// keep reading the earlier ones where they were.
		{Label: "scheduled", Value: s.Counts.Scheduled},
		{Label: "rolled_back", Value: s.Counts.RolledBack},
	}
	return v
}

// unreadableNote names the snapshot's unreadable values in one line, the
// first three of them: "1 row with a value that cannot be read (operations
// row 42: executed_at "garbage" is not a time stamp)", or "" when there
// are none.
func unreadableNote(s *Snapshot) string {
	n := s.Counts.UnreadableRows
	if n == 0 && len(s.Unreadable) == 0 {
		return ""
	}
	n = max(n, len(s.Unreadable))
	var parts []string
	for i, u := range s.Unreadable {
		if i == 3 {
			break
		}
		parts = append(parts, u.String())
	}
	if more := len(s.Unreadable) - len(parts); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	note := fmt.Sprintf("%d %s with a value that cannot be read", n, plural(n, "row"))
	if len(parts) > 0 {
		note += " (" + strings.Join(parts, ItemSeparator) + ")"
	}
	return note
}

// LateLine is how check words a deferred.stuck or deferred.overdue
// problem at now (the status page shows the same line), or "" for a
// problem of another kind.
func (p Problem) LateLine(now time.Time) string {
	l := p.Late
	switch {
	case l == nil:
	case p.Kind == event.DeferredStuck:
		return fmt.Sprintf("%d deferred %s processing, the oldest reserved %s ago (more than %s: its worker died?)",
			l.Count, plural(l.Count, "operation"), HumanDuration(now.Sub(l.Oldest)), HumanDuration(l.After))
	case p.Kind == event.DeferredOverdue:
		return fmt.Sprintf("%d deferred %s pending, the oldest due %s ago (more than %s: is sequencer:deferred-process scheduled?)",
			l.Count, plural(l.Count, "operation"), HumanDuration(now.Sub(l.Oldest)), HumanDuration(l.After))
	}
	return ""
}

// UnknownVerdict is the verdict when the application could not be read.
func UnknownVerdict(err error) Verdict {
	msg := "cannot read the application"
	if err != nil {
		msg = err.Error()
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		msg = "configuration: " + msg
	}
	return Verdict{Status: Unknown, Code: int(Unknown), Summary: text.Line(msg, 400), Problems: []string{text.Line(msg, 400)}, Perf: []Perf{}, Stuck: []Attempt{}, Failing: []Failure{}}
}

// Headline is "Exception: message" of the failure's headline error (see
// HeadlineError), sanitised to one short line, or a note when no error was
// recorded.
func (f Failure) Headline() string {
	e, ok := HeadlineError(f.Errors, ErrorRecord.CreatedTime)
	if !ok {
		return "no error recorded (SEQUENCER_RECORD_ERRORS may be off)"
	}
	return text.Line(ShortClass(e.Exception), 80) + ": " + text.Line(e.Message, 120)
}

// HeadlineError chooses the error a failure is summarised by
// (event.HeadlineError, the one rule for check's line and the daemon's
// alerts alike).
func HeadlineError[E any](errs []E, createdAt func(E) time.Time) (E, bool) {
	return event.HeadlineError(errs, createdAt)
}

// ShortClass drops the namespace of a PHP class name.
func ShortClass(class string) string {
	if i := strings.LastIndexByte(class, '\\'); i >= 0 && i < len(class)-1 {
		return class[i+1:]
	}
	return class
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// HumanDuration formats a duration for people: 45s, 12m, 3h5m, 2d4h.
func HumanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
