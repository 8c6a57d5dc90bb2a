package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// leaseRow is the lease row a memStore's instances share.
type leaseRow struct {
	holder  string
	token   int64
	expires time.Time
}

// shared is what several memStores have in common: the state document
// and the lease, as a state database holds them.
type shared struct {
	mu    sync.Mutex
	doc   *state.State
	lease leaseRow
	down  bool
	now   func() time.Time
}

// memStore is a Store (and, with a holder, a Leaser) kept in memory. It
// fences Update the way internal/pgstate does: only the holder of the
// current token saves.
type memStore struct {
	sh     *shared
	holder string
	token  int64
}

func (m *memStore) Load() (*state.State, error) {
	m.sh.mu.Lock()
	defer m.sh.mu.Unlock()
	if m.sh.doc == nil {
		return state.New(), nil
	}
	return clone(m.sh.doc), nil
}

func (m *memStore) Update(_ context.Context, cur *state.State, fn func(*state.State) error) (*state.State, error) {
	m.sh.mu.Lock()
	defer m.sh.mu.Unlock()
	if m.holder != "" && (m.sh.lease.holder != m.holder || m.sh.lease.token != m.token || !m.sh.now().Before(m.sh.lease.expires)) {
		return cur, fmt.Errorf("save state: %w", state.ErrNotLeader)
	}
	if err := fn(cur); err != nil {
		return cur, err
	}
	if m.sh.down {
		return cur, errors.New("state database unreachable")
	}
	m.sh.doc = clone(cur)
	return cur, nil
}

func (m *memStore) Acquire(_ context.Context, ttl time.Duration) (state.Lease, error) {
	m.sh.mu.Lock()
	defer m.sh.mu.Unlock()
	if m.sh.down {
		return state.Lease{}, errors.New("state database unreachable")
	}
	l := &m.sh.lease
	now := m.sh.now()
	if l.holder == m.holder || !now.Before(l.expires) {
		if l.holder != m.holder {
			l.token++
		}
		l.holder, l.expires = m.holder, now.Add(ttl)
		m.token = l.token
		return state.Lease{Leader: true, Token: l.token, Holder: m.holder, ExpiresAt: l.expires, Remaining: ttl}, nil
	}
	return state.Lease{Holder: l.holder, Token: l.token, ExpiresAt: l.expires, Remaining: l.expires.Sub(now)}, nil
}

func (m *memStore) Release(context.Context) error {
	m.sh.mu.Lock()
	defer m.sh.mu.Unlock()
	if m.sh.lease.holder == m.holder {
		m.sh.lease.expires = m.sh.now()
	}
	return nil
}

func clone(st *state.State) *state.State {
	data, err := state.Marshal(st)
	if err != nil {
		panic(err)
	}
	out, err := state.Unmarshal(data)
	if err != nil {
		panic(err)
	}
	return out
}

// fileless is a Store without a lease, as a state file is.
type fileless struct{ m *memStore }

func newFileless(now func() time.Time) *fileless {
	return &fileless{&memStore{sh: &shared{now: now}}}
}

func (f *fileless) Load() (*state.State, error) { return f.m.Load() }
func (f *fileless) Update(ctx context.Context, cur *state.State, fn func(*state.State) error) (*state.State, error) {
	return f.m.Update(ctx, cur, fn)
}

// recorder is a channel that records what it was sent.
type recorder struct {
	mu   sync.Mutex
	sent []notify.Event
}

func (r *recorder) Notify(_ context.Context, evs []notify.Event) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, evs...)
	return false, nil
}

func (r *recorder) events() []notify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Event(nil), r.sent...)
}

// failing is a snapshot with one failed operation.
func failing(app string, at time.Time) *check.Snapshot {
	failedAt := at.Add(-time.Minute)
	return &check.Snapshot{App: app, TakenAt: at, Failing: []check.Failure{{
		Attempt: check.Attempt{ID: "7", Name: "2024_01_01_000000_Import", Type: "sync", State: "failed", ExecutedAt: failedAt, FailedAt: &failedAt},
		Errors:  []check.ErrorRecord{{ID: "1", Exception: "RuntimeException", Message: "boom", CreatedAt: &failedAt}},
	}}, Counts: check.Counts{Failing: 1}}
}

