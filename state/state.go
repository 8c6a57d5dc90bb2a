// Package state holds what seqwatch's alerting daemon has already reported,
// so that a restart neither repeats an alert nor forgets one: the open
// problems and the rows already seen, the outbox of events still to be
// delivered, the dead letters, the mutes. It persists them (FileStore).
//
// It decides nothing about the application: what is a problem is check's
// rules (check.Assess), and which events a problem makes is
// internal/alerting's. It must not import internal/alerting, cmd or a
// notify channel; it imports check only for the read mark it keeps
// (check.Mark).
//
// One State describes one application: keys such as
// "operation.failed/<name>/<row id>" are only unique within an application.
//
// It also defines what a state store is (Store, and Leaser for one shared
// by several instances, with its Lease and ErrNotLeader), holds the state
// file (FileStore: atomic, locked, durable writes; Edit for the commands
// that change it while the daemon runs), the outbox
// and dead letters, mutes, and the Slack thread ids of open problems. Its
// errors (LockedError, OwnerError, ErrCorrupt, ErrNewerVersion) state
// what is wrong; what to do about it is cmd/seqwatch's to say.
//
// Of seqwatch it imports only check (the Snapshot and its model),
// internal/event (Event) and internal/text. It must not import the notify
// core or its channels (notify/...), internal/web, internal/heartbeat or internal/metrics, nor
// internal/reader, internal/laravel or a database driver: it never reads
// the database (internal/layering holds it to that).
package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/event"
)

// Version is the state file format this binary writes. Bump it, and add a
// step to upgradeSteps, whenever a change to State would be misread by an
// older or newer binary.
const Version = 1

// MinVersion is the oldest state file format this binary reads (and
// upgrades to Version). testdata/ holds a state file of every version from
// MinVersion on, and a test loads each.
const MinVersion = 1

// MaxDead bounds the dead-letter list: the oldest entries are dropped first
// so a channel that is broken for months cannot grow the file without end.
const MaxDead = 500

// State is everything the daemon must remember between runs. It is stored as
// JSON by FileStore.
type State struct {
	// Version is the format version (see Version).
	Version int `json:"version"`
	// Initialized is set once the first successful check has been
	// evaluated; before that, past failures are handled by the alerting
	// policy's FirstRun.
	Initialized bool `json:"initialized"`
	// Open are the problems reported and not yet closed, by key.
	Open map[string]OpenProblem `json:"open"`
	// Seen records, by key, when each failed row, stuck row and exhausted
	// deferred operation was last seen in a snapshot, including those that
	// have since recovered, so that an old row is never reported twice
	// while a retry (a new row) is. Like Alertmanager's notification log it
	// has a retention (the alerting policy's SeenRetention): an entry not seen for that long
	// is dropped, since a row that left the snapshot (recovered, finished)
	// does not come back; the keys of open problems are never dropped.
	// Exhausted deferred operations are dropped as soon as the row leaves
	// the exhausted state, so the same row failing for good again is
	// reported again.
	Seen map[string]time.Time `json:"seen"`
	// Outbox holds the deliveries not yet made, one per event and channel.
	// Events are stored here before they are sent so that a crash between
	// detection and delivery loses nothing.
	Outbox []Delivery `json:"outbox"`
	// Dead holds deliveries given up on for good, kept for inspection
	// (at most MaxDead, newest last).
	Dead []Delivery `json:"dead"`
	// Source tracks consecutive failures to read the application.
	Source Source `json:"source"`
	// PendingAlerted is true while a pending.threshold alert is open.
	PendingAlerted bool `json:"pending_alerted"`
	// Seq is the number of events made. IDs no longer derive from it (they
	// are random: NewEventID); it is kept as a count.
	Seq uint64 `json:"seq"`
	// Disabled holds, by channel name, the channels whose peer told
	// seqwatch to stop for good (410 Gone), until their configuration
	// changes.
	Disabled map[string]DisabledChannel `json:"disabled,omitempty"`
	// Threads remembers, per channel and problem key, the chat message an
	// alert was posted as (Slack bot mode), so its recovery can update it.
	// An entry is dropped when the closing event is delivered, or when the
	// problem closes quietly (ForgetThreads).
	Threads map[string]Thread `json:"threads,omitempty"`
	// Read is the reader's mark: the watermark, the open problems and the
	// pending files of the last read, so that the next tick (and the next
	// run --once) reads only what can have changed.
	Read *check.Mark `json:"read,omitempty"`
	// Mutes are the mutes made by seqwatch mute or the listener (the
	// configuration's maintenance windows are not stored), removed once
	// they end.
	Mutes []Mute `json:"mutes,omitempty"`
	// Held are the events a mute held back, sent or dropped when no mute
	// covers them any longer (see Gate).
	Held []event.Event `json:"held,omitempty"`
}

