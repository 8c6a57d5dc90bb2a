package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// ErrLocked is returned (wrapped, in a *LockedError) by Open when another
// process holds the state file.
var ErrLocked = errors.New("state file in use")

// LockedError says that another process holds the state file. It matches
// ErrLocked.
type LockedError struct {
	Path string
	// PID is the holder's process id as it wrote it, or "unknown".
	PID string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("state file %s is in use by another seqwatch (pid %s)", e.Path, e.PID)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// OwnerError says that the state file belongs to another user, whom this
// process cannot give the new file to.
type OwnerError struct {
	Path string
	UID  uint32
	Err  error
}

func (e *OwnerError) Error() string {
	return fmt.Sprintf("%s belongs to uid %d: %v", e.Path, e.UID, e.Err)
}

func (e *OwnerError) Unwrap() error { return e.Err }

// ErrCorrupt is returned (wrapped) by Load when the state file cannot be
// read as a state.
var ErrCorrupt = errors.New("state file corrupt")

// FileStore keeps a State in one JSON file, guarded by an exclusive lock on
// path + ".lock" for as long as it is open (one daemon per state file).
//
// A second, short lock on path + ".write.lock" guards each read-modify-write
// (Update, Edit), so that `seqwatch outbox` can change the file while the
// daemon runs: the daemon takes it only around its changes, never while it
// reads the database or sends.
type FileStore struct {
	path string
	lock *flock.Flock
	// last is the SHA-256 of what the file holds as far as this store
	// knows, so that a state that encodes to the same bytes is not
	// written again. A digest, not the bytes: a daemon over a thousand
	// applications would otherwise keep a copy of every state file.
	last *[sha256.Size]byte
	// lastInfo is the file as this store last loaded or wrote it: a file
	// that no longer matches it was changed by someone else (every write
	// renames a new file into place).
	lastInfo os.FileInfo
	// write is the seam tests use to make a write fail halfway.
	write func(f *os.File, data []byte) (int, error)
}

// Open creates path's directory if needed and locks the state file for this
// process. It fails, naming the holder's PID, when another seqwatch holds it.
func Open(path string) (*FileStore, error) {
	if path == "" {
		return nil, errors.New("state file path is empty")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	lockPath := path + ".lock"
	// Read-write, so the PID can be written through the same descriptor
	// that holds the lock.
	lk := flock.New(lockPath, flock.SetFlag(os.O_CREATE|os.O_RDWR))
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock state file %s: %w", path, err)
	}
	if !ok {
		pid := "unknown"
		if b, err := os.ReadFile(lockPath); err == nil {
			if s := strings.TrimSpace(string(b)); s != "" {
				pid = s
			}
		}
		return nil, &LockedError{Path: path, PID: pid}
	}
	if err := writePID(lockPath); err != nil {
		_ = lk.Unlock()
		return nil, err
	}
	return &FileStore{path: path, lock: lk, write: (*os.File).Write}, nil
}

// writePID records this process in the lock file, for the message another
// seqwatch shows when it finds the file locked. A second descriptor is fine:
// flock(2) locks belong to the first one and survive this one's Close.
func writePID(lockPath string) error {
	f, err := os.OpenFile(lockPath, os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write pid to %s: %w", lockPath, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return fmt.Errorf("write pid to %s: %w", lockPath, err)
	}
	if _, err := f.WriteString(strconv.Itoa(os.Getpid()) + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write pid to %s: %w", lockPath, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write pid to %s: %w", lockPath, err)
	}
	return nil
}

// Path returns the state file's path.
func (s *FileStore) Path() string { return s.path }

