package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
)

// maxDocument bounds the trace file seqwatch uploads: far below the Bot
// API's 50 MB for a bot's upload, and above any trace the state keeps.
const maxDocument = 8 << 20

// maxCaption is the Bot API's limit on a document's caption (0-1024
// characters after entity parsing, in UTF-16 code units).
const maxCaption = 1024

// statusHint is where the whole failure can always be read, whatever the
// trace file holds or whether it arrived.
const statusHint = "seqwatch status --failed -v"

// traceDocument is the file of the whole carried error of a single
// failure whose message could not show all of it: the exception, the
// whole message and every frame the state kept. ok is false when the
// message already shows everything (or there is no error to show).
func traceDocument(events []notify.Event, msgText string) (doc []byte, ok bool) {
	if len(events) != 1 || len(events[0].Items) != 0 {
		return nil, false
	}
	ev := events[0]
	e, has := ev.HeadlineError()
	if !has || notify.Closes(ev.Kind) {
		return nil, false
	}
	if !leftOut(e) && !strings.Contains(msgText, esc(truncMarker)) {
		return nil, false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", text.CleanLine(notify.DefaultTitle(ev.Kind)+" · "+notify.AppEnv(ev)))
	if op := ev.Operation; op != nil {
		fmt.Fprintf(&b, "Operation: %s\n", text.CleanLine(op.Name+notify.TypeNote(op.Type)))
	}
	fmt.Fprintf(&b, "Exception: %s\n", text.CleanLine(e.Exception+notify.ThrownAtNote(e.Context)))
	if ev.ID != "" {
		fmt.Fprintf(&b, "Event: %s\n", text.CleanLine(ev.ID))
	}
	b.WriteString("\nMessage:\n" + strings.Trim(text.Clean(e.Message), "\n") + "\n")
	trace := strings.Trim(text.Clean(e.Trace), "\n")
	kept := notify.CountFrames(e.Trace)
	b.WriteString("\nTrace:\n" + trace + "\n")
	if all := e.AllFrames(); all > kept {
		fmt.Fprintf(&b, "\n… the state kept %d of %d frames; the whole trace: %s\n", kept, all, statusHint)
	}
	return cutDocument(b.String(), maxDocument), true
}

// leftOut reports whether the default message leaves part of e out: a
// frame beyond the first maxFrames, a frame or message cut short.
func leftOut(e notify.Error) bool {
	frames, more := e.Frames(maxFrames)
	if more > 0 || utf8.RuneCountInString(strings.TrimSpace(text.Clean(e.Message))) > maxMessageRunes {
		return true
	}
	for _, f := range frames {
		if utf8.RuneCountInString(f) > maxFrameRunes {
			return true
		}
	}
	return false
}

// cutDocument keeps s within n bytes, cut after a whole line (or a whole
// character) with a marker that says where the rest is.
func cutDocument(s string, n int) []byte {
	if len(s) <= n {
		return []byte(s)
	}
	marker := "\n" + truncMarker + "; the whole trace: " + statusHint + "\n"
	cut := s[:n-len(marker)]
	for !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	if nl := strings.LastIndexByte(cut, '\n'); nl > 0 {
		cut = cut[:nl]
	}
	return []byte(cut + marker)
}

// caption is the document's caption: seqwatch's own words and the
// event's id, no database text (Telegram scans a caption for mentions and
// links, and no parse mode is asked for, so nothing in it is markup).
func caption(ev notify.Event) string {
	c := "📎 The whole error, as the state keeps it · " + footer([]notify.Event{ev})
	return cutUTF16(text.CleanLine(c), maxCaption)
}

// fileName is the document's name: the event's id in letters, digits, -
// and _, so a name never carries a path or markup.
func fileName(ev notify.Event) string {
	id := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, ev.ID)
	if id == "" {
		return "seqwatch-trace.txt"
	}
	return "seqwatch-trace-" + text.Truncate(id, 64, "") + ".txt"
}

// sendTrace uploads doc (sendDocument, multipart) as a silent reply to
// the alert's message replyTo (0: not known, no reply), in the alert's
// topic. It is best effort and never fails the Notify call: the alert
// itself was delivered, and a retry of the whole call would send it a
// second time. A failure is logged with where to read the whole trace.
func (n *Notifier) sendTrace(ctx context.Context, ev notify.Event, doc []byte, replyTo int64) {
	what := "sendDocument " + ev.ID
	if !n.docs.take() {
		n.logger.WarnContext(ctx, "the alert was sent; its whole trace was not, to keep the chat within Telegram's 20 messages a minute; read it with "+statusHint,
			"event", ev.ID, "key", ev.Key)
		return
	}
	req, err := n.documentRequest(ctx, ev, doc, replyTo)
	if err == nil {
		_, _, err = n.sendRequest(req, what)
	}
	if err != nil {
		attrs := []any{"event", ev.ID, "key", ev.Key, "error", err.Error()}
		if after, ok := notify.RetryAfter(err); ok {
			attrs = append(attrs, "retry_after", after.String())
		}
		n.logger.WarnContext(ctx, "the alert was sent but its whole trace could not follow it; read it with "+statusHint, attrs...)
	}
}

// documentRequest is the sendDocument request that uploads doc.
func (n *Notifier) documentRequest(ctx context.Context, ev notify.Event, doc []byte, replyTo int64) (*http.Request, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fields := [][2]string{
		{"chat_id", n.cfg.ChatID},
		{"caption", caption(ev)},
		{"disable_notification", "true"}, // the alert already rang
	}
	if n.cfg.MessageThreadID != 0 {
		fields = append(fields, [2]string{"message_thread_id", strconv.FormatInt(n.cfg.MessageThreadID, 10)})
	}
	if replyTo != 0 {
		rp, err := json.Marshal(replyParameters{MessageID: replyTo, AllowSendingWithoutReply: true})
		if err != nil {
			return nil, fmt.Errorf("telegram: encoding reply_parameters: %w", err)
		}
		fields = append(fields, [2]string{"reply_parameters", string(rp)})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, fmt.Errorf("telegram: building the upload: %w", err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="document"; filename=%q`, fileName(ev)))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	part, err := w.CreatePart(h)
	if err == nil {
		_, err = part.Write(doc)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("telegram: building the upload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.base+"/sendDocument", &b)
	if err != nil {
		return nil, n.sender.SafeError(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("User-Agent", "seqwatch-telegram")
	return req, nil
}