// Thread is a posted chat message: its channel and timestamp id.
type Thread struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// ThreadStore keeps one channel's thread ids in a State. state returns the
// current State, so a store made before the state is loaded stays valid.
type ThreadStore struct {
	state   func() *State
	channel string
}

// NewThreadStore returns a ThreadStore over whatever state returns.
func NewThreadStore(state func() *State, channel string) *ThreadStore {
	return &ThreadStore{state: state, channel: channel}
}

func (t *ThreadStore) key(k string) string { return t.channel + "\x00" + k }

// Thread returns the message posted for the problem key.
func (t *ThreadStore) Thread(key string) (channel, ts string, ok bool) {
	th, ok := t.state().Threads[t.key(key)]
	return th.Channel, th.TS, ok
}

// SetThread records the message posted for the problem key.
func (t *ThreadStore) SetThread(key, channel, ts string) {
	st := t.state()
	if st.Threads == nil {
		st.Threads = map[string]Thread{}
	}
	st.Threads[t.key(key)] = Thread{Channel: channel, TS: ts}
}

// ForgetThreads drops every channel's thread of the problem key: a
// problem that closed without a closing event to post in its thread
// (a quiet close) would otherwise keep its entry for good, and a
// reopening would answer in a thread about the old one.
func (s *State) ForgetThreads(key string) {
	for k := range s.Threads {
		if _, problem, ok := strings.Cut(k, "\x00"); ok && problem == key {
			delete(s.Threads, k)
		}
	}
}

// OpenProblem is a problem reported and not yet resolved (check.Problem
// is a problem as judged in one snapshot).
type OpenProblem struct {
	Kind event.Kind `json:"kind"`
	Key  string     `json:"key"`
	// Event is the event that opened the problem, without error traces
	// (they can be hundreds of KB each and are not needed to close it).
	Event    event.Event `json:"event"`
	OpenedAt time.Time   `json:"opened_at"`
	// LastSentAt is when the problem was last told to someone (delivery of
	// its event, or a reminder); zero while its event is still undelivered.
	LastSentAt time.Time `json:"last_sent_at,omitzero"`
}

// Delivery is one event waiting to go (or given up on) through one channel.
type Delivery struct {
	Event   event.Event `json:"event"`
	Channel string      `json:"channel"`
	// Attempts counts the failed delivery rounds (each of up to a few
	// requests); NextAttempt is when the next round may start (Backoff).
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	// LastError is why the last round failed, or for a dead letter why it
	// was given up on: always this delivery's own reason.
	LastError string `json:"last_error,omitempty"`
	// Batch is set once the delivery was attempted: the deliveries of one
	// batch are always sent together again, so a digest keeps its id.
	Batch string `json:"batch,omitempty"`
	// DeadAt is when a dead letter was given up on.
	DeadAt time.Time `json:"dead_at,omitzero"`
}

// Source tracks whether the application's database can be read.
type Source struct {
	// Failures is the number of consecutive failed reads.
	Failures int `json:"failures"`
	// Since is when the first of those failures happened.
	Since time.Time `json:"since,omitzero"`
	// Alerted is true once source.unreachable has been emitted.
	Alerted bool `json:"alerted"`
	// LastError is the last read error (already free of secrets).
	LastError string `json:"last_error,omitempty"`
}

