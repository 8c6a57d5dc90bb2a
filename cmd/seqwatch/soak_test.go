package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/demo"
	"github.com/seqwatch/seqwatch/state"
)

// soakDaemon builds an in-process daemon over the sample application with
// a console channel writing to io.Discard and a clock the caller drives.
func soakDaemon(tb testing.TB, clock *time.Time) (*daemon.App, func()) {
	tb.Helper()
	dir := tb.TempDir()
	if err := demo.WriteApp(context.Background(), dir, *clock); err != nil {
		tb.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "seqwatch.yaml")
	yaml := fmt.Sprintf("app: %s\nthresholds:\n  max_pending: 10\n  stuck_after: 30m\nrepeat_after: 6h\nchannels:\n  - name: out\n    console: {}\n", dir)
	cfg, err := config.Parse(cfgPath, []byte(yaml), os.Getenv)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := state.Open(filepath.Join(dir, "state.json"))
	if err != nil {
		tb.Fatal(err)
	}
	e := env{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv, now: func() time.Time { return *clock }}
	d, err := newApp(cfg.TopLevel(), st, e, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	return d, func() { d.Close(); st.Close() }
}

// BenchmarkTickUnchanged is the cost of a tick when nothing is new: one
// snapshot read and no state write.
func BenchmarkTickUnchanged(b *testing.B) {
	clock := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	d, done := soakDaemon(b, &clock)
	defer done()
	ctx := context.Background()
	if err := d.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSoakMemoryStaysFlat simulates a day of ticks, one a minute (1,440),
// on the sample application with reminders every 6 hours, and checks that
// the live heap after the day is not growing with the number of ticks.
// SEQWATCH_SOAK_TICKS sets another count (bench/soak.sh prints the figures).
func TestSoakMemoryStaysFlat(t *testing.T) {
	ticks := 1440
	if s := os.Getenv("SEQWATCH_SOAK_TICKS"); s != "" {
		ticks, _ = strconv.Atoi(s)
	}
	clock := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	d, done := soakDaemon(t, &clock)
	defer done()
	ctx := context.Background()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	warm := 60
	for i := 0; i < warm; i++ {
		clock = clock.Add(time.Minute)
		if err := d.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	start, rssStart := heap(), rssKB()
	for i := 0; i < ticks; i++ {
		clock = clock.Add(time.Minute)
		if err := d.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	end, rssEnd := heap(), rssKB()
	t.Logf("after %d ticks (%s simulated): live heap %d KB -> %d KB, RSS %d KB -> %d KB", ticks, time.Duration(ticks)*time.Minute, start/1024, end/1024, rssStart, rssEnd)
	// Allow noise (pools, the GC's own pacing), but not growth per tick.
	if end > start+2<<20 {
		t.Errorf("live heap grew from %d KB to %d KB over %d ticks", start/1024, end/1024, ticks)
	}
	if len(d.State().Outbox) != 0 {
		t.Errorf("%d alerts left in the outbox", len(d.State().Outbox))
	}
}

// rssKB reads the process's resident set size from /proc (0 elsewhere).
func rssKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	return 0
}

// A tick on an unchanged application does not rewrite the state file.
func TestUnchangedTickDoesNotRewriteState(t *testing.T) {
	clock := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	d, done := soakDaemon(t, &clock)
	defer done()
	ctx := context.Background()
	if err := d.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(filepath.Dir(d.Source().OperationPaths[0]), "..", "state.json")
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	if err := d.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the state file was rewritten although nothing changed")
	}
}
