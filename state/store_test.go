package state

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/errtest"
	"github.com/seqwatch/seqwatch/internal/event"
)

func openStore(t *testing.T, path string) *FileStore {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sampleState() *State {
	at := time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)
	st := New()
	st.Initialized = true
	st.Seq = 7
	ev := event.Event{ID: "evt_1", Kind: event.OperationFailed, Key: "operation.failed/X/42", App: "shop",
		OccurredAt: at, Summary: "X failed", Operation: &event.Operation{ID: "42", Name: "X", ExecutedAt: at},
		Errors: []event.Error{{Exception: "RuntimeException", Message: "boom", Trace: "#0 a.php(1)", CreatedAt: at}}}
	st.Open[ev.Key] = OpenProblem{Kind: ev.Kind, Key: ev.Key, Event: ev, OpenedAt: at, LastSentAt: at.Add(time.Minute)}
	st.Seen[ev.Key] = at
	st.Enqueue(ev, []string{"slack", "email"}, at)
	st.Dead = []Delivery{{Event: ev, Channel: "webhook", Attempts: 3, LastError: "404"}}
	st.Source = Source{Failures: 2, Since: at, LastError: "dial tcp: refused"}
	st.PendingAlerted = true
	return st
}

func TestStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "state.json")
	s := openStore(t, path)

	t.Run("missing file is a first run", func(t *testing.T) {
		st, err := s.Load()
		if err != nil {
			t.Fatal(err)
		}
		if st.Initialized || st.Version != Version || st.Open == nil || st.Seen == nil {
			t.Fatalf("fresh state = %+v", st)
		}
	})

	t.Run("saved state loads back equal", func(t *testing.T) {
		want := sampleState()
		if err := s.Save(want); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", info.Mode().Perm())
		}
		got, err := s.Load()
		if err != nil {
			t.Fatal(err)
		}
		a, _ := encode(want)
		b, _ := encode(got)
		if string(a) != string(b) {
			t.Fatalf("round trip differs:\n%s\n---\n%s", a, b)
		}
		if got.Open["operation.failed/X/42"].Event.Errors[0].Trace != "#0 a.php(1)" {
			t.Errorf("event lost its trace")
		}
	})
}

func TestSaveUnchangedWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := openStore(t, path)
	st := sampleState()
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// A write would replace the file by rename: a new inode.
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Fatal("unchanged Save rewrote the file")
	}

	t.Run("after a restart too", func(t *testing.T) {
		s.Close()
		s2 := openStore(t, path)
		loaded, err := s2.Load()
		if err != nil {
			t.Fatal(err)
		}
		if err := s2.Save(loaded); err != nil {
			t.Fatal(err)
		}
		again, _ := os.Stat(path)
		if !os.SameFile(before, again) {
			t.Fatal("Save of the state just loaded rewrote the file")
		}
	})

	t.Run("a file that differs only in whitespace is not rewritten", func(t *testing.T) {
		// The store compares states by the digest of their compact
		// encoding: a file indented otherwise (by hand, say) holds the
		// same state, and rewriting it would change nothing.
		p := filepath.Join(t.TempDir(), "state.json")
		compact, err := encodeCompact(sampleState())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, compact, 0o600); err != nil {
			t.Fatal(err)
		}
		s4 := openStore(t, p)
		loaded, err := s4.Load()
		if err != nil {
			t.Fatal(err)
		}
		before, _ := os.Stat(p)
		if err := s4.Save(loaded); err != nil {
			t.Fatal(err)
		}
		if after, _ := os.Stat(p); !os.SameFile(before, after) {
			t.Fatal("Save of the same state rewrote a file that differs only in whitespace")
		}
		loaded.Seq++
		if err := s4.Save(loaded); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		want, _ := encode(loaded)
		if string(got) != string(want) {
			t.Fatalf("a changed state was not written in encode's layout:\n%s", got)
		}
	})

	t.Run("a change is written", func(t *testing.T) {
		s3 := openStore(t, filepath.Join(t.TempDir(), "state.json"))
		if err := s3.Save(st); err != nil {
			t.Fatal(err)
		}
		first, _ := os.Stat(s3.Path())
		st.Seq++
		if err := s3.Save(st); err != nil {
			t.Fatal(err)
		}
		second, _ := os.Stat(s3.Path())
		if os.SameFile(first, second) {
			t.Fatal("changed state was not written")
		}
	})
}

func TestSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	s := openStore(t, path)
	if err := s.Save(sampleState()); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)

	// Simulate a crash halfway through the write (disk full, power loss).
	s.write = func(f *os.File, data []byte) (int, error) {
		n, _ := f.Write(data[:len(data)/2])
		return n, errors.New("no space left on device")
	}
	changed := sampleState()
	changed.Seq = 99
	err := s.Save(changed)
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Save error = %v", err)
	}
	now, _ := os.ReadFile(path)
	if string(now) != string(old) {
		t.Fatal("failed Save damaged the state file")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "state.json" && e.Name() != "state.json.lock" {
			t.Errorf("left behind %s", e.Name())
		}
	}

	t.Run("the next Save still writes", func(t *testing.T) {
		s.write = (*os.File).Write
		if err := s.Save(changed); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load()
		if err != nil || got.Seq != 99 {
			t.Fatalf("Load = %v, %v", got, err)
		}
	})
}

func TestLoadRefusesBadFiles(t *testing.T) {
	good, _ := encode(sampleState())
	tests := []struct {
		name    string
		content string
		want    []string
		is      error
	}{
		{"empty", "", []string{"is corrupt (the file is empty)"}, ErrCorrupt},
		{"truncated", string(good[:len(good)/2]), []string{"is corrupt (unexpected end of JSON input at byte " + strconv.Itoa(len(good)/2) + ")"}, ErrCorrupt},
		{"garbage", "\x00\x01not json", []string{"is corrupt (invalid character"}, ErrCorrupt},
		{"trailing garbage", string(good) + "}", []string{"is corrupt"}, ErrCorrupt},
		{"wrong type", `{"version": 1, "seq": "seven"}`, []string{"is corrupt (json: cannot unmarshal"}, ErrCorrupt},
		{"no version", `{"initialized": true}`, []string{"is corrupt (state file has no valid version (no version field))"}, ErrCorrupt},
		{"newer version", `{"version": 2, "future": true}`, []string{"was written by a newer seqwatch (version 2); this seqwatch reads versions 1 to 1"}, ErrNewerVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, path)
			st, err := s.Load()
			if err == nil {
				t.Fatalf("Load accepted it: %+v", st)
			}
			msg := err.Error()
			if !strings.Contains(msg, "state file "+path+" ") {
				t.Errorf("error does not name the file: %s", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			errtest.FactOnly(t, msg)
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) = false", tt.is)
			}
			// Never silently reset: the file must be untouched.
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Error("Load changed the file")
			}
		})
	}
}

func TestOpenRefusesSecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first := openStore(t, path)

	_, err := Open(path)
	want := "state file " + path + " is in use by another seqwatch (pid " + strconv.Itoa(os.Getpid()) + ")"
	if err == nil || err.Error() != want {
		t.Fatalf("second Open error = %v, want %q", err, want)
	}
	errtest.FactOnly(t, err.Error())
	if !errors.Is(err, ErrLocked) {
		t.Error("not ErrLocked")
	}

	t.Run("free again after Close", func(t *testing.T) {
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		again := openStore(t, path)
		if err := again.Save(New()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a closed store does not save", func(t *testing.T) {
		if err := first.Save(sampleState()); err == nil {
			t.Fatal("Save after Close succeeded")
		}
	})
}