// New returns the state of a first run.
func New() *State {
	return &State{
		Version: Version,
		Open:    map[string]OpenProblem{},
		Seen:    map[string]time.Time{},
	}
}

// Ensure makes the maps usable on a State built by hand or decoded from a
// file that had them as null.
func (s *State) Ensure() {
	if s.Open == nil {
		s.Open = map[string]OpenProblem{}
	}
	if s.Seen == nil {
		s.Seen = map[string]time.Time{}
	}
	if s.Version == 0 {
		s.Version = Version
	}
}

// Enqueue stores ev in the outbox, one delivery per channel, due now.
// A delivery already queued for the same event and channel is kept as is.
func (s *State) Enqueue(ev event.Event, channels []string, now time.Time) {
	for _, ch := range channels {
		if slices.ContainsFunc(s.Outbox, func(d Delivery) bool {
			return d.Event.ID == ev.ID && d.Channel == ch
		}) {
			continue
		}
		s.Outbox = append(s.Outbox, Delivery{Event: ev, Channel: ch, NextAttempt: now})
	}
}

// Due returns copies of the deliveries whose NextAttempt is not after now,
// in the order they were queued.
func (s *State) Due(now time.Time) []Delivery {
	var due []Delivery
	for _, d := range s.Outbox {
		if !d.NextAttempt.After(now) {
			due = append(due, d)
		}
	}
	return due
}

// Delivered removes the delivery of eventID through channel from the outbox
// and records now as LastSentAt of the open problems the event (or, for a
// digest or reminder, its items) stands for. It reports whether the
// delivery was in the outbox.
func (s *State) Delivered(eventID, channel string, now time.Time) bool {
	i := s.find(eventID, channel)
	if i < 0 {
		return false
	}
	ev := s.Outbox[i].Event
	s.Outbox = slices.Delete(s.Outbox, i, i+1)
	if closing(ev.Kind) {
		delete(s.Threads, channel+"\x00"+ev.Key)
	}
	s.Ensure()
	for _, e := range append([]event.Event{ev}, ev.Items...) {
		p, ok := s.Open[e.Key]
		if !ok || p.Event.ID != e.ID || !p.LastSentAt.Before(now) {
			continue
		}
		p.LastSentAt = now
		s.Open[e.Key] = p
	}
	return true
}

// Failed records a failed attempt to deliver eventID through channel: the
// next attempt is at next; or, when permanent, never: the delivery moves to
// Dead, given up on at next. errText must be this delivery's own reason. It
// reports whether the delivery was in the outbox.
func (s *State) Failed(eventID, channel, errText string, next time.Time, permanent bool) bool {
	i := s.find(eventID, channel)
	if i < 0 {
		return false
	}
	d := &s.Outbox[i]
	d.Attempts++
	d.LastError = errText
	d.NextAttempt = next
	if permanent {
		d.DeadAt, d.NextAttempt = next, time.Time{}
		s.Dead = append(s.Dead, *d)
		if n := len(s.Dead) - MaxDead; n > 0 {
			s.Dead = slices.Delete(s.Dead, 0, n)
		}
		s.Outbox = slices.Delete(s.Outbox, i, i+1)
	}
	return true
}

func (s *State) find(eventID, channel string) int {
	return slices.IndexFunc(s.Outbox, func(d Delivery) bool {
		return d.Event.ID == eventID && d.Channel == channel
	})
}

// ErrNewerVersion is returned (wrapped) when a state file was written by a
// newer seqwatch than this one.
var ErrNewerVersion = errors.New("state file written by a newer seqwatch")

// ErrBadVersion is returned (wrapped) when a state file has no usable
// version number.
var ErrBadVersion = errors.New("state file has no valid version")

// upgradeStep turns the JSON of one version into the JSON of the next;
// what says what it changes, as seqwatch state check reports it ("moves
// the Slack thread ids into open problems").
type upgradeStep struct {
	what  string
	apply func(data []byte) ([]byte, error)
}