// Load reads the state. A missing file is a first run and yields New(). An
// empty, truncated or otherwise unreadable file, or one written by a newer
// seqwatch, is an error: the file records what was already reported, and
// silently starting over would report it all again.
func (s *FileStore) Load() (*State, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		s.last = nil
		return New(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	st, u, err := decode(data)
	if err != nil {
		return nil, loadFailure(s.path, data, u, err)
	}
	s.last = digest(data)
	s.lastInfo, _ = os.Stat(s.path)
	return st, nil
}

// CheckFile says what Load would change in the state file at path, as
// seqwatch state check reports it before an upgrade: it reads the file
// without taking its lock (writes replace it whole, so a running daemon
// is no obstacle) and writes nothing. A missing file yields nil: the
// first run starts a new state. Its errors are Load's.
func CheckFile(path string) (*Upgrade, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	u, err := CheckUpgrade(data)
	if err != nil {
		return nil, loadFailure(path, data, u, err)
	}
	return &u, nil
}

// loadFailure says why the state file at path, holding data, cannot be
// loaded: a newer format names both versions; anything else is corrupt.
func loadFailure(path string, data []byte, u Upgrade, err error) error {
	if errors.Is(err, ErrNewerVersion) {
		return &loadError{
			msg: fmt.Sprintf("state file %s was written by a newer seqwatch (version %d); this seqwatch reads versions %d to %d",
				path, u.From, MinVersion, Version),
			errs: []error{err},
		}
	}
	return &loadError{
		msg:  fmt.Sprintf("state file %s is corrupt (%s)", path, describe(data, err)),
		errs: []error{ErrCorrupt, err},
	}
}

// loadError says what is wrong with the state file, and still matches
// ErrCorrupt or ErrNewerVersion and the underlying error with errors.Is/As.
type loadError struct {
	msg  string
	errs []error
}

func (e *loadError) Error() string   { return e.msg }
func (e *loadError) Unwrap() []error { return e.errs }

// describe says what is wrong with a state file, with the byte offset when
// the JSON decoder knows it.
func describe(data []byte, err error) string {
	if len(bytes.TrimSpace(data)) == 0 {
		return "the file is empty"
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("%s at byte %d", typ.Error(), typ.Offset)
	}
	return err.Error()
}

// Save writes st atomically and durably: to a temporary file in the same
// directory, synced, renamed over the state file, then the directory synced,
// so a crash leaves either the old file or the new one. A state that
// encodes to the bytes last loaded or saved is not written at all.
func (s *FileStore) Save(st *State) error {
	if s.lock == nil {
		return fmt.Errorf("save state file %s: store is closed", s.path)
	}
	compact, err := encodeCompact(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	sum := sha256.Sum256(compact)
	if s.last != nil && *s.last == sum {
		return nil
	}
	data := indent(compact)
	if err := s.writeAtomic(data); err != nil {
		return fmt.Errorf("save state file %s: %w", s.path, err)
	}
	s.last = &sum
	s.lastInfo, _ = os.Stat(s.path)
	return nil
}

// lockWait is how often a waiting Update or Edit tries the write lock.
const lockWait = 20 * time.Millisecond

// lockWrite takes the short write lock, waiting until ctx ends.
func lockWrite(ctx context.Context, path string) (*flock.Flock, error) {
	// Read-only and readable by all: flock needs no write access, and a
	// lock file first made by root (seqwatch outbox run with sudo) must
	// still open for the daemon's own user.
	lk := flock.New(path+".write.lock", flock.SetFlag(os.O_CREATE|os.O_RDONLY), flock.SetPermissions(0o644))
	ok, err := lk.TryLockContext(ctx, lockWait)
	if err != nil || !ok {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("state file %s is busy (another seqwatch is writing it; waited for %s.write.lock until %w)", path, path, ctx.Err())
		}
		return nil, fmt.Errorf("lock %s.write.lock: %w", path, err)
	}
	return lk, nil
}

// changed reports whether the file is no longer the one this store last
// loaded or wrote. A file that is gone (moved away while the daemon runs)
// is not a change to pick up: the daemon's state is written back whole.
func (s *FileStore) changed() bool {
	info, err := os.Stat(s.path)
	if err != nil {
		return false
	}
	if s.lastInfo == nil {
		return true
	}
	return !os.SameFile(info, s.lastInfo) || !info.ModTime().Equal(s.lastInfo.ModTime()) || info.Size() != s.lastInfo.Size()
}

// Update applies fn to cur under the write lock and saves the result
// (nothing is written when it is unchanged). When the file was changed by
// another process since this store last loaded or saved it (`seqwatch
// outbox retry`, `drop` or `enable`, through Edit; `seqwatch mute`, through
// EditMutes), cur first takes the outbox, the dead letters, the disabled
// channels and the mutes as the file now holds them: those are all Edit's
// callers change, and
// everything else (what was reported, chat threads recorded
// since the last save, the read's watermark) is the daemon's own. Update
// returns cur. When fn fails nothing is saved.
func (s *FileStore) Update(ctx context.Context, cur *State, fn func(*State) error) (*State, error) {
	if s.lock == nil {
		return cur, fmt.Errorf("save state file %s: store is closed", s.path)
	}
	lk, err := lockWrite(ctx, s.path)
	if err != nil {
		return cur, err
	}
	defer lk.Unlock()
	if s.changed() {
		fresh, err := s.Load()
		if err != nil {
			return cur, err
		}
		cur.Outbox, cur.Dead, cur.Disabled, cur.Mutes = fresh.Outbox, fresh.Dead, fresh.Disabled, fresh.Mutes
	}
	if err := fn(cur); err != nil {
		return cur, err
	}
	return cur, s.Save(cur)
}

// ErrNoState is returned (wrapped) by Edit when there is no state file.
var ErrNoState = errors.New("no state file")

// Edit changes the state file at path while a daemon may be running: it
// waits (until ctx ends) for the write lock the daemon takes around its own
// changes, loads the state, calls fn, saves it when fn changed it, and lets
// go. The daemon picks the change up at its next write, but only to the
// outbox, the dead letters and the disabled channels (see Update): fn must
// change nothing else. A
// missing file is ErrNoState; when fn fails nothing is written.
func Edit(ctx context.Context, path string, fn func(*State) error) error {
	lk, err := lockWrite(ctx, path)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w at %s: the daemon has not run with this state.path yet", ErrNoState, path)
	}
	return editWith(lk, path, fn)
}

