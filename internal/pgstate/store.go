package pgstate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/seqwatch/seqwatch/state"
)

var errNoRows = pgx.ErrNoRows

// A Store is the daemon's state store, shared and leased.
var (
	_ state.Store  = (*Store)(nil)
	_ state.Leaser = (*Store)(nil)
)

// Store is one application's state in the state database, as kept by one
// seqwatch instance (its holder id). It takes the place of
// state.FileStore: Load, then Update at each change, with Acquire at each
// tick deciding whether this instance may write at all. Safe for
// concurrent use, though one daemon worker per application is the intent.
type Store struct {
	db     *DB
	app    string
	holder string

	mu sync.Mutex
	// token is the lease token of this store's last successful Acquire
	// that made it the leader; 0 when it is not the leader.
	token int64
	// rev and known are the document as this store last loaded or wrote
	// it: a row whose rev differs was written by someone else since.
	// known keeps a digest of it and its outbox's keys, not its bytes: a
	// daemon over a thousand applications would otherwise keep a copy of
	// every document (nil: no document yet).
	rev   int64
	known *docMemo
	// docToken is the lease token the document carried then (0: written
	// by no leader yet). A document with another token was written by
	// another leader.
	docToken int64
	// dirty is set when an Update changed the state in memory but could
	// not write it; pending holds the bytes of a write whose COMMIT got no
	// answer (it may have landed).
	dirty   bool
	pending []byte
}

// docMemo is what a Store remembers of a document: its SHA-256, to tell
// an unchanged state from one to write, and the deliveries of its outbox,
// the base of a merge (see merge).
type docMemo struct {
	sum    [sha256.Size]byte
	outbox []deliveryKey
}

// deliveryKey is one delivery of an outbox: an event to a channel.
type deliveryKey struct{ id, channel string }

// memoOf remembers doc, whose state has the given outbox; nil for no
// document.
func memoOf(doc []byte, outbox []state.Delivery) *docMemo {
	if doc == nil {
		return nil
	}
	m := &docMemo{sum: sha256.Sum256(doc)}
	for _, d := range outbox {
		m.outbox = append(m.outbox, deliveryKey{d.Event.ID, d.Channel})
	}
	return m
}

// App returns the application's name.
func (s *Store) App() string { return s.app }

// Holder returns this store's holder id.
func (s *Store) Holder() string { return s.holder }

// Dirty reports whether an Update applied a change in memory that is not
// yet in the database (see Update).
func (s *Store) Dirty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirty
}

// query runs f under the query timeout, once more on a fresh connection if
// the pooled one had died while idle. f must be safe to run twice.
func (db *DB) query(ctx context.Context, f func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		qctx, cancel := db.withTimeout(ctx)
		err := f(qctx)
		cancel()
		if err != nil && attempt == 0 && staleConn(err) {
			continue
		}
		return err
	}
}

// Load reads the application's state, whether or not this store holds the
// lease. An application with no state yet is a first run and yields
// state.New(). A document that cannot be read as a state, or one written
// by a newer seqwatch, is an error (matching state.ErrCorrupt or
// state.ErrNewerVersion): it records what was already reported, and
// starting over would report it all again. An unreachable database matches
// ErrUnavailable. Load forgets any change an earlier Update kept only in
// memory.
//
// Load has no context, as state.FileStore.Load; the query timeout bounds it.
func (s *Store) Load() (*state.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var doc []byte
	var rev, token int64
	err := s.db.query(context.Background(), func(ctx context.Context) error {
		return s.db.pool.QueryRow(ctx, `SELECT doc::text, rev, token FROM seqwatch_states WHERE app = $1`, s.app).Scan(&doc, &rev, &token)
	})
	if errors.Is(err, errNoRows) {
		err, doc, rev, token = nil, nil, 0, 0
	}
	if err != nil {
		return nil, s.db.fail(fmt.Sprintf("load state of %q", s.app), err)
	}
	st := state.New()
	if doc != nil {
		if st, err = s.decode(doc); err != nil {
			return nil, err
		}
	}
	s.rev, s.known, s.docToken, s.dirty, s.pending = rev, memoOf(doc, st.Outbox), token, false, nil
	return st, nil
}

// decode reads a stored document, with a message that names the
// application and the database.
func (s *Store) decode(doc []byte) (*state.State, error) {
	return decodeDoc(s.db, s.app, doc)
}

func decodeDoc(db *DB, app string, doc []byte) (*state.State, error) {
	st, err := state.Unmarshal(doc)
	if err != nil {
		return nil, docError(db, app, err)
	}
	return st, nil
}

// docError says why app's document would not load (err from
// state.Unmarshal or state.CheckUpgrade).
func docError(db *DB, app string, err error) error {
	if errors.Is(err, state.ErrNewerVersion) {
		return &opError{
			msg:  fmt.Sprintf("state of %q in the state database %s was written by a newer seqwatch (%v)", app, db.where, err),
			errs: []error{err},
		}
	}
	return &opError{
		msg: fmt.Sprintf("state of %q in the state database %s is corrupt (%v); it records what was already reported, so seqwatch will not go on without it",
			app, db.where, err),
		errs: []error{state.ErrCorrupt, err},
	}
}

