// Package daemontest runs seqwatch's alerting daemon for one application
// inside a test: each tick judges the snapshot the test sets and delivers
// through the channels the test built, and the state file outlives the
// daemon, so that a test can restart it (a new process on the same state)
// between ticks. It lets a channel's tests go end to end, from judged
// problems through the outbox to the channel's receiver. It is test
// support: only tests import it.
package daemontest

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// Daemon is one application's daemon over a state file in a test's
// temporary directory.
type Daemon struct {
	t     testing.TB
	path  string
	th    check.Thresholds
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	store *state.FileStore
	app   *daemon.App
	// Snapshot is what the next tick reads (its App names the
	// application).
	Snapshot *check.Snapshot
}

// Start starts the daemon with channels (every kind routed to every
// channel), judging by th, on the clock now; sleep is the delivery's wait
// (a fake clock's, so that no test sleeps). snap is what the first tick
// reads.
func Start(t testing.TB, channels map[string]notify.Notifier, th check.Thresholds, now func() time.Time, sleep func(ctx context.Context, d time.Duration) error, snap *check.Snapshot) *Daemon {
	t.Helper()
	d := &Daemon{t: t, path: filepath.Join(t.TempDir(), "state.json"), th: th, now: now, sleep: sleep, Snapshot: snap}
	d.start(channels)
	t.Cleanup(func() { d.stop() })
	return d
}

func (d *Daemon) start(channels map[string]notify.Notifier) {
	d.t.Helper()
	store, err := state.Open(d.path)
	if err != nil {
		d.t.Fatal(err)
	}
	cfg := daemon.Config{
		Source:     laravel.Source{Name: d.Snapshot.App, Environment: d.Snapshot.Environment},
		Thresholds: d.th,
		Routes:     notify.DefaultRoutes(slices.Collect(maps.Keys(channels))),
		Channels:   channels,
	}
	app, err := daemon.NewApp(cfg, daemon.Deps{Store: store, Now: d.now, Sleep: d.sleep,
		Read: func(context.Context) (*check.Snapshot, error) {
			s := *d.Snapshot
			s.TakenAt = d.now()
			return &s, nil
		}})
	if err != nil {
		store.Close()
		d.t.Fatal(err)
	}
	d.store, d.app = store, app
}

func (d *Daemon) stop() {
	if d.store != nil {
		d.app.Close()
		d.store.Close()
		d.store = nil
	}
}

// Tick runs one tick: read, judge, record, deliver. Its error says what
// is left in the outbox or the dead letters (daemon.UndeliveredError).
func (d *Daemon) Tick() error {
	return d.app.Tick(context.Background())
}

// Restart stops the daemon and starts a new one on the same state file
// with channels (new Notifiers: nothing in memory survives).
func (d *Daemon) Restart(channels map[string]notify.Notifier) {
	d.t.Helper()
	d.stop()
	d.start(channels)
}

// State is the daemon's state as of its last tick.
func (d *Daemon) State() *state.State { return d.app.State() }
