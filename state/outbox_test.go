package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/event"
)

// t0 is the time the tests start at.
var t0 = time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)

func TestBackoffStartsInSecondsDoublesAndIsCapped(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{3, 40 * time.Second},
		{4, 80 * time.Second},
		{5, 2 * time.Minute},
		{50, 2 * time.Minute},
	} {
		if got := Backoff(tc.failures); got != tc.want {
			t.Errorf("Backoff(%d) = %s, want %s", tc.failures, got, tc.want)
		}
	}
}

func TestEventIDsAreRandom128Bit(t *testing.T) {
	// Two applications that look alike (same name, kind, key, first event
	// of their state) must not hand out the same id.
	a := New().NewEvent(event.Digest, "digest/first-run", "current", "", t0, "")
	b := New().NewEvent(event.Digest, "digest/first-run", "current", "", t0, "")
	if a.ID == b.ID {
		t.Fatalf("two states gave the same first id %s", a.ID)
	}
	for _, id := range []string{a.ID, b.ID} {
		if !strings.HasPrefix(id, "evt_") || len(id) != 4+32 || strings.Trim(id[4:], "0123456789abcdef") != "" {
			t.Errorf("id %q is not evt_ and 128 bits in hex", id)
		}
	}
}

func queued(ids ...string) *State {
	st := New()
	for _, id := range ids {
		st.Enqueue(event.Event{ID: id, Kind: event.OperationFailed, Key: "operation.failed/X/" + id}, []string{"hook"}, t0)
	}
	return st
}

func batchIDs(bs []Batch) [][]string {
	var out [][]string
	for _, b := range bs {
		out = append(out, b.EventIDs())
	}
	return out
}

// An event that has been attempted keeps its delivery id: its batch is
// frozen, and a new event joins a new batch instead of changing the old
// batch's members (and so its digest id).
func TestAttemptedBatchIsFrozen(t *testing.T) {
	st := queued("evt_a")
	bs := st.DueBatches(t0)
	if got := batchIDs(bs); len(got) != 1 || !slices.Equal(got[0], []string{"evt_a"}) {
		t.Fatalf("first batches %v", got)
	}
	frozen := st.Freeze("hook", bs[0].EventIDs())
	st.Failed("evt_a", "hook", "500", t0.Add(Backoff(1)), false)

	later := t0.Add(time.Minute)
	st.Enqueue(event.Event{ID: "evt_b"}, []string{"hook"}, later)
	bs = st.DueBatches(later)
	if got := batchIDs(bs); len(got) != 2 || !slices.Equal(got[0], []string{"evt_a"}) || !slices.Equal(got[1], []string{"evt_b"}) {
		t.Fatalf("after a new event: batches %v, want [evt_a] alone (frozen) then [evt_b]", got)
	}
	if bs[0].ID != frozen || bs[1].ID != "" {
		t.Errorf("batch ids %q %q, want %q and none", bs[0].ID, bs[1].ID, frozen)
	}
	if again := st.Freeze("hook", []string{"evt_a"}); again != frozen {
		t.Errorf("re-freezing gave %s, want %s", again, frozen)
	}
}

func TestFrozenBatchGoesOutWhole(t *testing.T) {
	st := queued("evt_a", "evt_b")
	st.Freeze("hook", []string{"evt_a", "evt_b"})
	st.Failed("evt_a", "hook", "500", t0.Add(time.Hour), false)
	st.Failed("evt_b", "hook", "500", t0.Add(time.Minute), false)
	got := batchIDs(st.DueBatches(t0.Add(2 * time.Minute)))
	if len(got) != 1 || !slices.Equal(got[0], []string{"evt_a", "evt_b"}) {
		t.Fatalf("batches %v, want the whole frozen batch once one member is due", got)
	}
}

func TestPostponeCountsNoAttempt(t *testing.T) {
	st := queued("evt_a")
	st.Postpone("evt_a", "hook", t0.Add(time.Minute))
	d := st.Outbox[0]
	if d.Attempts != 0 || !d.NextAttempt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after Postpone: %+v", d)
	}
	if len(st.DueBatches(t0)) != 0 {
		t.Error("a postponed delivery is due before its time")
	}
}

func TestDisabledChannelUntilItsConfigurationChanges(t *testing.T) {
	st := New()
	st.Disable("hook", "cfg1", "POST evt_1: 410 Gone", t0)
	if _, disabled, cleared := st.IsDisabled("hook", "cfg1"); !disabled || cleared {
		t.Fatalf("same configuration: disabled=%v cleared=%v, want disabled", disabled, cleared)
	}
	if _, disabled, _ := st.IsDisabled("other", "cfg1"); disabled {
		t.Fatal("another channel is disabled too")
	}
	if _, disabled, cleared := st.IsDisabled("hook", "cfg2"); disabled || !cleared {
		t.Fatalf("changed configuration: disabled=%v cleared=%v, want enabled again", disabled, cleared)
	}
	if _, ok := st.Disabled["hook"]; ok {
		t.Fatal("the mark stays after the configuration changed")
	}
}