// Update applies fn to cur and writes the result, with the contract of
// state.FileStore.Update, fenced by the lease. In one transaction it
//
//  1. locks the lease row (FOR SHARE, so no takeover can commit before this
//     transaction does) and checks that this store holds the lease, with
//     the token of its last Acquire, unexpired by the database's clock. If
//     not, it returns an error matching state.ErrNotLeader: fn is not
//     called and nothing is written. This is the fence: an old leader that was paused
//     (GC, SIGSTOP, a slow disk) past its lease can neither record nor,
//     since the daemon sends only after a successful Update, send.
//  2. locks the document (FOR UPDATE). When it changed since this store
//     last loaded or wrote it, cur first takes from it what others may
//     change: the outbox, the dead letters, the disabled channels and the
//     mutes (seqwatch outbox retry/drop/enable through Edit, seqwatch mute
//     through EditMutes), exactly as FileStore does; everything else is
//     the daemon's own. When another leader wrote it since (it carries
//     another lease token than when this store last loaded or wrote it),
//     cur takes the whole document instead: it is newer than everything
//     this store knows. So a standby that becomes the leader need not Load
//     again, though it may.
//  3. calls fn(cur); when fn fails, nothing is written and its error is
//     returned.
//  4. writes cur when it differs from the stored document, and commits.
//
// When the database cannot be reached (or stops answering) fn is still
// applied to cur, once, in memory, so that nothing detected is lost; the
// store remembers that it is dirty and the error matches ErrUnavailable.
// The next Update that succeeds writes the whole document. The caller must
// not send while Update fails: whatever it would send is then recorded
// nowhere but in memory. (If, meanwhile, seqwatch outbox or seqwatch mute
// changed the document, that Update keeps the deliveries fn enqueued in
// memory and takes the rest of the outbox, the dead letters and the mutes
// from the document.) Other database errors (a missing privilege, say)
// also leave fn applied in memory and the store dirty, without matching
// ErrUnavailable.
//
// Update returns cur (the same pointer, changed in place).
func (s *Store) Update(ctx context.Context, cur *state.State, fn func(*state.State) error) (*state.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		applied  bool   // fn was called (its error, if any, is fnErr)
		fnErr    error  // fn's own error: nothing is written
		notLead  error  // the fence refused: nothing is written
		decodErr error  // the stored document is unreadable
		wrote    []byte // bytes written (nil: the row already held them)
		merged   bool   // cur took in the document at mergedRev
		mergeRev int64
		mergeDoc *docMemo
		mergeTok int64
		rowRev   int64    // the row's revision after this transaction
		rowDoc   *docMemo // the row's document after this transaction
		rowToken int64    // the row's token after this transaction
	)
	apply := func() error {
		applied = true
		if fnErr = fn(cur); fnErr != nil {
			return fnErr
		}
		return nil
	}
	err := s.db.inTx(ctx, fmt.Sprintf("write state of %q", s.app), func(ctx context.Context, tx pgx.Tx) error {
		wrote, rowRev, rowDoc, rowToken, decodErr = nil, 0, nil, 0, nil
		if notLead = s.fence(ctx, tx); notLead != nil {
			return notLead
		}
		if s.rev == 0 {
			// No row seen yet: make one to lock, so that an EditMutes
			// creating the document at the same time is serialised with
			// this transaction instead of overwritten by it.
			if _, err := tx.Exec(ctx,
				`INSERT INTO seqwatch_states (app, doc, rev, token, updated_at) VALUES ($1, NULL, 0, 0, clock_timestamp()) ON CONFLICT (app) DO NOTHING`,
				s.app); err != nil {
				return err
			}
		}
		// The document itself is read only when someone else wrote it: it
		// can be hundreds of KB.
		var rev, token int64
		if err := tx.QueryRow(ctx, `SELECT rev, token FROM seqwatch_states WHERE app = $1 FOR UPDATE`, s.app).
			Scan(&rev, &token); err != nil {
			return err
		}
		// known: the row holds the document this store last loaded or
		// wrote (s.known); otherwise doc is the row's, read here.
		known := rev == s.rev
		var doc []byte
		if !known {
			if err := tx.QueryRow(ctx, `SELECT doc::text FROM seqwatch_states WHERE app = $1`, s.app).Scan(&doc); err != nil {
				return err
			}
		}
		changed := !known && doc != nil
		if changed && s.pending != nil && bytes.Equal(doc, s.pending) {
			changed = false // this store's own write, whose COMMIT got no answer
		}
		if changed {
			fresh, err := s.decode(doc)
			if err != nil {
				decodErr = err
				return err
			}
			s.merge(cur, fresh, token)
			merged, mergeRev, mergeDoc, mergeTok = true, rev, memoOf(doc, fresh.Outbox), token
		}
		if err := apply(); err != nil {
			return err
		}
		data, err := state.Marshal(cur)
		if err != nil {
			return fmt.Errorf("encode state: %w", err)
		}
		switch {
		case known && s.known != nil && sha256.Sum256(data) == s.known.sum:
			rowRev, rowDoc, rowToken = rev, s.known, token
			return nil
		case !known && bytes.Equal(data, doc):
			rowRev, rowDoc, rowToken = rev, memoOf(doc, cur.Outbox), token
			return nil
		}
		if err := tx.QueryRow(ctx,
			`UPDATE seqwatch_states SET doc = $2, rev = rev + 1, token = $3, updated_at = clock_timestamp() WHERE app = $1 RETURNING rev`,
			s.app, string(data), s.token).Scan(&rowRev); err != nil {
			return err
		}
		wrote, rowDoc, rowToken = data, memoOf(data, cur.Outbox), s.token
		return nil
	}, func() bool { return !applied })

	switch {
	case err == nil:
		s.rev, s.known, s.docToken, s.dirty, s.pending = rowRev, rowDoc, rowToken, false, nil
		return cur, nil
	case fnErr != nil:
		return cur, fnErr
	case notLead != nil, decodErr != nil:
		return cur, err
	}
	// The database failed us: keep fn's change in memory.
	if !applied {
		if fnErr := fn(cur); fnErr != nil {
			return cur, fnErr
		}
	}
	s.dirty = true
	if merged {
		// cur holds the document as it was at mergeRev: that is what the
		// next Update compares with, and the base of its merge.
		s.rev, s.known, s.docToken = mergeRev, mergeDoc, mergeTok
	}
	var ce *commitError
	if errors.As(err, &ce) && wrote != nil {
		s.pending = wrote
	}
	return cur, err
}

