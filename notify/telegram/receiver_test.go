package telegram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// message is one message the fake Bot API took.
type message struct {
	id      int64
	chatID  any
	thread  int64
	replyTo int64
	html    string // the text as sent
	plain   string // the text Telegram shows, tags dropped, entities decoded
	body    []byte
	silent  bool // disable_notification

	// A document (sendDocument) has these instead of html and body:
	// plain is its caption.
	document []byte
	fileName string
	fileType string
}

// fakeTelegram stands in for the Bot API's sendMessage. It refuses what
// Telegram documents it refuses (401 for a wrong token, 400 for an unknown
// chat, for HTML its parser cannot read, for a text over 4096 characters
// after parsing, 429 past about 20 messages a minute to a group), and
// reports every breach of those rules, and of seqwatch's own (link
// previews off; database text never where Telegram finds mentions or
// links), as a test error.
type fakeTelegram struct {
	t     *testing.T
	srv   *httptest.Server
	token string
	chat  string
	clock *testkit.Clock // nil: the rate is not counted

	mu     sync.Mutex
	got    []message
	times  []time.Time
	nextID int64
	// answers are raw answers (status, body) to give the next requests
	// instead of taking them, consumed in order.
	answers []cannedAnswer
}

type cannedAnswer struct {
	status int
	body   string
}

func newFakeTelegram(t *testing.T) *fakeTelegram {
	f := &fakeTelegram{t: t, token: testToken, chat: testChat, nextID: 100}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTelegram) answerNext(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, cannedAnswer{status, body})
}

func (f *fakeTelegram) messages() []message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]message(nil), f.got...)
}

func fail(w http.ResponseWriter, status int, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": status, "description": description})
}

