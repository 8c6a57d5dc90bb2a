package slack

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// Slack's documented limits (Block Kit reference and chat.postMessage):
// Slack rejects a message that breaks a block limit (invalid_blocks) and
// truncates top-level text beyond 40,000 characters.
const (
	maxBlocks      = 50
	maxHeaderText  = 150
	maxSectionText = 3000
	maxFieldText   = 2000
	maxFields      = 10
	maxContextText = 3000
	maxMessageText = 40000
)

// How much of an event a message shows.
const (
	maxFrames        = 10  // trace frames per error
	maxFrameRunes    = 280 // runes of one trace frame
	maxErrorsInline  = 3   // errors in the main message
	maxErrorsThread  = 10  // errors in the thread reply
	maxDigestLines   = 20  // events listed in a digest
	maxDigestSummary = 250 // runes of one digest line's summary
	maxPendingNames  = 20
)

const truncMarker = "… (truncated)"

// message is what one Notify sends: the main message and, in bot mode, an
// optional thread reply with the stack traces.
type message struct {
	text       string
	blocks     []slack.Block
	threadText string
	thread     []slack.Block
}

// buildMessage renders events with the channel's templates.
func (n *Notifier) buildMessage(events []notify.Event, traceInThread bool) message {
	return buildMessage(events, traceInThread, n.templates)
}

// buildMessage renders events. With traceInThread the stack traces go to
// the thread reply instead of the main message (bot mode). The templates,
// if any, word the header and the plain-text section under the facts (the
// summary, or a digest's introduction); Slack shows both as plain text,
// where nothing is a mention or a link, and the notification text made of
// them is escaped.
func buildMessage(events []notify.Event, traceInThread bool, tpl *notify.Templates) message {
	if len(events) == 1 && len(events[0].Items) == 0 {
		return singleMessage(events[0], traceInThread, tpl)
	}
	return digestMessage(events, tpl)
}

func singleMessage(ev notify.Event, traceInThread bool, tpl *notify.Templates) message {
	emoji, title := titleOf(ev.Kind)
	r := tpl.Render([]notify.Event{ev}, emoji+" "+title, ev.Summary)
	blocks := []slack.Block{header(r.Title)}

	if f := eventFields(ev); len(f) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, f, nil))
	}
	if s := strings.TrimSpace(r.Body); s != "" {
		blocks = append(blocks, plainSection(s))
	}

	shown := min(len(ev.Errors), maxErrorsInline)
	hasTrace := false
	for _, e := range ev.Errors[:shown] {
		blocks = append(blocks, errorSection(e))
		if strings.TrimSpace(e.Trace) == "" {
			continue
		}
		hasTrace = true
		if !traceInThread {
			blocks = append(blocks, traceSection(e, "*Trace*"))
		}
	}
	if more := len(ev.Errors) - shown; more > 0 {
		blocks = append(blocks, contextText(fmt.Sprintf("_… and %d more errors_", more)))
	}
	if p := ev.Pending; p != nil && len(p.Names) > 0 {
		blocks = append(blocks, pendingSection(p.Names))
	}
	if d := ev.Deferred; d != nil && strings.TrimSpace(d.LastError) != "" {
		blocks = append(blocks, codeSection("*Last error*", d.LastError))
	}
	if strings.TrimSpace(ev.Source) != "" {
		blocks = append(blocks, codeSection("*Error*", ev.Source))
	}
	foot := "seqwatch"
	if ev.ID != "" {
		foot += " · event " + inlineCode(ev.ID, 100)
	}
	if traceInThread && hasTrace {
		foot += " · stack traces in the thread"
	}
	blocks = append(blocks, contextText(foot))

	text := fallbackText(emoji+" "+title, ev)
	if r.TitleTemplated || r.BodyTemplated {
		text = templatedText(r)
	}
	m := message{
		text:   text,
		blocks: capBlocks(blocks),
	}
	if traceInThread && hasTrace {
		m.threadText = truncate(esc("Stack traces: "+title+" "+notify.OpName(ev)), maxMessageText)
		m.thread = threadBlocks(ev)
	}
	return m
}

// threadBlocks lists the stack traces of an event's errors for the thread
// reply under the alert.
func threadBlocks(ev notify.Event) []slack.Block {
	var blocks []slack.Block
	shown := 0
	for _, e := range ev.Errors {
		if strings.TrimSpace(e.Trace) == "" {
			continue
		}
		if shown == maxErrorsThread {
			break
		}
		shown++
		blocks = append(blocks, traceSection(e, "*Trace of* "+inlineCode(e.Exception, 300)))
	}
	withTrace := 0
	for _, e := range ev.Errors {
		if strings.TrimSpace(e.Trace) != "" {
			withTrace++
		}
	}
	if more := withTrace - shown; more > 0 {
		blocks = append(blocks, contextText(fmt.Sprintf("_… and %d more errors_", more)))
	}
	return capBlocks(blocks)
}

