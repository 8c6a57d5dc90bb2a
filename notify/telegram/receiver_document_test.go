package telegram

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bot API limits of sendDocument: a bot uploads at most 50 MB, and a
// caption has 0-1024 characters after entity parsing.
const (
	docLimit     = 50 << 20
	captionLimit = 1024
)

// documentFields are the sendDocument parameters seqwatch may send; any
// other is a typo Telegram would ignore silently, so the fake refuses it.
var documentFields = map[string]bool{
	"chat_id": true, "message_thread_id": true, "caption": true, "parse_mode": true,
	"disable_notification": true, "reply_parameters": true, "document": true,
}

// serveDocument is the fake's sendDocument: a multipart/form-data upload
// (the only way to send a new file), refused as Telegram refuses it: a
// body that is not well-formed multipart, an unknown chat, no document or
// an empty one, a file over 50 MB, a caption over 1024 characters or one
// its parser cannot read, reply_parameters that are not JSON, a reply to
// a message that does not exist without allow_sending_without_reply.
// seqwatch's own rules are test errors too: a plain-text UTF-8 file named
// *.txt, sent silently, and a caption without live mentions or links.
func (f *fakeTelegram) serveDocument(w http.ResponseWriter, r *http.Request) {
	t := f.t
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		t.Errorf("sendDocument Content-Type %q, want multipart/form-data with a boundary", r.Header.Get("Content-Type"))
		fail(w, http.StatusBadRequest, "Bad Request: there is no document in the request")
		return
	}
	fields := map[string]string{}
	m := message{}
	mr := multipart.NewReader(io.LimitReader(r.Body, docLimit+1<<20), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Errorf("sendDocument: malformed multipart body: %v", err)
			fail(w, http.StatusBadRequest, "Bad Request: can't parse request")
			return
		}
		name := p.FormName()
		if !documentFields[name] {
			t.Errorf("sendDocument: unknown field %q", name)
		}
		if _, dup := fields[name]; dup {
			t.Errorf("sendDocument: field %q twice", name)
		}
		limit := int64(64 << 10)
		if name == "document" {
			limit = docLimit + 1
		}
		v, err := io.ReadAll(io.LimitReader(p, limit))
		if err != nil {
			t.Errorf("sendDocument: reading field %q: %v", name, err)
			fail(w, http.StatusBadRequest, "Bad Request: can't parse request")
			return
		}
		if name == "document" {
			if p.FileName() == "" {
				t.Errorf("sendDocument: the document part has no filename, so it is not an upload")
				fail(w, http.StatusBadRequest, "Bad Request: wrong remote file identifier specified")
				return
			}
			m.document, m.fileName, m.fileType = v, p.FileName(), p.Header.Get("Content-Type")
		}
		fields[name] = string(v)
	}
	switch {
	case m.document == nil:
		fail(w, http.StatusBadRequest, "Bad Request: there is no document in the request")
		t.Errorf("sendDocument without a document")
		return
	case len(m.document) == 0:
		fail(w, http.StatusBadRequest, "Bad Request: file must be non-empty")
		t.Errorf("sendDocument with an empty document")
		return
	case len(m.document) > docLimit:
		fail(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		t.Errorf("document of %d bytes, over the Bot API's 50 MB", len(m.document))
		return
	}
	if fields["chat_id"] != f.chat {
		t.Errorf("sendDocument chat_id %q, want %s", fields["chat_id"], f.chat)
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	m.chatID = json.Number(fields["chat_id"])
	if s, ok := fields["message_thread_id"]; ok {
		if m.thread, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Errorf("message_thread_id %q is not an integer", s)
			fail(w, http.StatusBadRequest, "Bad Request: message thread not found")
			return
		}
	}
	plain, code := fields["caption"], make([]bool, utf8.RuneCountInString(fields["caption"]))
	if fields["parse_mode"] == "HTML" {
		if plain, code, err = parseHTML(fields["caption"]); err != nil {
			t.Errorf("Telegram cannot parse the caption: %v", err)
			fail(w, http.StatusBadRequest, "Bad Request: can't parse entities: "+err.Error())
			return
		}
	} else if fields["parse_mode"] != "" {
		t.Errorf("parse_mode %q", fields["parse_mode"])
	}
	if n := utf16Len(plain); n > captionLimit {
		t.Errorf("caption is %d characters after parsing, over Telegram's 1024", n)
		fail(w, http.StatusBadRequest, "Bad Request: message caption is too long")
		return
	}
	if !utf8.ValidString(plain) {
		t.Errorf("caption is not UTF-8")
	}
	checkInert(t, plain, code)
	m.plain = plain
	m.silent = fields["disable_notification"] == "true"
	if !m.silent {
		t.Errorf("the trace file rings the phone again: send it with disable_notification")
	}
	if !strings.HasSuffix(m.fileName, ".txt") || strings.ContainsAny(m.fileName, `/\"<>`) {
		t.Errorf("file name %q, want a plain *.txt name", m.fileName)
	}
	if mt, _, _ := mime.ParseMediaType(m.fileType); mt != "text/plain" {
		t.Errorf("file Content-Type %q, want text/plain", m.fileType)
	}
	if !utf8.Valid(m.document) {
		t.Errorf("the trace file is not UTF-8")
	}
	if s, ok := fields["reply_parameters"]; ok {
		var rp struct {
			MessageID                int64 `json:"message_id"`
			AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
		}
		if err := json.Unmarshal([]byte(s), &rp); err != nil {
			t.Errorf("reply_parameters %q is not JSON: %v", s, err)
			fail(w, http.StatusBadRequest, "Bad Request: can't parse reply parameters JSON object")
			return
		}
		if m.replyTo, _ = f.replyTarget(w, rp.MessageID, rp.AllowSendingWithoutReply); m.replyTo < 0 {
			return
		}
	}
	f.take(w, m)
}