// newTestApp is an application whose read is read and whose one channel
// is rec; it sees only new problems (its state says it ran before).
func newTestApp(t *testing.T, name string, store state.Store, now func() time.Time, read func(context.Context) (*check.Snapshot, error), rec *recorder, logs *syncBuffer, obs ...Observer) *App {
	t.Helper()
	cfg := Config{
		Source:      laravel.Source{Name: name},
		Policy:      alerting.Policy{FirstRun: alerting.FirstRunSilent},
		Routes:      notify.DefaultRoutes([]string{"rec"}),
		Channels:    map[string]notify.Notifier{"rec": rec},
		TickTimeout: 2 * time.Second,
		Schedule:    cron.Every(time.Minute),
	}
	var w bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&w, nil))
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	deps := Deps{Store: store, Now: now, Logger: logger.With("app", name), Read: read,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	if len(obs) > 0 {
		deps.Observer = obs[0]
	}
	app, err := NewApp(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// syncBuffer is a log destination safe for several goroutines.
type syncBuffer = testkit.Logs

// manual is a Scheduler whose jobs run when the test says.
type manual struct {
	mu   sync.Mutex
	jobs []func()
}

func (m *manual) Schedule(_ cron.Schedule, job func()) {
	m.mu.Lock()
	m.jobs = append(m.jobs, job)
	m.mu.Unlock()
}
func (m *manual) Start() {}
func (m *manual) Stop() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no job of its own runs
	return ctx
}

func TestAFailureIsSentOnceAndItsRecoveryOnce(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	snap := &check.Snapshot{App: "shop"}
	rec := &recorder{}
	app := newTestApp(t, "shop", newFileless(c.Now), c.Now, func(context.Context) (*check.Snapshot, error) { return snap, nil }, rec, nil)
	steps := []struct {
		name string
		snap *check.Snapshot
		want []notify.Kind
	}{
		{"first tick records the quiet history", &check.Snapshot{App: "shop"}, nil},
		{"a failure is sent", failing("shop", c.Now()), []notify.Kind{notify.OperationFailed}},
		{"the same failure again sends nothing", failing("shop", c.Now()), []notify.Kind{notify.OperationFailed}},
		{"its recovery is sent", &check.Snapshot{App: "shop", LastCompleted: map[string]time.Time{"2024_01_01_000000_Import": c.Now()}},
			[]notify.Kind{notify.OperationFailed, notify.OperationRecovered}},
	}
	for _, s := range steps {
		snap = s.snap
		c.Add(time.Minute)
		if err := app.Tick(context.Background()); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var got []notify.Kind
		for _, ev := range rec.events() {
			got = append(got, ev.Kind)
		}
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Fatalf("%s: sent %v, want %v", s.name, got, s.want)
		}
	}
}