// fence checks, with the lease row locked FOR SHARE until the transaction
// ends, that this store holds the lease under its token and that the lease
// has not expired.
func (s *Store) fence(ctx context.Context, tx pgx.Tx) error {
	var holder string
	var token int64
	var live bool
	err := tx.QueryRow(ctx,
		`SELECT holder, token, expires_at > clock_timestamp() FROM seqwatch_leases WHERE app = $1 FOR SHARE`,
		s.app).Scan(&holder, &token, &live)
	if errors.Is(err, errNoRows) {
		return &opError{
			msg:  fmt.Sprintf("state of %q not written: this seqwatch (%s) does not hold its lease (no lease taken yet)", s.app, s.holder),
			errs: []error{state.ErrNotLeader},
		}
	}
	if err != nil {
		return err
	}
	switch {
	case s.token == 0:
		return &opError{
			msg:  fmt.Sprintf("state of %q not written: this seqwatch (%s) does not hold its lease (held by %s, token %d)", s.app, s.holder, holder, token),
			errs: []error{state.ErrNotLeader},
		}
	case holder != s.holder || token != s.token:
		return &opError{
			msg: fmt.Sprintf("state of %q not written: this seqwatch (%s) lost its lease (token %d) to %s (token %d)",
				s.app, s.holder, s.token, holder, token),
			errs: []error{state.ErrNotLeader},
		}
	case !live:
		return &opError{
			msg:  fmt.Sprintf("state of %q not written: the lease of this seqwatch (%s, token %d) has expired", s.app, s.holder, s.token),
			errs: []error{state.ErrNotLeader},
		}
	}
	return nil
}

// merge brings a document someone else wrote into cur (see Update).
func (s *Store) merge(cur, fresh *state.State, token int64) {
	if token != 0 && token != s.docToken {
		// Written by another leader since this store last loaded or
		// wrote: all of it is newer than cur.
		*cur = *fresh
		return
	}
	outbox := fresh.Outbox
	if s.dirty {
		// cur holds deliveries enqueued while the database was away,
		// which the document cannot have: keep those (new since the last
		// document this store wrote or loaded, and neither queued nor
		// given up on in the fresh one).
		var base []deliveryKey
		if s.known != nil {
			base = s.known.outbox
		}
		same := func(a state.Delivery) func(state.Delivery) bool {
			return func(b state.Delivery) bool { return a.Event.ID == b.Event.ID && a.Channel == b.Channel }
		}
		outbox = slices.Clone(outbox)
		for _, d := range cur.Outbox {
			if slices.Contains(base, deliveryKey{d.Event.ID, d.Channel}) || slices.ContainsFunc(fresh.Outbox, same(d)) || slices.ContainsFunc(fresh.Dead, same(d)) {
				continue
			}
			outbox = append(outbox, d)
		}
	}
	cur.Outbox, cur.Dead, cur.Disabled, cur.Mutes = outbox, fresh.Dead, fresh.Disabled, fresh.Mutes
}
