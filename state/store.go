package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// ErrLocked is returned (wrapped) by Open when another process holds the
// state file.
var ErrLocked = errors.New("state file in use")

// ErrCorrupt is returned (wrapped) by Load when the state file cannot be
// read as a state.
var ErrCorrupt = errors.New("state file corrupt")

// FileStore keeps a State in one JSON file, guarded by an exclusive lock on
// path + ".lock" for as long as it is open.
type FileStore struct {
	path string
	lock *flock.Flock
	// last is what the file holds as far as this store knows, so that a
	// Save of an unchanged state writes nothing.
	last []byte
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
		return nil, fmt.Errorf("state file %s is in use by another seqwatch (pid %s); stop it first or use another state.path: %w",
			path, pid, ErrLocked)
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
	st, err := decode(data)
	switch {
	case errors.Is(err, ErrNewerVersion):
		var head struct {
			Version int `json:"version"`
		}
		_ = json.Unmarshal(data, &head)
		return nil, &loadError{
			msg: fmt.Sprintf("state file %s was written by a newer seqwatch (version %d); upgrade seqwatch or move the file away",
				s.path, head.Version),
			errs: []error{err},
		}
	case err != nil:
		return nil, &loadError{
			msg: fmt.Sprintf("state file %s is corrupt (%s); it records what was already reported, so seqwatch will not start without it: "+
				"restore it from backup, or move it away to start fresh (past failures will then be reported again as one digest)",
				s.path, describe(data, err)),
			errs: []error{ErrCorrupt, err},
		}
	}
	s.last = data
	return st, nil
}

// loadError is a complete message for the operator that still matches
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
	data, err := encode(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if s.last != nil && bytes.Equal(data, s.last) {
		return nil
	}
	if err := s.writeAtomic(data); err != nil {
		return fmt.Errorf("save state file %s: %w", s.path, err)
	}
	s.last = data
	return nil
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