// digestMessage is one message for several events (or for a Digest or
// Reminder event standing for its Items): a header, up to maxDigestLines
// one-line entries, and how many were left out.
func digestMessage(events []notify.Event, tpl *notify.Templates) message {
	var title string
	var items []notify.Event
	var intro string
	if len(events) == 1 {
		ev := events[0]
		emoji, t := titleOf(ev.Kind)
		title = fmt.Sprintf("%s %s: %d %s", emoji, t, len(ev.Items), notify.Plural(len(ev.Items), "item", "items"))
		items = ev.Items
		intro = ev.Summary
	} else {
		title = fmt.Sprintf(":bell: %d seqwatch alerts", len(events))
		if app := commonApp(events); app != "" {
			title += " for " + app
		}
		items = events
	}

	r := tpl.Render(events, title, intro)
	title, intro = r.Title, r.Body
	blocks := []slack.Block{header(title)}
	if s := strings.TrimSpace(intro); s != "" {
		blocks = append(blocks, plainSection(s))
	}
	shown := min(len(items), maxDigestLines)
	lines := make([]string, 0, shown)
	for _, ev := range items[:shown] {
		lines = append(lines, digestLine(ev))
	}
	blocks = append(blocks, packLines(lines)...)
	more := len(items) - shown
	if more > 0 {
		blocks = append(blocks, contextText(fmt.Sprintf("_… and %d more_", more)))
	}

	text := esc(title)
	if r.TitleTemplated {
		text = esc(oneLine(title))
	}
	for _, l := range lines {
		text += "\n" + l
	}
	if more > 0 {
		text += fmt.Sprintf("\n… and %d more", more)
	}
	return message{text: truncate(text, maxMessageText), blocks: capBlocks(blocks)}
}

func digestLine(ev notify.Event) string {
	emoji, title := titleOf(ev.Kind)
	line := "• " + emoji + " *" + title + "*"
	if where := appEnv(ev); where != "" {
		line += " · " + where
	}
	summary := ev.Summary
	if strings.TrimSpace(summary) == "" {
		summary = notify.OpName(ev)
	}
	if s := oneLine(summary); s != "" {
		line += " · " + truncate(esc(s), maxDigestSummary)
	}
	if d := slackDate(ev.OccurredAt); d != "" {
		line += " · " + d
	}
	return line
}

// packLines puts lines into as few sections as fit the section limit.
func packLines(lines []string) []slack.Block {
	var blocks []slack.Block
	var cur string
	flush := func() {
		if cur != "" {
			blocks = append(blocks, mrkdwnSection(cur))
			cur = ""
		}
	}
	for _, l := range lines {
		l = truncate(l, maxSectionText)
		if cur != "" && utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(l) > maxSectionText {
			flush()
		}
		if cur != "" {
			cur += "\n"
		}
		cur += l
	}
	flush()
	return blocks
}

func eventFields(ev notify.Event) []*slack.TextBlockObject {
	var fields []*slack.TextBlockObject
	add := func(label, value string) {
		if value == "" || len(fields) == maxFields {
			return
		}
		head := "*" + label + "*\n"
		fields = append(fields, mrkdwn(head+truncate(value, maxFieldText-utf8.RuneCountInString(head))))
	}
	add("Application", esc(oneLine(ev.App)))
	add("Environment", esc(oneLine(ev.Environment)))
	if op := ev.Operation; op != nil {
		add("Operation", inlineCode(op.Name, 500))
		add("Type", esc(oneLine(op.Type)))
		add("Started", slackDate(op.ExecutedAt))
		if op.FailedAt != nil {
			add("Failed", slackDate(*op.FailedAt))
		}
		if op.CompletedAt != nil {
			add("Completed", slackDate(*op.CompletedAt))
		}
		if op.RunningFor > 0 {
			add("Running for", op.RunningFor.Round(time.Second).String())
		}
	}
	if p := ev.Pending; p != nil {
		add("Pending", fmt.Sprintf("%d (threshold %d)", p.Count, p.Threshold))
	}
	if d := ev.Deferred; d != nil {
		add("Deferred operation", inlineCode(d.Operation, 500))
		add("Attempts", fmt.Sprintf("%d of %d", d.Attempts, d.MaxAttempts))
	}
	if op := ev.Operation; op == nil || !sameTime(ev.OccurredAt, op.FailedAt) && !sameTime(ev.OccurredAt, op.CompletedAt) {
		add("Occurred", slackDate(ev.OccurredAt))
	}
	return fields
}

