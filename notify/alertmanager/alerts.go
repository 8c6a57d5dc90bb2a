package alertmanager

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// The alert names. They are part of seqwatch's interface (Alertmanager
// routes and inhibition rules match on them): never rename one.
const (
	AlertOperationFailed     = "SequencerOperationFailed"
	AlertOperationStuck      = "SequencerOperationStuck"
	AlertPendingPileUp       = "SequencerPendingPileUp"
	AlertDeferredExhausted   = "SequencerDeferredExhausted"
	AlertOperationRolledBack = "SequencerOperationRolledBack"
	AlertDeferredStuck       = "SequencerDeferredStuck"
	AlertDeferredOverdue     = "SequencerDeferredOverdue"
	AlertSourceUnreachable   = "SeqwatchSourceUnreachable"
	// AlertDirectoryMissing is a discovery directory that does not
	// exist: the files' figures are wrong, the database's still hold, so
	// it is not SeqwatchSourceUnreachable, which inhibition rules use to
	// mute everything else.
	AlertDirectoryMissing = "SeqwatchDirectoryMissing"
	// AlertTest is what `seqwatch notify test` posts; it resolves after
	// testValidity.
	AlertTest = "SeqwatchTest"
)

// Annotation limits. Alertmanager stores every annotation of every alert
// in memory, copies it into each notification and gossips it to the
// cluster's peers, and receivers such as Slack or PagerDuty cut long
// fields anyway: each stays small.
const (
	maxSummary   = 1 << 10
	maxException = 512
	maxMessage   = 2 << 10
	maxTrace     = 2 << 10
	maxLabel     = 256
	// maxDescription bounds the description a body template writes.
	maxDescription = 4 << 10
	// testValidity is how long a test alert fires.
	testValidity = 5 * time.Minute
)

// Alert is one element of the body of POST /api/v2/alerts (Alertmanager's
// postableAlert). Times are RFC 3339 in UTC; an empty one is left out.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// rule is what an event kind becomes: the alert's name and severity, and
// whether the event opens the problem or closes it.
type rule struct {
	name     string
	severity string
	closes   bool
}

// ruleOf is the alert an event becomes, by its kind (and for a source
// problem, whether it is about the files); ok is false for the kinds
// without one. Digest and Reminder have none: their items are posted
// instead.
func ruleOf(e notify.Event) (r rule, ok bool) {
	switch kind := e.Kind; kind {
	case notify.OperationFailed, notify.OperationRecovered:
		r = rule{AlertOperationFailed, "critical", kind == notify.OperationRecovered}
	case notify.OperationStuck, notify.OperationUnstuck:
		r = rule{AlertOperationStuck, "warning", kind == notify.OperationUnstuck}
	case notify.PendingThreshold, notify.PendingCleared:
		r = rule{AlertPendingPileUp, "warning", kind == notify.PendingCleared}
	case notify.DeferredFailed:
		r = rule{AlertDeferredExhausted, "critical", false}
	case notify.OperationRolledBack:
		// Firing while the daemon keeps it open (within
		// rolled_back_window); it resolves after ends_after then.
		r = rule{AlertOperationRolledBack, "warning", false}
	case notify.DeferredStuck:
		r = rule{AlertDeferredStuck, "warning", false}
	case notify.DeferredOverdue:
		r = rule{AlertDeferredOverdue, "warning", false}
	case notify.SourceUnreachable, notify.SourceRecovered:
		name := AlertSourceUnreachable
		if strings.HasPrefix(e.Key, notify.FilesKeyPrefix) {
			name = AlertDirectoryMissing
		}
		r = rule{name, "critical", kind == notify.SourceRecovered}
	case notify.Test:
		r = rule{AlertTest, "none", false}
	default:
		return rule{}, false
	}
	return r, true
}

// flatten returns the events to post for one Notify call: a Digest or a
// Reminder stands for its items (each an open problem), every other event
// for itself. Kinds without an alert are left out.
func flatten(events []notify.Event) []notify.Event {
	var out []notify.Event
	for _, e := range events {
		if e.Kind == notify.Digest || e.Kind == notify.Reminder {
			out = append(out, flatten(e.Items)...)
			continue
		}
		if _, ok := ruleOf(e); ok {
			out = append(out, e)
		}
	}
	return out
}

// labels are the alert's identity in Alertmanager: an opening event and
// its closing event have the same labels, so the closing one resolves the
// alert. Empty values are left out (Alertmanager drops them anyway).
func labels(e notify.Event, extra map[string]string) map[string]string {
	r, _ := ruleOf(e)
	l := make(map[string]string, len(extra)+5)
	for k, v := range extra {
		l[k] = v
	}
	set := func(k, v string) {
		if v = labelValue(v); v != "" {
			l[k] = v
		}
	}
	set("alertname", r.name)
	set("app", e.App)
	set("environment", e.Environment)
	set("severity", r.severity)
	switch {
	case e.Operation != nil:
		set("operation", e.Operation.Name)
	case e.Deferred != nil:
		set("operation", e.Deferred.Operation)
	}
	return l
}

