package notify

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
)

// Message templates let a team word a channel's messages itself, per event
// kind. A template writes plain text: the channel escapes what it wrote for
// its own markup afterwards, exactly as it escapes database text, so that
// no template can turn an exception message into a mention, a link or
// formatting. The parts of a message that are not text (Slack's fields,
// the trace block, a pager's dedup key) are the channel's own.

// The keys of a channel's templates besides the event kinds.
const (
	// DefaultTemplates are the templates of every kind without its own.
	DefaultTemplates = "default"
	// TitlePart and BodyPart name the two parts of a message a template
	// can write.
	TitlePart = "title"
	BodyPart  = "body"
)

// Template limits. A template is configuration, but it still gets limits:
// its source, what it writes, and the work it may do.
const (
	// MaxTemplateSource is the most bytes of one template's source.
	MaxTemplateSource = 16 << 10
	// MaxTitleOutput and MaxBodyOutput are the most bytes a title and a
	// body template write; the rest is left out (every channel cuts to
	// its own, smaller, limits afterwards).
	MaxTitleOutput = 2 << 10
	MaxBodyOutput  = 64 << 10
	// maxRangeDepth is how deeply range actions may nest: a range over a
	// digest's items and, inside it, over each item's errors. Execution
	// cannot be cancelled, so this and the rules of checkTree bound its
	// work by the size of the events.
	maxRangeDepth = 2
)

// MessageTemplate is one kind's templates, as a channel entry of
// seqwatch.yaml gives them. An empty part keeps the channel's own words.
type MessageTemplate struct {
	Title string `yaml:"title,omitempty" json:"title,omitempty"`
	Body  string `yaml:"body,omitempty" json:"body,omitempty"`
}

// TemplateSources are a channel's templates by event kind, and under
// DefaultTemplates those of every other kind.
type TemplateSources map[string]MessageTemplate

// TemplateData is what a template is executed with: every field of the
// event (.Kind, .ID, .Key, .App, .Environment, .OccurredAt, .Summary,
// .Operation, .Errors, .Pending, .Deferred, .Items, .Source, .Deploy), and:
//
//   - .Error, the error the event is summarised by (nil when none);
//   - .PageURL, the status page's address (http.url; "" when not set);
//   - .Title and .Body, the channel's own words for this message, so that
//     a template can add to them rather than replace them.
//
// Several events sent as one message are a digest to their template: .Kind
// is digest, .Items are the events, and .App and .Environment are theirs
// when they share them.
type TemplateData struct {
	Event
	Error   *Error
	PageURL string
	Title   string
	Body    string
}

// TemplateError is a template that does not parse or fails on a sample
// event. Key names it as seqwatch.yaml does (operation.failed.title, or
// the kind alone for an unknown kind).
type TemplateError struct {
	Key string
	Err error
}

func (e *TemplateError) Error() string { return e.Key + ": " + e.Err.Error() }

func (e *TemplateError) Unwrap() error { return e.Err }

// TemplateOptions are what ParseTemplates needs besides the sources.
type TemplateOptions struct {
	// PageURL is .PageURL.
	PageURL string
	// Parts are the parts the channel takes (nil: title and body).
	Parts []string
	// Logger is told when a template fails at send time and the channel's
	// own words are sent instead (nil: discarded).
	Logger *slog.Logger
}

// Templates are a channel's parsed templates. The nil *Templates keeps
// every message as the channel words it.
type Templates struct {
	byKind  map[string]parsedTemplate
	pageURL string
	logger  *slog.Logger
}

type parsedTemplate struct {
	title, body *template.Template
}

// TemplateKinds are the keys a channel's templates may have: the event
// kinds, then DefaultTemplates.
func TemplateKinds() []string {
	kinds := make([]string, 0, len(sampleKinds)+1)
	for _, k := range sampleKinds {
		kinds = append(kinds, string(k))
	}
	return append(kinds, DefaultTemplates)
}

