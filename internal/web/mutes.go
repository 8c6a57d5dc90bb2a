package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// MuteRequest is the body of POST /api/v1/mutes.
type MuteRequest struct {
	// For is how long, as a Go duration: 15m, 1h30m.
	For    string `json:"for"`
	Reason string `json:"reason"`
	// Name, when given, must be the application's name (as seqwatch mute
	// --name), so scripts written now keep working with several apps.
	Name string `json:"name"`
	// KeepUnreachable leaves source.unreachable unmuted.
	KeepUnreachable bool `json:"keep_unreachable"`
}

// Muter makes and removes mutes for the listener; the daemon implements
// it over its state file.
type Muter interface {
	Mute(ctx context.Context, r MuteRequest) (Mute, error)
	Unmute(ctx context.Context, id string) (Mute, error)
}

// InputError is a request the Muter refuses as it stands (a mute too long,
// a wrong name): answered 400 with its message.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// ErrNoMute is what Muter.Unmute returns (wrapped) for an unknown id:
// answered 404.
var ErrNoMute = errors.New("no such mute")

// muteWait bounds a mute request's work: the state file's write lock is
// only ever held for a moment.
const muteWait = 10 * time.Second

// maxMuteBody bounds the body of POST /api/v1/mutes.
const maxMuteBody = 16 << 10

// apiError is the body of an API error.
type apiError struct {
	Error string `json:"error"`
}

func (s *Server) mute(w http.ResponseWriter, r *http.Request) {
	if s.opts.Mutes == nil {
		writeJSON(w, http.StatusNotFound, apiError{"muting through the listener is not available in this seqwatch"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{`send the mute as JSON (Content-Type: application/json), such as {"for":"15m","reason":"deploy 4812"}`})
		return
	}
	var req MuteRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxMuteBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{`the body is not a mute: send JSON such as {"for":"15m","reason":"deploy 4812","keep_unreachable":false}`})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), muteWait)
	defer cancel()
	m, err := s.opts.Mutes.Mute(ctx, req)
	if err != nil {
		s.muteError(w, err)
		return
	}
	m.Reason = s.opts.Scrub(m.Reason)
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) unmute(w http.ResponseWriter, r *http.Request) {
	if s.opts.Mutes == nil {
		writeJSON(w, http.StatusNotFound, apiError{"muting through the listener is not available in this seqwatch"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), muteWait)
	defer cancel()
	m, err := s.opts.Mutes.Unmute(ctx, r.PathValue("id"))
	if err != nil {
		s.muteError(w, err)
		return
	}
	m.Reason = s.opts.Scrub(m.Reason)
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) muteError(w http.ResponseWriter, err error) {
	var in *InputError
	switch {
	case errors.As(err, &in):
		writeJSON(w, http.StatusBadRequest, apiError{s.opts.Scrub(in.Msg)})
	case errors.Is(err, ErrNoMute):
		writeJSON(w, http.StatusNotFound, apiError{s.opts.Scrub(err.Error())})
	default:
		s.opts.Logger.Error("cannot change the mutes", "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, apiError{s.opts.Scrub("the mute was not changed: " + err.Error())})
	}
}