func sameTime(t time.Time, p *time.Time) bool { return p != nil && p.Equal(t) }

func errorSection(e notify.Error) slack.Block {
	text := "*Exception* " + inlineCode(e.Exception, 300)
	if at := notify.ThrownAt(e.Context); at != "" {
		text += " at " + inlineCode(at, 500)
	}
	if d := slackDate(e.CreatedAt); d != "" {
		text += " · " + d
	}
	if strings.TrimSpace(e.Message) != "" {
		text += "\n*Message*\n"
		text += codeBlock(e.Message, maxSectionText-utf8.RuneCountInString(text))
	}
	return mrkdwnSection(text)
}

// traceSection shows the first maxFrames frames of a PHP
// getTraceAsString() trace in a code block, and how many frames of the
// whole recorded trace it leaves out (notify.Error.TraceFrames: the event
// may carry only the first part of a long trace).
func traceSection(e notify.Error, head string) slack.Block {
	frames, more := e.Frames(maxFrames)
	suffix := ""
	if more > 0 {
		suffix = fmt.Sprintf("\n_… and %d more frames_", more)
	}
	// Cap each frame so that one huge frame cannot hide the others.
	escaped := make([]string, len(frames))
	for i, fr := range frames {
		escaped[i] = truncate(esc(fr), maxFrameRunes)
	}
	head += "\n"
	budget := maxSectionText - utf8.RuneCountInString(head) - utf8.RuneCountInString(suffix)
	return mrkdwnSection(head + fence(strings.Join(escaped, "\n"), budget) + suffix)
}

func codeSection(head, body string) slack.Block {
	head += "\n"
	return mrkdwnSection(head + codeBlock(body, maxSectionText-utf8.RuneCountInString(head)))
}

func pendingSection(names []string) slack.Block {
	text := "*Pending operations*"
	shown := min(len(names), maxPendingNames)
	for _, n := range names[:shown] {
		text += "\n• " + inlineCode(n, 120)
	}
	if more := len(names) - shown; more > 0 {
		text += fmt.Sprintf("\n_… and %d more_", more)
	}
	return mrkdwnSection(truncate(text, maxSectionText))
}

func fallbackText(title string, ev notify.Event) string {
	text := esc(title)
	if where := appEnv(ev); where != "" {
		text += " · " + where
	}
	summary := ev.Summary
	if strings.TrimSpace(summary) == "" {
		summary = notify.OpName(ev)
	}
	if s := oneLine(summary); s != "" {
		text += ": " + esc(s)
	}
	return truncate(text, maxMessageText)
}

// templatedText is the notification text of a templated message: its
// title and the start of its body on one line, escaped.
func templatedText(r notify.Rendered) string {
	text := esc(oneLine(r.Title))
	if body := oneLine(r.Body); body != "" {
		text += ": " + esc(truncatePlain(body, maxDigestSummary))
	}
	return truncate(text, maxMessageText)
}

// titleOf names what happened, with the emoji shortcode shown before it.
func titleOf(k notify.Kind) (emoji, title string) {
	switch k {
	case notify.OperationFailed:
		return ":rotating_light:", "Operation failed"
	case notify.OperationRecovered:
		return ":white_check_mark:", "Operation recovered"
	case notify.OperationStuck:
		return ":hourglass:", "Operation stuck"
	case notify.OperationUnstuck:
		return ":white_check_mark:", "Operation no longer stuck"
	case notify.PendingThreshold:
		return ":warning:", "Pending operations over threshold"
	case notify.PendingCleared:
		return ":white_check_mark:", "Pending operations back under threshold"
	case notify.OperationRolledBack:
		return ":rewind:", "Operation rolled back: it will not run again"
	case notify.DeferredFailed:
		return ":x:", "Deferred operation used up its attempts"
	case notify.DeferredStuck:
		return ":hourglass:", "Deferred operations stuck in processing"
	case notify.DeferredOverdue:
		return ":alarm_clock:", "Deferred operations overdue"
	case notify.SourceUnreachable:
		return ":electric_plug:", "Database unreachable"
	case notify.SourceRecovered:
		return ":white_check_mark:", "Database reachable again"
	case notify.Digest:
		return ":bookmark_tabs:", "Digest"
	case notify.Reminder:
		return ":repeat:", "Reminder: still open"
	case notify.Test:
		return ":test_tube:", "Test alert from seqwatch"
	default:
		return ":information_source:", oneLine(string(k))
	}
}