// ParseTemplates parses a channel's templates and runs each on a sample
// event of every kind it serves (see SampleEvent), so that a field that
// does not exist, or one a kind does not have and the template did not
// guard ({{with .Operation}}), is an error now rather than at the first
// alert. It returns every problem, each with its key; the Templates are
// nil when there is a problem, or no template at all.
func ParseTemplates(src TemplateSources, opts TemplateOptions) (*Templates, []*TemplateError) {
	if len(src) == 0 {
		return nil, nil
	}
	parts := opts.Parts
	if parts == nil {
		parts = []string{TitlePart, BodyPart}
	}
	t := &Templates{byKind: map[string]parsedTemplate{}, pageURL: opts.PageURL, logger: opts.Logger}
	if t.logger == nil {
		t.logger = slog.New(slog.DiscardHandler)
	}
	var errs []*TemplateError
	known := TemplateKinds()
	for _, kind := range slices.Sorted(maps.Keys(src)) {
		m := src[kind]
		if !slices.Contains(known, kind) {
			errs = append(errs, &TemplateError{Key: kind, Err: fmt.Errorf("is not an event kind: use one of %s", strings.Join(known, ", "))})
			continue
		}
		var p parsedTemplate
		for _, part := range []struct {
			name string
			src  string
			out  **template.Template
		}{{TitlePart, m.Title, &p.title}, {BodyPart, m.Body, &p.body}} {
			if part.src == "" {
				continue
			}
			key := kind + "." + part.name
			if !slices.Contains(parts, part.name) {
				errs = append(errs, &TemplateError{Key: key, Err: fmt.Errorf("this channel takes no %s template (it takes %s)", part.name, strings.Join(parts, " and "))})
				continue
			}
			tpl, err := parseOne(key, part.src)
			if err == nil {
				err = t.tryOn(tpl, kind, part.name)
			}
			if err != nil {
				errs = append(errs, &TemplateError{Key: key, Err: err})
				continue
			}
			*part.out = tpl
		}
		t.byKind[kind] = p
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return t, nil
}

// parseOne parses one template and checks it keeps to what a message
// template may do.
func parseOne(name, src string) (*template.Template, error) {
	if len(src) > MaxTemplateSource {
		return nil, fmt.Errorf("is %d bytes; a template may have at most %d", len(src), MaxTemplateSource)
	}
	tpl, err := template.New(name).Option("missingkey=error").Funcs(templateFuncs()).Parse(src)
	if err != nil {
		return nil, errors.New(parseMessage(err, name))
	}
	if len(tpl.Templates()) > 1 {
		return nil, errors.New("defines templates of its own ({{define}} or {{block}}); write the message in one template")
	}
	if err := checkTree(tpl.Tree.Root, 0); err != nil {
		return nil, err
	}
	return tpl, nil
}

// parseMessage is text/template's error without the "template: NAME:"
// that repeats the key the caller names anyway, its position in words.
func parseMessage(err error, name string) string {
	msg := strings.TrimPrefix(err.Error(), "template: ")
	msg = strings.TrimPrefix(msg, name+":")
	return inWords(strings.TrimSpace(msg))
}

var (
	position  = regexp.MustCompile(`^(\d+)(?::(\d+))?: *`)
	noField   = regexp.MustCompile(`can't evaluate field (\w+) in type [\w.*]+`)
	fieldHelp = `there is no field $1 here (docs/channels.md, "Message templates", lists the data)`
)

// inWords writes text/template's "3:12: " as "template line 3, column 12:
// " and its Go type names as what the data is.
func inWords(msg string) string {
	msg = position.ReplaceAllStringFunc(msg, func(m string) string {
		sub := position.FindStringSubmatch(m)
		if sub[2] != "" {
			return "template line " + sub[1] + ", column " + sub[2] + ": "
		}
		return "template line " + sub[1] + ": "
	})
	return noField.ReplaceAllString(msg, fieldHelp)
}

// checkTree refuses what could make a template's execution unbounded:
// {{template}} (a template calling itself), range over a number ({{range
// 1000000000}} writes nothing and runs for minutes), and range nested more
// than maxRangeDepth deep. What is left runs in time bounded by the
// template's size and the events'.
func checkTree(n parse.Node, depth int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkTree(c, depth); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		return fmt.Errorf("calls the template %q: write the message in one template", n.Name)
	case *parse.RangeNode:
		if depth+1 > maxRangeDepth {
			return fmt.Errorf("nests range more than %d deep", maxRangeDepth)
		}
		if err := checkRange(n.Pipe); err != nil {
			return err
		}
		if err := checkTree(n.List, depth+1); err != nil {
			return err
		}
		return checkTree(n.ElseList, depth)
	case *parse.IfNode:
		if err := checkTree(n.List, depth); err != nil {
			return err
		}
		return checkTree(n.ElseList, depth)
	case *parse.WithNode:
		if err := checkTree(n.List, depth); err != nil {
			return err
		}
		return checkTree(n.ElseList, depth)
	}
	return nil
}

// checkRange allows range over the data only: a field, a variable, or the
// frames function (which returns at most its limit of lines).
func checkRange(p *parse.PipeNode) error {
	if p == nil || len(p.Cmds) == 0 {
		return nil
	}
	for _, cmd := range p.Cmds {
		if len(cmd.Args) == 0 {
			continue
		}
		switch a := cmd.Args[0].(type) {
		case *parse.FieldNode, *parse.VariableNode, *parse.ChainNode, *parse.DotNode:
		case *parse.IdentifierNode:
			if a.Ident != "frames" {
				return fmt.Errorf("ranges over %s: range over the event's fields (.Items, .Errors) or frames", a.Ident)
			}
		default:
			return fmt.Errorf("ranges over %s: range over the event's fields (.Items, .Errors) or frames", cmd.Args[0])
		}
	}
	return nil
}

