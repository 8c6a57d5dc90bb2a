package notify

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
)

// maxFramesFunc is the most frames the frames function returns.
const maxFramesFunc = 100

// templateFuncs are the functions a message template may call besides
// text/template's own. Each is pure and its result is bounded by its
// input, so that no function lets a template do unbounded work.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"oneline":   text.CleanLine,
		"firstline": firstLine,
		"truncate":  truncateFunc,
		"upper":     strings.ToUpper,
		"lower":     strings.ToLower,
		"trim":      strings.TrimSpace,
		"default":   defaultFunc,
		"contains":  func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix": func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"replace":   replaceFunc,
		"join":      func(sep string, list []string) string { return strings.Join(list, sep) },
		"plural":    Plural,
		"date":      dateFunc,
		"duration":  func(d time.Duration) string { return d.Round(time.Second).String() },
		"frames":    framesFunc,
	}
}

// firstLine is the first non-blank line of s, trimmed.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// truncateFunc is {{truncate 80 .Summary}}: s cut to n characters with an
// ellipsis.
func truncateFunc(n int, s string) (string, error) {
	if n < 1 {
		return "", fmt.Errorf("truncate: the length must be 1 or more (got %d)", n)
	}
	return text.Truncate(s, n, "…"), nil
}

// defaultFunc is {{.Summary | default "no summary"}}: def when s is blank.
func defaultFunc(def, s string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// replaceFunc is {{replace "old" "new" s}}, refused when the result would
// outgrow what any template may write (replace "" "xxxxxxxx" over a long
// trace).
func replaceFunc(old, repl, s string) (string, error) {
	n := strings.Count(s, old)
	if grow := n * (len(repl) - len(old)); len(s)+grow > MaxBodyOutput && grow > 0 {
		return "", fmt.Errorf("replace: the result would be over %d bytes", MaxBodyOutput)
	}
	return strings.ReplaceAll(s, old, repl), nil
}

// dateFunc is {{date "2006-01-02 15:04 MST" .OccurredAt}}: a time (or a
// time pointer, as .Operation.FailedAt) in Go's layout; "" for none.
func dateFunc(layout string, t any) (string, error) {
	var v time.Time
	switch t := t.(type) {
	case time.Time:
		v = t
	case *time.Time:
		if t == nil {
			return "", nil
		}
		v = *t
	default:
		return "", fmt.Errorf("date: %T is not a time", t)
	}
	if v.IsZero() {
		return "", nil
	}
	if len(layout) > 200 {
		return "", fmt.Errorf("date: the layout is over 200 bytes")
	}
	return v.Format(layout), nil
}

// framesFunc is {{range frames 5 .Error}}: the first n frames of an
// error's trace (at most maxFramesFunc), trimmed; none for a nil error.
func framesFunc(n int, e any) ([]string, error) {
	var er Error
	switch e := e.(type) {
	case Error:
		er = e
	case *Error:
		if e == nil {
			return nil, nil
		}
		er = *e
	default:
		return nil, fmt.Errorf("frames: %T is not an error", e)
	}
	frames, _ := er.Frames(min(max(n, 0), maxFramesFunc))
	return frames, nil
}