func TestRetryAndDrop(t *testing.T) {
	now := t0.Add(time.Hour)
	setup := func() *State {
		st := queued("evt_w", "evt_d1", "evt_d2")
		st.Failed("evt_w", "hook", "500", t0.Add(10*time.Hour), false)
		st.Failed("evt_d1", "hook", "404", t0, true)
		st.Failed("evt_d2", "hook", "400", t0, true)
		return st
	}
	for _, tc := range []struct {
		name        string
		op          func(st *State) int
		wantN       int
		wantOutbox  []string
		wantDead    []string
		wantDueNow  int
		wantAttempt map[string]int
	}{
		{"retry one dead letter", func(st *State) int { return st.Retry([]string{"evt_d1"}, "", now) }, 1,
			[]string{"evt_w", "evt_d1"}, []string{"evt_d2"}, 1, map[string]int{"evt_d1": 0}},
		{"retry all", func(st *State) int { return st.Retry([]string{"all"}, "", now) }, 3,
			[]string{"evt_w", "evt_d1", "evt_d2"}, nil, 3, nil},
		{"retry on another channel matches nothing", func(st *State) int { return st.Retry([]string{"all"}, "slack", now) }, 0,
			[]string{"evt_w"}, []string{"evt_d1", "evt_d2"}, 0, nil},
		{"drop a dead letter", func(st *State) int { return st.Drop([]string{"evt_d2"}, "") }, 1,
			[]string{"evt_w"}, []string{"evt_d1"}, 0, nil},
		{"drop a waiting alert", func(st *State) int { return st.Drop([]string{"evt_w"}, "") }, 1,
			nil, []string{"evt_d1", "evt_d2"}, 0, nil},
		{"drop an unknown id", func(st *State) int { return st.Drop([]string{"evt_nope"}, "") }, 0,
			[]string{"evt_w"}, []string{"evt_d1", "evt_d2"}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := setup()
			if n := tc.op(st); n != tc.wantN {
				t.Errorf("changed %d, want %d", n, tc.wantN)
			}
			var out, dead []string
			for _, d := range st.Outbox {
				out = append(out, d.Event.ID)
				if want, ok := tc.wantAttempt[d.Event.ID]; ok && d.Attempts != want {
					t.Errorf("%s has %d attempts, want %d", d.Event.ID, d.Attempts, want)
				}
			}
			for _, d := range st.Dead {
				dead = append(dead, d.Event.ID)
			}
			if !slices.Equal(out, tc.wantOutbox) || !slices.Equal(dead, tc.wantDead) {
				t.Errorf("outbox %v dead %v, want %v and %v", out, dead, tc.wantOutbox, tc.wantDead)
			}
			due := 0
			for _, b := range st.DueBatches(now) {
				due += len(b.Deliveries)
			}
			if due != tc.wantDueNow {
				t.Errorf("%d due now, want %d", due, tc.wantDueNow)
			}
		})
	}
}