// tryOn runs tpl on a sample event of each kind the key serves, and on a
// digest of several events for the default templates.
func (t *Templates) tryOn(tpl *template.Template, kind, part string) error {
	kinds := []Kind{Kind(kind)}
	if kind == DefaultTemplates {
		kinds = sampleKinds
	}
	limit := MaxTitleOutput
	if part == BodyPart {
		limit = MaxBodyOutput
	}
	at := time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)
	for _, k := range kinds {
		ev := SampleEvent(k, "shop", "production", at)
		data := t.data([]Event{ev}, "Title", "Body")
		if _, err := execute(tpl, data, limit); err != nil {
			if kind == DefaultTemplates {
				return fmt.Errorf("on a sample %s event: %w", k, err)
			}
			return err
		}
	}
	return nil
}

// Rendered are a message's words after its templates.
type Rendered struct {
	Title, Body string
	// TitleTemplated and BodyTemplated say which parts a template wrote,
	// for channels that word other parts around them (Slack's
	// notification text).
	TitleTemplated, BodyTemplated bool
}

// Render returns the words of the message that carries events: title and
// body (the channel's own words) with each part a template of the
// message's kind (or a default template) gives replaced by what the
// template writes. A template that fails on these events (a field the
// event does not have, which the sample did not show) is logged and the
// channel's own words are sent: an alert is never lost to its template.
// What a template writes is plain text; the channel escapes it.
func (t *Templates) Render(events []Event, title, body string) Rendered {
	r := Rendered{Title: title, Body: body}
	if t == nil || len(events) == 0 {
		return r
	}
	kind := string(messageEvent(events).Kind)
	p, ok := t.byKind[kind]
	if !ok || p.title == nil && p.body == nil {
		p = t.byKind[DefaultTemplates]
		kind = DefaultTemplates
	}
	if p.title == nil && p.body == nil {
		return r
	}
	data := t.data(events, title, body)
	if p.title != nil {
		if s, err := execute(p.title, data, MaxTitleOutput); err != nil {
			t.logger.Warn("the title template failed; the channel's own title was sent", "template", kind+".title", "err", err)
		} else {
			r.Title, r.TitleTemplated = s, true
		}
	}
	if p.body != nil {
		if s, err := execute(p.body, data, MaxBodyOutput); err != nil {
			t.logger.Warn("the body template failed; the channel's own body was sent", "template", kind+".body", "err", err)
		} else {
			r.Body, r.BodyTemplated = s, true
		}
	}
	return r
}

// Has reports whether a template applies to the message carrying events.
func (t *Templates) Has(events []Event) bool {
	if t == nil || len(events) == 0 {
		return false
	}
	for _, k := range []string{string(messageEvent(events).Kind), DefaultTemplates} {
		if p := t.byKind[k]; p.title != nil || p.body != nil {
			return true
		}
	}
	return false
}

// data is what the templates see for events.
func (t *Templates) data(events []Event, title, body string) TemplateData {
	ev := messageEvent(events)
	d := TemplateData{Event: ev, PageURL: t.pageURL, Title: title, Body: body}
	if e, ok := ev.HeadlineError(); ok {
		d.Error = &e
	}
	return d
}

// messageEvent is the event a message stands for: the only one, or a
// digest of several.
func messageEvent(events []Event) Event {
	if len(events) == 1 {
		return events[0]
	}
	d := Event{Kind: Digest, App: events[0].App, Environment: events[0].Environment, Items: events}
	for _, e := range events {
		if e.App != d.App || e.Environment != d.Environment {
			d.App, d.Environment = "", ""
		}
		if e.OccurredAt.After(d.OccurredAt) {
			d.OccurredAt = e.OccurredAt
		}
	}
	return d
}

// errOutputFull stops a template that wrote its limit.
var errOutputFull = errors.New("output limit reached")

// boundedBuffer keeps the first limit bytes written to it and then refuses
// more, which ends the template's execution.
type boundedBuffer struct {
	buf   bytes.Buffer
	limit int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	room := b.limit - b.buf.Len()
	if len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		return max(room, 0), errOutputFull
	}
	return b.buf.Write(p)
}

// execute runs tpl over data and returns what it wrote, cleaned (text.Clean)
// and cut at limit bytes with a marker when it wrote more.
func execute(tpl *template.Template, data TemplateData, limit int) (string, error) {
	out := &boundedBuffer{limit: limit}
	err := tpl.Execute(out, data)
	full := errors.Is(err, errOutputFull)
	if err != nil && !full {
		return "", errors.New(execMessage(err, tpl.Name()))
	}
	s := out.buf.String()
	if full {
		s = text.CutBytes(s, limit-len(outputMarker)) + outputMarker
	}
	return text.Clean(s), nil
}

const outputMarker = "… (truncated)"

// execMessage is text/template's execution error without its "template:
// NAME:1:2: executing "NAME" at <...>:" preamble, keeping the position
// and the action.
func execMessage(err error, name string) string {
	msg := strings.TrimPrefix(err.Error(), "template: ")
	msg = strings.TrimPrefix(msg, name+":")
	msg = strings.Replace(msg, fmt.Sprintf("executing %q at ", name), "at ", 1)
	return inWords(strings.TrimSpace(msg))
}