func TestTicksDueWhileOneRunsAreSkippedAndCounted(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	entered, release := make(chan struct{}), make(chan struct{})
	var logs syncBuffer
	app := newTestApp(t, "shop", newFileless(c.Now), c.Now, func(ctx context.Context) (*check.Snapshot, error) {
		close(entered)
		<-release
		return &check.Snapshot{App: "shop"}, nil
	}, &recorder{}, &logs)
	r := &runner{app: app, ctx: context.Background(), logger: app.logger, now: c.Now}
	done := make(chan struct{})
	go func() { r.run(); close(done) }()
	<-entered
	r.run()
	r.run()
	close(release)
	<-done
	for _, want := range []string{"tick skipped: the previous tick is still running", "skipped_ticks=1", "skipped_ticks=2"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

// The watchdog is fed while ticks end in time, and no longer once a tick
// runs past both its deadlines and the grace (a driver that ignores its
// context): systemd then restarts the wedged daemon.
func TestWatchdogIsNotFedWhileATickIsWedged(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	entered, release := make(chan struct{}), make(chan struct{})
	var logs syncBuffer
	app := newTestApp(t, "shop", newFileless(c.Now), c.Now, func(context.Context) (*check.Snapshot, error) {
		close(entered)
		<-release // ignores its context, as a wedged driver does
		return nil, errors.New("wedged")
	}, &recorder{}, &logs)
	fed := 0
	d := New([]*App{app}, Options{Now: c.Now, Notify: func(s string) {
		if s == "WATCHDOG=1" {
			fed++
		}
	}})
	r := d.runners[0]
	r.ctx = context.Background()
	if !d.keepAlive() || fed != 1 {
		t.Fatal("not fed while idle")
	}
	done := make(chan struct{})
	go func() { r.run(); close(done) }()
	<-entered
	c.Add(app.MaxTick())
	if !d.keepAlive() || fed != 2 {
		t.Fatalf("not fed at the limit (%s)", app.MaxTick())
	}
	c.Add(time.Second)
	if d.keepAlive() || d.keepAlive() || fed != 2 {
		t.Fatalf("fed %d times while the tick ran past its limit, want 2", fed)
	}
	if n := strings.Count(logs.String(), "no longer feeding"); n != 1 {
		t.Errorf("the wedge was logged %d times, want once", n)
	}
	close(release)
	<-done
	if !d.keepAlive() || fed != 3 {
		t.Error("not fed again once the tick ended")
	}
}

// One application whose database never answers holds its own tick, not
// the others': their ticks run and send while it waits.
func TestASlowApplicationDoesNotDelayAnother(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	slowEntered, slowRelease := make(chan struct{}), make(chan struct{})
	slow := newTestApp(t, "slow", newFileless(c.Now), c.Now, func(ctx context.Context) (*check.Snapshot, error) {
		close(slowEntered)
		select {
		case <-slowRelease:
		case <-ctx.Done():
		}
		return nil, errors.New("no answer")
	}, &recorder{}, nil)
	fastRec := &recorder{}
	ended := endSignal{make(chan struct{}, 4)}
	fastSnap := &check.Snapshot{App: "fast"}
	var mu sync.Mutex
	fast := newTestApp(t, "fast", newFileless(c.Now), c.Now, func(context.Context) (*check.Snapshot, error) {
		mu.Lock()
		defer mu.Unlock()
		return fastSnap, nil
	}, fastRec, nil, ended)
	sched := &manual{}
	var dl syncBuffer
	d := New([]*App{slow, fast}, Options{Now: c.Now, Scheduler: sched, MaxConcurrent: 2, Logger: slog.New(slog.NewTextHandler(&dl, nil))})
	defer func() { t.Log(dl.String()) }()
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error)
	go func() { ran <- d.Run(ctx, nil) }()
	<-slowEntered
	<-ended.c // fast's first tick ended, while slow's waits
	mu.Lock()
	fastSnap = failing("fast", c.Now())
	mu.Unlock()
	// The next tick of every application: slow's is skipped (its last one
	// still runs), fast's runs and sends.
	sched.mu.Lock()
	jobs := append([]func(){}, sched.jobs...)
	sched.mu.Unlock()
	for _, j := range jobs {
		j()
	}
	if got := fastRec.events(); len(got) != 1 || got[0].Kind != notify.OperationFailed {
		t.Fatalf("fast sent %v while slow waited, want its failure", got)
	}
	close(slowRelease)
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
}

// Two instances share one state: one leads and sends, the other stands
// by. When the leader stops renewing, the standby takes over once the
// lease expires, and the old leader is fenced: it saves and sends nothing.
func TestOneInstanceSendsAndAStandbyTakesOverWhenTheLeaseExpires(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	sh := &shared{now: c.Now}
	snap := &check.Snapshot{App: "shop"}
	var smu sync.Mutex
	read := func(context.Context) (*check.Snapshot, error) { smu.Lock(); defer smu.Unlock(); return snap, nil }
	setSnap := func(s *check.Snapshot) { smu.Lock(); snap = s; smu.Unlock() }
	recA, recB := &recorder{}, &recorder{}
	readsB := 0
	a := newTestApp(t, "shop", &memStore{sh: sh, holder: "a"}, c.Now, read, recA, nil)
	b := newTestApp(t, "shop", &memStore{sh: sh, holder: "b"}, c.Now, func(ctx context.Context) (*check.Snapshot, error) {
		readsB++
		return read(ctx)
	}, recB, nil)
	ctx := context.Background()
	tick := func(app *App) {
		t.Helper()
		if err := app.Tick(ctx); err != nil && !errors.Is(err, state.ErrNotLeader) {
			t.Fatalf("%s tick: %v", app.Name(), err)
		}
	}
	tick(a) // a leads; the quiet history is recorded
	tick(b) // b stands by
	if readsB != 0 {
		t.Fatalf("the standby read the application %d times", readsB)
	}
	setSnap(failing("shop", c.Now()))
	c.Add(time.Minute)
	tick(a)
	tick(b)
	if len(recA.events()) != 1 || len(recB.events()) != 0 {
		t.Fatalf("sent by a %d, by b %d; want the failure once, by the leader", len(recA.events()), len(recB.events()))
	}
	// a pauses past its lease (3 minutes with a 1-minute schedule).
	c.Add(3*time.Minute + time.Second)
	setSnap(&check.Snapshot{App: "shop", LastCompleted: map[string]time.Time{"2024_01_01_000000_Import": c.Now()}})
	tick(b) // takes over: loads a's state, so the recovery closes a's failure
	if got := recB.events(); len(got) != 1 || got[0].Kind != notify.OperationRecovered {
		t.Fatalf("the new leader sent %v, want the recovery only", got)
	}
	// a wakes up and ticks: its lease is gone, so it neither saves nor sends.
	before := len(recA.events())
	if err := a.tick(ctx); err == nil || !errors.Is(err, state.ErrNotLeader) {
		t.Fatalf("the old leader's tick: %v, want state.ErrNotLeader", err)
	}
	if len(recA.events()) != before {
		t.Error("the fenced old leader sent")
	}
	tick(a)
	if len(recA.events()) != before {
		t.Error("the old leader sent after losing the lease")
	}
}

// While the state store cannot save, what a tick finds is kept in memory
// and nothing is sent; once it saves again, each alert goes out once,
// under the id it got when it was found.
func TestAlertsFoundWhileTheStateIsDownAreSentOnceItIsBack(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	st := newFileless(c.Now)
	snap := &check.Snapshot{App: "shop"}
	rec := &recorder{}
	var logs syncBuffer
	app := newTestApp(t, "shop", st, c.Now, func(context.Context) (*check.Snapshot, error) { return snap, nil }, rec, &logs)
	ctx := context.Background()
	if err := app.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	st.m.sh.mu.Lock()
	st.m.sh.down = true
	st.m.sh.mu.Unlock()
	snap = failing("shop", c.Now())
	for range 3 {
		c.Add(time.Minute)
		if err := app.Tick(ctx); err == nil {
			t.Fatal("a tick with the state down succeeded")
		}
	}
	if len(rec.events()) != 0 {
		t.Fatalf("sent %d alerts without saving them first", len(rec.events()))
	}
	if !strings.Contains(logs.String(), "cannot save the state") || !strings.Contains(logs.String(), "consecutive_failures=3") {
		t.Errorf("the state failures were not logged loudly:\n%s", logs.String())
	}
	st.m.sh.mu.Lock()
	st.m.sh.down = false
	st.m.sh.mu.Unlock()
	c.Add(time.Minute)
	if err := app.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	if err := app.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.events(); len(got) != 1 || got[0].Kind != notify.OperationFailed {
		t.Fatalf("after the state came back: sent %v, want the failure once", got)
	}
}

func TestOnceTicksEveryApplicationAndReportsEachError(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	ok := newTestApp(t, "ok", newFileless(c.Now), c.Now, func(context.Context) (*check.Snapshot, error) { return &check.Snapshot{App: "ok"}, nil }, &recorder{}, nil)
	bad := newTestApp(t, "bad", newFileless(c.Now), c.Now, func(context.Context) (*check.Snapshot, error) { return nil, errors.New("connection refused") }, &recorder{}, nil)
	err := New([]*App{ok, bad}, Options{Now: c.Now}).Once(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Once: %v, want the failed read", err)
	}
	if ok.State() == nil || !ok.State().Initialized {
		t.Error("the readable application was not ticked")
	}
}

// endSignal is an Observer that says when a tick ended.
type endSignal struct{ c chan struct{} }

func (endSignal) TickStarted(time.Duration)                         {}
func (endSignal) ReadEnded(time.Time, check.Problems, error, error) {}
func (endSignal) Event(notify.Event, []string)                      {}
func (endSignal) MutedEvent(notify.Event)                           {}
func (endSignal) Mutes([]state.Mute, int)                           {}
func (endSignal) Delivered(*state.State, string, []string, string)  {}
func (e endSignal) TickEnded(*state.State, map[string]string)       { e.c <- struct{}{} }

// Each run --once is a new process, with a new holder id: it gives its
// lease up when done, so the next run (from any server) leads at once.
func TestOnceReleasesItsLease(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	sh := &shared{now: c.Now}
	quiet := func(context.Context) (*check.Snapshot, error) { return &check.Snapshot{App: "shop"}, nil }
	for i, holder := range []string{"run-1", "run-2", "run-3"} {
		rec := &recorder{}
		reads := 0
		app := newTestApp(t, "shop", &memStore{sh: sh, holder: holder}, c.Now, func(ctx context.Context) (*check.Snapshot, error) {
			reads++
			return quiet(ctx)
		}, rec, nil)
		if err := New([]*App{app}, Options{Now: c.Now}).Once(context.Background()); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if reads != 1 {
			t.Fatalf("run %d read %d times: it stood by behind the previous run's lease", i+1, reads)
		}
		c.Add(time.Minute)
	}
}

// SIGHUP applies each application's new configuration between its ticks;
// a configuration that drops an application is refused whole, and the
// previous one stays.
func TestReloadAppliesEachApplicationsConfigurationOrKeepsThePrevious(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	quiet := func(context.Context) (*check.Snapshot, error) { return &check.Snapshot{App: "x"}, nil }
	var logs syncBuffer
	shop := newTestApp(t, "shop", newFileless(c.Now), c.Now, quiet, &recorder{}, nil)
	blog := newTestApp(t, "blog", newFileless(c.Now), c.Now, quiet, &recorder{}, nil)
	cfg := func(name string, maxPending int) Config {
		return Config{Source: laravel.Source{Name: name}, Thresholds: check.Thresholds{MaxPending: maxPending}, Schedule: cron.Every(time.Minute)}
	}
	next := map[string]Config{"shop": cfg("shop", 5), "blog": cfg("blog", 50)}
	reloaded := 0
	d := New([]*App{shop, blog}, Options{Now: c.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Reload:   func() (map[string]Config, error) { return next, nil },
		Reloaded: func() { reloaded++ }})
	d.reload()
	if shop.cfg.Thresholds.MaxPending != 5 || blog.cfg.Thresholds.MaxPending != 50 || reloaded != 1 {
		t.Fatalf("after a reload: shop %d, blog %d, reloaded %d; want 5, 50, 1", shop.cfg.Thresholds.MaxPending, blog.cfg.Thresholds.MaxPending, reloaded)
	}
	next = map[string]Config{"shop": cfg("shop", 7)}
	d.reload()
	if shop.cfg.Thresholds.MaxPending != 5 || reloaded != 1 {
		t.Errorf("a configuration without blog was applied: shop %d, reloaded %d", shop.cfg.Thresholds.MaxPending, reloaded)
	}
	if !strings.Contains(logs.String(), "reload failed; keeping the previous configuration") || !strings.Contains(logs.String(), "blog is gone") {
		t.Errorf("the refused reload was not logged with its reason:\n%s", logs.String())
	}
}

// The outbox's backoff and a peer's Retry-After share one cap: a channel
// is never held back longer than its own backoff would hold it.
func TestBackoffAndRetryAfterShareOneCap(t *testing.T) {
	if state.MaxRetry != notify.MaxRetryAfter {
		t.Fatalf("state.MaxRetry %s, notify.MaxRetryAfter %s: want one cap", state.MaxRetry, notify.MaxRetryAfter)
	}
}

// hung is a channel whose endpoint, once armed, takes a request and never
// answers until released (it ignores its context, as a peer that holds
// the connection open makes a client wait out its whole timeout).
type hung struct {
	armed   atomic.Bool
	entered chan string
	release chan struct{}
	name    string
}

func newHung(name string) *hung {
	return &hung{name: name, entered: make(chan string, 8), release: make(chan struct{})}
}

func (h *hung) wait() {
	if h.armed.Load() {
		h.entered <- h.name
		<-h.release
	}
}

func (h *hung) Notify(context.Context, []notify.Event) (bool, error) { h.wait(); return false, nil }

// hungResender is a hung Alertmanager: its Resend at each tick hangs too.
type hungResender struct{ *hung }

func (h hungResender) Resend(context.Context, []notify.Event, map[string]bool) error {
	h.wait()
	return nil
}

// signalling is a channel that records what it got and says so.
type signalling struct {
	recorder
	got chan struct{}
}

func (s *signalling) Notify(ctx context.Context, evs []notify.Event) (bool, error) {
	retry, err := s.recorder.Notify(ctx, evs)
	s.got <- struct{}{}
	return retry, err
}

// Each channel delivers on its own: with an Alertmanager and a webhook
// that both hang, Slack gets its alert at once, not after their timeouts.
func TestAHungChannelDoesNotDelaySlack(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	am, hook := newHung("am"), newHung("hook")
	slack := &signalling{got: make(chan struct{}, 4)}
	var smu sync.Mutex
	snap := &check.Snapshot{App: "shop"}
	cfg := Config{
		Source:   laravel.Source{Name: "shop"},
		Policy:   alerting.Policy{FirstRun: alerting.FirstRunSilent},
		Routes:   notify.DefaultRoutes([]string{"am", "hook", "slack"}),
		Channels: map[string]notify.Notifier{"am": hungResender{am}, "hook": hook, "slack": slack},
		// Long enough that a delivery one channel after another could
		// only reach Slack once the others are released.
		TickTimeout: time.Hour,
		Schedule:    cron.Every(time.Minute),
	}
	var logs syncBuffer
	app, err := NewApp(cfg, Deps{Store: newFileless(c.Now), Now: c.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Read:  func(context.Context) (*check.Snapshot, error) { smu.Lock(); defer smu.Unlock(); return snap, nil },
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Tick(context.Background()); err != nil {
		t.Fatal(err) // the quiet history
	}
	smu.Lock()
	snap = failing("shop", c.Now())
	smu.Unlock()
	am.armed.Store(true)
	hook.armed.Store(true)
	c.Add(time.Minute)
	done := make(chan error, 1)
	go func() { done <- app.Tick(context.Background()) }()
	entered := map[string]bool{}
	timeout := time.After(30 * time.Second)
	for len(entered) < 2 || len(slack.events()) == 0 {
		select {
		case name := <-am.entered:
			entered[name] = true
		case name := <-hook.entered:
			entered[name] = true
		case <-slack.got:
		case <-timeout:
			close(am.release)
			close(hook.release)
			t.Fatalf("Slack got %d alerts while %v hung, want the failure at once\n%s", len(slack.events()), entered, logs.String())
		}
	}
	if got := slack.events(); len(got) != 1 || got[0].Kind != notify.OperationFailed {
		t.Errorf("Slack got %v, want the failure", got)
	}
	close(am.release)
	close(hook.release)
	if err := <-done; err != nil {
		t.Fatalf("the tick: %v", err)
	}
}