func (f *fakeTelegram) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.t
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if r.URL.Path != "/bot"+f.token+"/"+method || method != "sendMessage" && method != "sendDocument" {
		if method == "sendMessage" || method == "sendDocument" {
			fail(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		t.Errorf("request to %s, want /bot<token>/sendMessage or /sendDocument", r.URL.Path)
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != http.MethodPost {
		t.Errorf("%s: seqwatch posts", r.Method)
	}
	if method == "sendDocument" {
		f.serveDocument(w, r)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req struct {
		ChatID                any    `json:"chat_id"`
		MessageThreadID       int64  `json:"message_thread_id"`
		Text                  string `json:"text"`
		ParseMode             string `json:"parse_mode"`
		DisableWebPagePreview bool   `json:"disable_web_page_preview"`
		LinkPreviewOptions    *struct {
			IsDisabled bool `json:"is_disabled"`
		} `json:"link_preview_options"`
		ReplyParameters *struct {
			MessageID                int64 `json:"message_id"`
			AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
		} `json:"reply_parameters"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // a chat id has more digits than a float64 keeps
	if !utf8.Valid(body) || dec.Decode(&req) != nil {
		t.Errorf("body is not UTF-8 JSON: %q", body)
		fail(w, http.StatusBadRequest, "Bad Request: can't parse JSON")
		return
	}
	if fmt.Sprint(req.ChatID) != f.chat {
		t.Errorf("chat_id %v, want %s", req.ChatID, f.chat)
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	if req.ParseMode != "HTML" {
		t.Errorf("parse_mode %q, want HTML", req.ParseMode)
	}
	if req.LinkPreviewOptions == nil || !req.LinkPreviewOptions.IsDisabled || !req.DisableWebPagePreview {
		t.Errorf("link previews are not off both ways (link_preview_options.is_disabled, disable_web_page_preview)")
	}
	plain, code, err := parseHTML(req.Text)
	if err != nil {
		t.Errorf("Telegram cannot parse the message: %v\n%s", err, req.Text)
		fail(w, http.StatusBadRequest, "Bad Request: can't parse entities: "+err.Error())
		return
	}
	if n := utf16Len(plain); n > 4096 {
		t.Errorf("message text is %d characters after parsing, over Telegram's 4096", n)
		fail(w, http.StatusBadRequest, "Bad Request: message is too long")
		return
	}
	if strings.TrimSpace(plain) == "" {
		t.Errorf("empty message")
		fail(w, http.StatusBadRequest, "Bad Request: message text is empty")
		return
	}
	checkInert(t, plain, code)
	m := message{chatID: req.ChatID, thread: req.MessageThreadID, html: req.Text, plain: plain, body: body}
	if req.ReplyParameters != nil {
		m.replyTo, _ = f.replyTarget(w, req.ReplyParameters.MessageID, req.ReplyParameters.AllowSendingWithoutReply)
		if m.replyTo < 0 {
			return
		}
	}
	f.take(w, m)
}

// replyTarget is the message a reply goes to: id when the fake holds it,
// 0 when it does not and allow is set (Telegram then sends the message
// without a reply); otherwise it answers 400 as Telegram does and
// returns -1.
func (f *fakeTelegram) replyTarget(w http.ResponseWriter, id int64, allow bool) (int64, bool) {
	if !allow {
		f.t.Errorf("a reply without allow_sending_without_reply is lost when the original was deleted")
	}
	for _, m := range f.got {
		if m.id == id {
			return id, true
		}
	}
	if allow {
		return 0, false
	}
	fail(w, http.StatusBadRequest, "Bad Request: message to be replied not found")
	return -1, false
}

// take answers with a canned answer, if one is queued, or with a 429 past
// Telegram's rate to a group (messages and documents count alike), or
// keeps m and answers with the Message it became.
func (f *fakeTelegram) take(w http.ResponseWriter, m message) {
	t := f.t
	if len(f.answers) > 0 {
		a := f.answers[0]
		f.answers = f.answers[1:]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
		return
	}
	if f.clock != nil && strings.HasPrefix(f.chat, "-") {
		now := f.clock.Now()
		n := 0
		for _, at := range f.times {
			if now.Sub(at) < time.Minute {
				n++
			}
		}
		if n >= 20 {
			t.Errorf("message %d to a group within a minute: Telegram allows about 20", n+1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`)
			return
		}
		f.times = append(f.times, now)
	}
	f.nextID++
	m.id = f.nextID
	f.got = append(f.got, m)
	result := map[string]any{"message_id": m.id, "chat": map[string]any{"id": m.chatID}, "date": 1700000000}
	if m.document != nil {
		result["caption"] = m.plain
		result["document"] = map[string]any{"file_id": fmt.Sprintf("doc%d", m.id), "file_unique_id": fmt.Sprintf("u%d", m.id), "file_name": m.fileName, "file_size": len(m.document)}
	} else {
		result["text"] = m.plain
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

// Telegram's HTML: the tags its parser knows (seqwatch uses b, i and pre)
// and the entities it decodes.
var (
	knownTags = map[string]bool{
		"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true,
		"del": true, "span": true, "tg-spoiler": true, "a": true, "tg-emoji": true, "code": true, "pre": true,
		"blockquote": true,
	}
	tagRe    = regexp.MustCompile(`^<(/?)([a-z-]+)([^<>]*)>`)
	entityRe = regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);`)
)

// parseHTML reads text as Telegram's HTML parse mode does: it returns the
// text shown and, for each of its runes, whether it lies in a code or pre
// entity. It fails where Telegram answers "can't parse entities": an
// unknown or unclosed tag, a < or & that starts no tag or entity, a bare
// >, a tag inside code or pre. seqwatch never writes a link (<a>).
func parseHTML(s string) (string, []bool, error) {
	var plain strings.Builder
	var code []bool
	var stack []string
	inCode := func() bool {
		for _, tg := range stack {
			if tg == "code" || tg == "pre" {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			m := tagRe.FindStringSubmatch(s[i:])
			if m == nil || !knownTags[m[2]] {
				return "", nil, fmt.Errorf("unsupported start tag at byte offset %d", i)
			}
			if m[2] == "a" {
				return "", nil, fmt.Errorf("a link at byte offset %d: seqwatch never links", i)
			}
			if m[1] == "/" {
				if len(stack) == 0 || stack[len(stack)-1] != m[2] {
					return "", nil, fmt.Errorf("unmatched end tag %q at byte offset %d", m[2], i)
				}
				stack = stack[:len(stack)-1]
			} else {
				if inCode() && !(m[2] == "code" && stack[len(stack)-1] == "pre") {
					return "", nil, fmt.Errorf("tag %q inside code or pre", m[2])
				}
				stack = append(stack, m[2])
			}
			i += len(m[0])
		case '&':
			m := entityRe.FindString(s[i:])
			if m == "" {
				return "", nil, fmt.Errorf("a & that starts no entity at byte offset %d", i)
			}
			r, _ := utf8.DecodeRuneInString(html.UnescapeString(m))
			plain.WriteRune(r)
			code = append(code, inCode())
			i += len(m)
		case '>':
			return "", nil, fmt.Errorf("a bare > at byte offset %d", i)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			plain.WriteRune(r)
			code = append(code, inCode())
			i += size
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("unclosed tag %q", stack[len(stack)-1])
	}
	return plain.String(), code, nil
}

// What Telegram turns into a mention or a link in text outside code and
// pre entities.
var (
	mentionRe = regexp.MustCompile(`@[A-Za-z0-9_]{3,}`)
	linkRe    = regexp.MustCompile(`(?i)\b(https?|tg|ftp)://|\bwww\.|\b[a-z0-9-]+\.(com|org|net|io|example)\b`)
	commandRe = regexp.MustCompile(`(^|\s)(/[A-Za-z]|#[A-Za-z]|\$[A-Z]{3})`)
)

// checkInert fails when a mention or a link would be live: text that lies
// outside code and pre, where Telegram detects them. Clean text also has
// no CR, control or format character anywhere.
func checkInert(t *testing.T, plain string, code []bool) {
	t.Helper()
	var outside strings.Builder
	for i, r := range []rune(plain) {
		if code[i] {
			r = ' '
		}
		outside.WriteRune(r)
	}
	if m := mentionRe.FindString(outside.String()); m != "" {
		t.Errorf("%q outside code or pre: Telegram would mention someone", m)
	}
	if m := linkRe.FindString(outside.String()); m != "" {
		t.Errorf("%q outside code or pre: Telegram would make a link", m)
	}
	if m := commandRe.FindString(outside.String()); m != "" {
		t.Errorf("%q outside code or pre: Telegram would make a command, hashtag or cashtag", m)
	}
	if i := strings.IndexFunc(plain, func(r rune) bool {
		return r == '\r' || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) && r != '\n' && r != '\t'
	}); i >= 0 {
		t.Errorf("control or format character %U in the message", []rune(plain[i:])[0])
	}
}