// `seqwatch outbox` changes the file while the daemon runs: the daemon's
// next Update starts from the changed file, not from its copy in memory,
// and keeps the chat threads it recorded meanwhile.
func TestUpdatePicksUpAnEditMadeMeanwhile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := openStore(t, path)
	cur, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cur, err = s.Update(ctx, cur, func(st *State) error {
		st.Enqueue(event.Event{ID: "evt_a"}, []string{"hook"}, t0)
		st.Enqueue(event.Event{ID: "evt_b"}, []string{"hook"}, t0)
		st.Disable("mail", "h1", "410 Gone", t0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Edit(ctx, path, func(st *State) error {
		st.Drop([]string{"evt_a"}, "")
		if !st.Enable("mail", t0) {
			t.Error("Enable: the channel is not disabled in the file")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	NewThreadStore(func() *State { return cur }, "slack").SetThread("k", "C1", "123.4")
	cur, err = s.Update(ctx, cur, func(st *State) error {
		st.Delivered("evt_b", "hook", t0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cur.Outbox) != 0 {
		t.Errorf("outbox %v: the dropped alert came back", outboxOf(cur))
	}
	if cur.DisabledUnder("mail", "h1") {
		t.Error("seqwatch outbox enable was not picked up")
	}
	if _, ts, ok := NewThreadStore(func() *State { return cur }, "slack").Thread("k"); !ok || ts != "123.4" {
		t.Error("the thread recorded between the edit and the update was lost")
	}
	again := openStoreAfterClose(t, s, path)
	if len(again.Outbox) != 0 {
		t.Errorf("on disk: outbox %v", outboxOf(again))
	}
}

func outboxOf(st *State) []string {
	var ids []string
	for _, d := range st.Outbox {
		ids = append(ids, d.Event.ID)
	}
	return ids
}

func openStoreAfterClose(t *testing.T, s *FileStore, path string) *State {
	t.Helper()
	s.Close()
	s2 := openStore(t, path)
	st, err := s2.Load()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Edit waits for the write lock a daemon holds around its change, and
// gives up with a clear message when it is held too long.
func TestEditWaitsForTheWriteLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := openStore(t, path)
	cur, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(context.Background(), cur, func(*State) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := Edit(context.Background(), path+".missing", func(*State) error { return nil }); !errors.Is(err, ErrNoState) {
		t.Errorf("Edit of a missing file: %v, want ErrNoState", err)
	}

	inside := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = s.Update(context.Background(), cur, func(*State) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	err = Edit(short, path, func(*State) error { return nil })
	cancel()
	if err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("Edit while the lock is held: %v, want a busy error", err)
	}
	edited := make(chan error)
	go func() {
		edited <- Edit(context.Background(), path, func(st *State) error {
			st.Source.LastError = "edited"
			return nil
		})
	}()
	close(release)
	if err := <-edited; err != nil {
		t.Fatalf("Edit after the lock was released: %v", err)
	}
	wg.Wait()
}

// `sudo seqwatch outbox` must leave the state file to the daemon's user.
func TestEditKeepsTheStateFilesOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own a file as another user")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	s := openStore(t, path)
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Enqueue(event.Event{ID: "evt_a"}, []string{"hook"}, t0)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	if err := os.Chown(path, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + ".write.lock")
	if err := Edit(context.Background(), path, func(st *State) error {
		st.Drop([]string{"all"}, "")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".write.lock"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		sys := info.Sys().(*syscall.Stat_t)
		switch {
		case p == path && (sys.Uid != nobody || info.Mode().Perm() != 0o600):
			t.Errorf("after Edit as root the state file is uid %d mode %v, want uid %d mode 0600", sys.Uid, info.Mode().Perm(), nobody)
		case p != path && info.Mode().Perm()&0o004 == 0:
			t.Errorf("the write lock made by root has mode %v: the daemon's user could not open it", info.Mode().Perm())
		}
	}
}

// What seqwatch outbox retry and drop check before they change anything:
// the ids that select nothing, and the disabled channels of those that do.
func TestUnknownIDsAndDisabledChannelsAmongASelection(t *testing.T) {
	st := New()
	st.Enqueue(event.Event{ID: "evt_a"}, []string{"hook", "mail"}, t0)
	st.Enqueue(event.Event{ID: "evt_b"}, []string{"hook"}, t0)
	st.Failed("evt_b", "hook", "400", t0, true)
	st.Disable("hook", "h1", "410 Gone", t0)
	for _, tc := range []struct {
		ids     []string
		channel string
		want    []string
	}{
		{[]string{"all"}, "", nil},
		{[]string{"evt_a", "evt_b"}, "", nil},
		{[]string{"evt_b", "evt_x"}, "", []string{"evt_x"}},
		{[]string{"evt_b"}, "mail", []string{"evt_b"}},
	} {
		if got := st.Unknown(tc.ids, tc.channel); !slices.Equal(got, tc.want) {
			t.Errorf("Unknown(%v, %q) = %v, want %v", tc.ids, tc.channel, got, tc.want)
		}
	}
	hashes := map[string]string{"hook": "h1", "mail": "m1"}
	if got := st.DisabledAmong([]string{"all"}, "", hashes); !slices.Equal(got, []string{"hook"}) {
		t.Errorf("DisabledAmong(all) = %v, want [hook]", got)
	}
	if got := st.DisabledAmong([]string{"evt_a"}, "mail", hashes); got != nil {
		t.Errorf("DisabledAmong(evt_a, mail) = %v, want none", got)
	}
	if got := st.DisabledAmong([]string{"all"}, "", map[string]string{"hook": "h2"}); got != nil {
		t.Errorf("DisabledAmong under a changed configuration = %v, want none", got)
	}
	st.Enable("hook", t0)
	if got := st.DisabledAmong([]string{"all"}, "", hashes); got != nil {
		t.Errorf("DisabledAmong after Enable = %v, want none", got)
	}
}