// appEnv is "app (environment)", escaped.
func appEnv(ev notify.Event) string {
	s := esc(oneLine(ev.App))
	if env := oneLine(ev.Environment); env != "" {
		s += " (" + esc(env) + ")"
	}
	return truncate(s, 200)
}

func commonApp(events []notify.Event) string {
	app := events[0].App
	for _, ev := range events[1:] {
		if ev.App != app {
			return ""
		}
	}
	return oneLine(app)
}

// header is a header block: plain text, at most 150 characters. title is
// raw text, cleaned here and not escaped (see plainSection).
func header(title string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncatePlain(oneLine(title), maxHeaderText), true, false))
}

// plainSection shows raw text as plain_text. Slack shows plain_text as
// written: it parses no mentions (<!channel> cannot ping anyone), links or
// formatting in it and decodes no entities, so the text is cleaned but not
// escaped; escaping would show "&lt;" to the reader.
func plainSection(raw string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.PlainTextType, truncatePlain(clean(raw), maxSectionText), false, false), nil, nil)
}

// mrkdwnSection wraps text we composed (escaped parts only). verbatim keeps
// Slack from turning bare URLs, #channel and @mention words into links.
func mrkdwnSection(text string) slack.Block {
	return slack.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), nil, nil)
}

func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
}

func contextText(text string) slack.Block {
	return slack.NewContextBlock("", mrkdwn(truncate(text, maxContextText)))
}

// capBlocks keeps a message within Slack's block limit.
func capBlocks(blocks []slack.Block) []slack.Block {
	if len(blocks) <= maxBlocks {
		return blocks
	}
	out := append(blocks[:maxBlocks-1:maxBlocks-1], contextText(fmt.Sprintf("_… and %d more blocks (truncated)_", len(blocks)-maxBlocks+1)))
	return out
}

// slackDate renders t with Slack's date formatting, which shows it in each
// reader's time zone, with the time in its own zone as the fallback.
func slackDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("<!date^%d^{date_num} {time_secs}|%s>", t.Unix(), esc(t.Format("2006-01-02 15:04:05 MST")))
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc makes database text safe for Slack: valid UTF-8, no control or
// bidi-override characters, and &, <, > escaped so that <!channel>,
// <!here>, <@U123> and <url|label> cannot notify anyone or hide a link.
func esc(s string) string { return escaper.Replace(clean(s)) }

// clean removes control and format characters (text.Clean; the
// renderer names a local variable text).
func clean(s string) string { return text.Clean(s) }

// oneLine collapses all whitespace (newlines included) to single spaces.
func oneLine(s string) string { return text.OneLine(clean(s)) }

// inlineCode shows raw text as `code` on one line.
func inlineCode(raw string, limit int) string {
	s := strings.ReplaceAll(esc(oneLine(raw)), "`", "ˋ")
	if s == "" {
		return ""
	}
	return "`" + truncate(s, limit-2) + "`"
}

// codeBlock shows raw text in a ``` block of at most limit characters.
func codeBlock(raw string, limit int) string { return fence(esc(raw), limit) }

// fence puts escaped text in a ``` block of at most limit characters.
// A run of three backticks in the text would close the block early: its
// middle one becomes U+02CB (a visible grave accent), not a zero-width
// character, which would make the text differ from what it shows.
func fence(s string, limit int) string {
	s = strings.TrimRight(s, "\n")
	s = strings.ReplaceAll(s, "```", "`ˋ`")
	if s == "" {
		return ""
	}
	return "```" + truncate(s, limit-6) + "```"
}

// truncatePlain cuts plain (unescaped) text to limit runes, marker
// included.
func truncatePlain(s string, limit int) string { return text.Truncate(s, limit, truncMarker) }

// truncate cuts escaped text to limit runes, marker included, never inside
// an &amp; &lt; &gt; entity.
func truncate(s string, limit int) string {
	return text.TruncateFunc(s, limit, truncMarker, dropPartialEntity)
}

// dropPartialEntity drops an entity cut in half at the end of escaped
// text: every & in it starts an entity, and the longest is "&amp;".
func dropPartialEntity(cut string) string {
	if amp := strings.LastIndexByte(cut, '&'); amp >= 0 && amp >= len(cut)-4 && !strings.Contains(cut[amp:], ";") {
		return cut[:amp]
	}
	return cut
}