// editLocked takes the state file's write lock (until ctx ends) and
// changes the file with fn (see editWith).
func editLocked(ctx context.Context, path string, fn func(*State) error) error {
	lk, err := lockWrite(ctx, path)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	return editWith(lk, path, fn)
}

// editWith loads the state file under the write lock lk, calls fn and
// saves what it changed; when fn fails nothing is written.
func editWith(lk *flock.Flock, path string, fn func(*State) error) error {
	// A store without the daemon's lock, used for this one change.
	fsx := &FileStore{path: path, lock: lk, write: (*os.File).Write}
	st, err := fsx.Load()
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		return err
	}
	return fsx.Save(st)
}

func (s *FileStore) writeAtomic(data []byte) (err error) {
	dir := filepath.Dir(s.path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = keepOwner(f, s.path); err != nil {
		return err
	}
	n, err := s.write(f, data)
	if err != nil {
		return err
	}
	if n != len(data) {
		return fmt.Errorf("short write (%d of %d bytes)", n, len(data))
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, s.path); err != nil {
		return err
	}
	// The rename is only durable once the directory entry is on disk.
	d, err := os.Open(dir)
	if err != nil {
		return nil // the data is in place; only durability is unsure
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// keepOwner gives the new file f the owner and mode of the file it
// replaces, so that `sudo seqwatch outbox` does not leave the daemon's
// user a state file it cannot read.
func keepOwner(f *os.File, path string) error {
	old, err := os.Stat(path)
	if err != nil {
		return nil // a first write: the new file is ours
	}
	if err := f.Chmod(old.Mode().Perm()); err != nil {
		return err
	}
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() {
		return nil
	}
	if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
		return &OwnerError{Path: path, UID: st.Uid, Err: err}
	}
	return nil
}

// Close releases the lock. The lock file stays: removing it would let two
// processes lock two different files of the same name.
func (s *FileStore) Close() error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Unlock()
	s.lock = nil
	if err != nil {
		return fmt.Errorf("unlock state file %s: %w", s.path, err)
	}
	return nil
}
