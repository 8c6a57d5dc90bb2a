package pgstate_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// A store remembers the document it last loaded or wrote by its digest and
// its outbox's keys, not its bytes: a daemon over a thousand applications
// keeps a thousand stores, and their copies grew its memory with every
// application's state.
func TestStoreKeepsNoCopyOfTheDocument(t *testing.T) {
	e := newEnv(t, "direct")
	kept := func() int64 {
		var m runtime.MemStats
		// Twice: sync.Pool's victim cache (encoding/json's buffers)
		// lasts one collection.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	s := e.db.Store("shop", "a")
	acquire(t, s, true, 1, "a")
	func() {
		cur := load(t, s)
		// About 4 MB of state: a large outbox.
		var evs []notify.Event
		for range 2000 {
			ev := event("operation.failed/big")
			ev.Errors = []notify.Error{{Exception: "E", Message: strings.Repeat("m", 2000)}}
			evs = append(evs, ev)
		}
		cur = update(t, s, cur, enqueue(evs...))
		cur = load(t, s)
		update(t, s, cur, func(*state.State) error { return nil })
	}()
	size := int64(len(e.row(t, "shop").doc))
	if size < 4<<20 {
		t.Fatalf("the document has %d bytes; the test needs at least 4 MB", size)
	}
	// What the store alone holds: the heap with it, less the heap without
	// it (the database's connections keep buffers the size of the largest
	// message either way).
	with := kept()
	runtime.KeepAlive(s)
	s = nil
	if held := with - kept(); held > size/8 {
		t.Errorf("after an Update, a Load and an unchanged Update the store held %d bytes for a %d-byte document: it keeps a copy of it", held, size)
	}
}