// fingerprint is a canonical string of a label set: two alerts with the
// same fingerprint are one alert to Alertmanager.
func fingerprint(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	return b.String()
}

// labelValue makes database text (an operation's file name, an app name)
// a label value: clean, one line, bounded.
func labelValue(s string) string {
	s = strings.Join(strings.Fields(text.Clean(s)), " ")
	return cut(s, maxLabel, "…")
}

// annotations describe the problem for people: a summary, and for a
// failure the headline exception, its message and the first frames of its
// trace, each bounded. Only database text is carried, cleaned of control
// characters and invisible format characters.
func annotations(e notify.Event) map[string]string {
	a := map[string]string{}
	if s := text.CleanLine(e.Summary); s != "" {
		a["summary"] = cut(s, maxSummary, "…")
	}
	if er, ok := e.HeadlineError(); ok {
		if x := text.CleanLine(er.Exception); x != "" {
			a["exception"] = cut(x, maxException, "…")
		}
		if m := strings.TrimSpace(text.Clean(er.Message)); m != "" {
			a["message"] = cutMarked(m, maxMessage)
		}
		if t := traceExcerpt(er); t != "" {
			a["trace"] = t
		}
	}
	if e.Deferred != nil {
		if m := strings.TrimSpace(text.Clean(e.Deferred.LastError)); m != "" && a["message"] == "" {
			a["message"] = cutMarked(m, maxMessage)
		}
		a["attempts"] = fmt.Sprintf("%d of %d", e.Deferred.Attempts, e.Deferred.MaxAttempts)
	}
	if e.Pending != nil {
		a["pending"] = fmt.Sprintf("%d (threshold %d)", e.Pending.Count, e.Pending.Threshold)
	}
	if e.Source != "" {
		a["message"] = cutMarked(strings.TrimSpace(text.Clean(e.Source)), maxMessage)
	}
	return a
}

// annotations are the alert's annotations, with the summary and the
// description the templates write for its event, if any: a title template
// writes the summary (cleaned, one line), a body template the
// description (cleaned). Alertmanager renders no markup; its receivers
// get the annotations as text.
func (n *Notifier) annotations(e notify.Event) map[string]string {
	a := annotations(e)
	r := n.templates.Render([]notify.Event{e}, a["summary"], "")
	if r.TitleTemplated {
		if s := text.CleanLine(r.Title); s != "" {
			a["summary"] = cut(s, maxSummary, "…")
		} else {
			delete(a, "summary")
		}
	}
	if d := strings.TrimSpace(text.Clean(r.Body)); r.BodyTemplated && d != "" {
		a["description"] = cutMarked(d, maxDescription)
	}
	return a
}

// traceExcerpt is the first whole frames of er's trace that fit in
// maxTrace, and a line saying how many frames are left out.
func traceExcerpt(er notify.Error) string {
	frames, _ := er.Frames(64)
	var b strings.Builder
	used := 0
	for _, f := range frames {
		f = text.CleanLine(f)
		if b.Len()+len(f)+1 > maxTrace-40 { // room for the marker line
			break
		}
		b.WriteString(f)
		b.WriteByte('\n')
		used++
	}
	if used == 0 && len(frames) > 0 {
		// One frame longer than the limit: its start is better than nothing.
		b.WriteString(cut(text.CleanLine(frames[0]), maxTrace-40, "…"))
		b.WriteByte('\n')
		used = 1
	}
	if more := er.AllFrames() - used; more > 0 && used > 0 {
		fmt.Fprintf(&b, "… (%d more frames)", more)
	}
	return strings.TrimRight(b.String(), "\n")
}

// cut shortens s to at most max bytes at a rune boundary, ending in mark
// when it was cut.
func cut(s string, max int, mark string) string {
	if len(s) <= max {
		return s
	}
	n := max - len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRightFunc(s[:n], unicode.IsSpace) + mark
}

// cutMarked is cut with a marker that says how many bytes were left out;
// the marker fits within max too.
func cutMarked(s string, max int) string {
	if len(s) <= max {
		return s
	}
	c := cut(s, max-32, "")
	return c + fmt.Sprintf("… (%d more bytes)", len(s)-len(c))
}

// rfc3339 formats t for Alertmanager, or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// sortAlerts orders alerts by fingerprint so that a request's body does not
// depend on map order (golden tests, and identical retries).
func sortAlerts(as []Alert) {
	slices.SortStableFunc(as, func(a, b Alert) int {
		return strings.Compare(fingerprint(a.Labels), fingerprint(b.Labels))
	})
}