// upgradeSteps returns the known steps: steps[v] upgrades version v to v+1.
// It is a function, not a variable, so the table cannot be changed at run
// time.
func upgradeSteps() map[int]upgradeStep {
	return map[int]upgradeStep{
		// Version 1 is the first format: nothing to upgrade yet. The next
		// format change adds 1: {what: "...", apply: func(data []byte)
		// ([]byte, error) {...}}, bumps Version, and commits a state file
		// of version 1 as testdata/state-v1.json stays (upgrade_test.go
		// loads one of every version from MinVersion on).
	}
}

// upgrade brings the JSON of a state file written as version from up to
// Version, and says what each step changed.
func upgrade(from int, data []byte) ([]byte, []string, error) {
	return upgradeWith(from, data, Version, upgradeSteps())
}

func upgradeWith(from int, data []byte, current int, steps map[int]upgradeStep) ([]byte, []string, error) {
	switch {
	case from > current:
		return nil, nil, fmt.Errorf("%w (version %d, this one knows up to %d)", ErrNewerVersion, from, current)
	case from < MinVersion:
		return nil, nil, fmt.Errorf("%w (got %d)", ErrBadVersion, from)
	}
	var whats []string
	for v := from; v < current; v++ {
		step, ok := steps[v]
		if !ok {
			return nil, nil, fmt.Errorf("no upgrade from state version %d to %d", v, v+1)
		}
		var err error
		if data, err = step.apply(data); err != nil {
			return nil, nil, fmt.Errorf("upgrade state from version %d to %d: %w", v, v+1, err)
		}
		whats = append(whats, fmt.Sprintf("version %d to %d: %s", v, v+1, step.what))
	}
	return data, whats, nil
}

// decode parses a state file's bytes, upgrading older versions, and says
// what the upgrade changed (From is 0 when the bytes have no version).
func decode(data []byte) (*State, Upgrade, error) {
	u := Upgrade{To: Version}
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, u, err
	}
	if head.Version == nil {
		return nil, u, fmt.Errorf("%w (no version field)", ErrBadVersion)
	}
	u.From = *head.Version
	data, steps, err := upgrade(u.From, data)
	if err != nil {
		return nil, u, err
	}
	u.Steps = steps
	st := &State{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, u, err
	}
	st.Version = Version
	st.Ensure()
	return st, u, nil
}

// encode returns the bytes FileStore writes: indented, so the file can be
// read by a person, and deterministic (encoding/json sorts map keys), so an
// unchanged state encodes to the same bytes.
func encode(st *State) ([]byte, error) {
	compact, err := encodeCompact(st)
	if err != nil {
		return nil, err
	}
	return indent(compact), nil
}

// encodeCompact is encode without the indentation: what FileStore compares
// (by its digest) before it decides to write. Indenting every application's
// state at every tick only to find it unchanged was a tenth of an
// unchanged tick's CPU time over a thousand applications.
func encodeCompact(st *State) ([]byte, error) {
	st.Ensure()
	return json.Marshal(st)
}

// indent turns encodeCompact's bytes into encode's.
func indent(compact []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(compact) + len(compact)/4)
	// Marshal's output is valid JSON: Indent cannot fail on it.
	_ = json.Indent(&b, compact, "", "  ")
	b.WriteByte('\n')
	return b.Bytes()
}

// digest is the SHA-256 of a state's compact encoding, from encodeCompact's
// bytes or from a stored file (whose whitespace it ignores), so that a
// state equal to the file's is not written again.
func digest(data []byte) *[sha256.Size]byte {
	var b bytes.Buffer
	b.Grow(len(data))
	if err := json.Compact(&b, data); err != nil {
		return nil // not JSON: never equal, so the next save rewrites it
	}
	sum := sha256.Sum256(b.Bytes())
	return &sum
}

// closing reports the kinds that end a problem (event.Closes).
func closing(k event.Kind) bool { return event.Closes(k) }