// A store remembers what it last wrote by its digest, not its bytes: a
// daemon over a thousand applications keeps a thousand stores, and their
// copies were half of its heap.
func TestStoreKeepsNoCopyOfTheFile(t *testing.T) {
	kept := func() int64 {
		var m runtime.MemStats
		// Twice: sync.Pool's victim cache (encoding/json's buffers)
		// lasts one collection.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	s := openStore(t, path)
	base := kept()
	func() {
		st := sampleState()
		// About 4 MB of state: a large outbox.
		for i := range 2000 {
			ev := st.Outbox[0].Event
			ev.ID = "evt_big_" + strconv.Itoa(i)
			ev.Errors = []event.Error{{Exception: "E", Message: strings.Repeat("m", 2000)}}
			st.Enqueue(ev, []string{"slack"}, ev.OccurredAt)
		}
		if err := s.Save(st); err != nil {
			t.Fatal(err)
		}
		loaded, err := s.Load()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Save(loaded); err != nil {
			t.Fatal(err)
		}
	}()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() < 4<<20 {
		t.Fatalf("the state file has %d bytes; the test needs at least 4 MB", info.Size())
	}
	// What stays on the heap while only the store is held: far less
	// than the file (a copy would be all of it).
	if grew := kept() - base; grew > info.Size()/8 {
		t.Errorf("after Save, Load and Save the heap kept %d bytes more for a %d-byte state file: the store keeps a copy of it", grew, info.Size())
	}
	runtime.KeepAlive(s)
}

func TestUpgrade(t *testing.T) {
	t.Run("current version passes through", func(t *testing.T) {
		in := []byte(`{"version":1}`)
		out, steps, err := upgrade(Version, in)
		if err != nil || string(out) != string(in) || len(steps) != 0 {
			t.Fatalf("upgrade = %s, %q, %v", out, steps, err)
		}
	})
	t.Run("steps run in order", func(t *testing.T) {
		steps := map[int]upgradeStep{
			1: {what: "adds a", apply: func(b []byte) ([]byte, error) { return append(b, 'a'), nil }},
			2: {what: "adds b", apply: func(b []byte) ([]byte, error) { return append(b, 'b'), nil }},
		}
		out, whats, err := upgradeWith(1, []byte("x"), 3, steps)
		if err != nil || string(out) != "xab" {
			t.Fatalf("upgrade = %q, %v", out, err)
		}
		if want := []string{"version 1 to 2: adds a", "version 2 to 3: adds b"}; !slices.Equal(whats, want) {
			t.Errorf("steps = %q, want %q", whats, want)
		}
	})
	t.Run("missing step is an error", func(t *testing.T) {
		if _, _, err := upgradeWith(1, nil, 2, nil); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("newer version is refused", func(t *testing.T) {
		if _, _, err := upgrade(Version+1, nil); !errors.Is(err, ErrNewerVersion) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestOutbox(t *testing.T) {
	t0 := time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)
	st := New()
	ev := event.Event{ID: "evt_a", Kind: event.OperationFailed, Key: "operation.failed/X/1"}
	st.Open[ev.Key] = OpenProblem{Kind: ev.Kind, Key: ev.Key, Event: ev, OpenedAt: t0}
	st.Enqueue(ev, []string{"slack", "webhook"}, t0)
	st.Enqueue(ev, []string{"slack"}, t0) // duplicate: ignored

	if got := len(st.Due(t0)); got != 2 {
		t.Fatalf("Due = %d deliveries, want 2", got)
	}

	t.Run("retry later is not due now", func(t *testing.T) {
		if !st.Failed("evt_a", "slack", "503", t0.Add(time.Minute), false) {
			t.Fatal("Failed did not find the delivery")
		}
		due := st.Due(t0)
		if len(due) != 1 || due[0].Channel != "webhook" {
			t.Fatalf("Due = %+v", due)
		}
		if d := st.Due(t0.Add(time.Minute)); len(d) != 2 || d[0].Attempts != 1 || d[0].LastError != "503" {
			t.Fatalf("Due later = %+v", d)
		}
	})
	t.Run("delivery records LastSentAt", func(t *testing.T) {
		t1 := t0.Add(2 * time.Minute)
		if !st.Delivered("evt_a", "slack", t1) {
			t.Fatal("Delivered did not find it")
		}
		if got := st.Open[ev.Key].LastSentAt; !got.Equal(t1) {
			t.Fatalf("LastSentAt = %v", got)
		}
		if st.Delivered("evt_a", "slack", t1) {
			t.Fatal("delivered twice")
		}
	})
	t.Run("permanent failure moves to Dead", func(t *testing.T) {
		st.Failed("evt_a", "webhook", "410 Gone", time.Time{}, true)
		if len(st.Outbox) != 0 || len(st.Dead) != 1 || st.Dead[0].LastError != "410 Gone" {
			t.Fatalf("outbox %+v dead %+v", st.Outbox, st.Dead)
		}
	})
	t.Run("Dead is bounded", func(t *testing.T) {
		for i := range MaxDead + 10 {
			id := "evt_" + strconv.Itoa(i)
			st.Enqueue(event.Event{ID: id}, []string{"x"}, t0)
			st.Failed(id, "x", "no", time.Time{}, true)
		}
		if len(st.Dead) != MaxDead || st.Dead[MaxDead-1].Event.ID != "evt_"+strconv.Itoa(MaxDead+9) {
			t.Fatalf("dead = %d entries", len(st.Dead))
		}
	})
}
