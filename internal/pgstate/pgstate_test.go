package pgstate_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// ttl is the lease every test takes: long enough never to run out during
// a test, so expiry only happens when a test says so (expire).
const ttl = time.Hour

// now is the instant events are enqueued at.
var now = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// env is a fresh state database reached through one route.
type env struct {
	route string
	db    *pgstate.DB
	// admin is a direct connection (never through PgBouncer) to inspect
	// rows and to age leases.
	admin *dbtest.DB
	url   string
}

// routes are the ways to reach the state database: directly, and through
// PgBouncer in transaction mode.
var routes = []string{"direct", "pgbouncer"}

// newEnv creates a database on the shared server and opens it through
// route.
func newEnv(t *testing.T, route string) *env {
	t.Helper()
	admin := dbtest.NewDatabase(t, dbtest.Postgres)
	u := admin.URL
	if route == "pgbouncer" {
		u = dbtest.StartPgBouncer(t, admin)
	}
	return &env{route: route, db: open(t, u, pgstate.Options{}), admin: admin, url: u}
}

// forEachRoute runs f as a parallel sub-test per route.
func forEachRoute(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, r := range routes {
		t.Run(r, func(t *testing.T) {
			t.Parallel()
			f(t, newEnv(t, r))
		})
	}
}

func open(t *testing.T, u string, opts pgstate.Options) *pgstate.DB {
	t.Helper()
	db, err := pgstate.Open(context.Background(), u, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// expire ages app's lease past its expiry, as if its holder had stopped
// renewing it long ago.
func (e *env) expire(t *testing.T, app string) {
	t.Helper()
	if _, err := e.admin.SQL.Exec(`UPDATE seqwatch_leases SET expires_at = now() - interval '1s' WHERE app = $1`, app); err != nil {
		t.Fatal(err)
	}
}

// row is app's state row as stored.
type row struct {
	doc   []byte
	rev   int64
	token int64
}

func (e *env) row(t *testing.T, app string) row {
	t.Helper()
	var r row
	err := e.admin.SQL.QueryRow(`SELECT doc, rev, token FROM seqwatch_states WHERE app = $1`, app).Scan(&r.doc, &r.rev, &r.token)
	if err != nil {
		t.Fatalf("state row of %s: %v", app, err)
	}
	return r
}

// acquire takes app's lease for s and checks the outcome.
func acquire(t *testing.T, s *pgstate.Store, wantLeader bool, wantToken int64, wantHolder string) state.Lease {
	t.Helper()
	l, err := s.Acquire(context.Background(), ttl)
	if err != nil {
		t.Fatalf("%s Acquire: %v", s.Holder(), err)
	}
	if l.Leader != wantLeader || l.Token != wantToken || l.Holder != wantHolder {
		t.Fatalf("%s Acquire = leader %v token %d holder %s, want leader %v token %d holder %s",
			s.Holder(), l.Leader, l.Token, l.Holder, wantLeader, wantToken, wantHolder)
	}
	if l.Remaining <= 0 || l.Remaining > ttl || l.ExpiresAt.IsZero() {
		t.Fatalf("%s Acquire: remaining %s, expires at %s: want within the ttl %s", s.Holder(), l.Remaining, l.ExpiresAt, ttl)
	}
	return l
}

func load(t *testing.T, s *pgstate.Store) *state.State {
	t.Helper()
	st, err := s.Load()
	if err != nil {
		t.Fatalf("%s Load: %v", s.Holder(), err)
	}
	return st
}

func update(t *testing.T, s *pgstate.Store, cur *state.State, fn func(*state.State) error) *state.State {
	t.Helper()
	st, err := s.Update(context.Background(), cur, fn)
	if err != nil {
		t.Fatalf("%s Update: %v", s.Holder(), err)
	}
	return st
}

// event is a failure event for key.
func event(key string) notify.Event {
	return notify.Event{ID: state.NewEventID(), Kind: notify.OperationFailed, Key: key, App: "shop", OccurredAt: now, Summary: key + " failed"}
}

// enqueue returns an Update function that queues ev through slack.
func enqueue(evs ...notify.Event) func(*state.State) error {
	return func(st *state.State) error {
		for _, ev := range evs {
			st.Enqueue(ev, []string{"slack"}, now)
		}
		return nil
	}
}

// see returns an Update function that records key as seen.
func see(key string) func(*state.State) error {
	return func(st *state.State) error {
		st.Seen[key] = now
		return nil
	}
}

func outboxIDs(st *state.State) []string {
	var ids []string
	for _, d := range st.Outbox {
		ids = append(ids, d.Event.ID)
	}
	return ids
}

func deadIDs(st *state.State) []string {
	var ids []string
	for _, d := range st.Dead {
		ids = append(ids, d.Event.ID)
	}
	return ids
}

func muteIDs(st *state.State) []string {
	var ids []string
	for _, m := range st.Mutes {
		ids = append(ids, m.ID)
	}
	return ids
}

func seenKeys(st *state.State) []string {
	var keys []string
	for k := range st.Seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestOpenMigratesFreshDatabase(t *testing.T) {
	t.Parallel()
	admin := dbtest.NewDatabase(t, dbtest.Postgres)
	for i := range 2 {
		db := open(t, admin.URL, pgstate.Options{})
		db.Close()
		var v int
		if err := admin.SQL.QueryRow(`SELECT version FROM seqwatch_schema`).Scan(&v); err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		if v != pgstate.SchemaVersion {
			t.Errorf("open %d: schema version %d, want %d", i+1, v, pgstate.SchemaVersion)
		}
		var n int
		if err := admin.SQL.QueryRow(`SELECT count(*) FROM seqwatch_schema`).Scan(&n); err != nil || n != 1 {
			t.Errorf("open %d: seqwatch_schema has %d rows (%v), want 1", i+1, n, err)
		}
		for _, table := range []string{"seqwatch_leases", "seqwatch_states"} {
			var ok bool
			if err := admin.SQL.QueryRow(`SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil || !ok {
				t.Errorf("open %d: table %s missing (%v)", i+1, table, err)
			}
		}
	}
}

func TestOpenRacingOpensAllSucceed(t *testing.T) {
	for _, route := range routes {
		t.Run(route, func(t *testing.T) {
			t.Parallel()
			fresh := dbtest.NewDatabase(t, dbtest.Postgres)
			u := fresh.URL
			if route == "pgbouncer" {
				u = dbtest.StartPgBouncer(t, fresh)
			}
			const n = 4
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					db, err := pgstate.Open(context.Background(), u, pgstate.Options{})
					if err == nil {
						db.Close()
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Open %d: %v", i, err)
				}
			}
			var v int
			if err := fresh.SQL.QueryRow(`SELECT version FROM seqwatch_schema`).Scan(&v); err != nil || v != pgstate.SchemaVersion {
				t.Errorf("schema version %d (%v), want %d", v, err, pgstate.SchemaVersion)
			}
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	admin := dbtest.NewDatabase(t, dbtest.Postgres)
	open(t, admin.URL, pgstate.Options{}).Close()
	newer := pgstate.SchemaVersion + 2
	if _, err := admin.SQL.Exec(`UPDATE seqwatch_schema SET version = $1`, newer); err != nil {
		t.Fatal(err)
	}
	db, err := pgstate.Open(context.Background(), admin.URL, pgstate.Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded on a schema newer than the binary")
	}
	if !errors.Is(err, pgstate.ErrSchemaNewer) {
		t.Errorf("error %v does not match ErrSchemaNewer", err)
	}
	for _, want := range []string{
		fmt.Sprintf("schema version %d", newer),
		fmt.Sprintf("newer than this seqwatch knows (%d)", pgstate.SchemaVersion),
		fmt.Sprintf("%s:%d/%s", admin.Host, admin.Port, admin.Database),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	var v int
	if err := admin.SQL.QueryRow(`SELECT version FROM seqwatch_schema`).Scan(&v); err != nil || v != newer {
		t.Errorf("schema version became %d (%v): the refused Open must not touch it", v, err)
	}
}

// silentListener accepts connections and never answers, as a host behind
// a black-holing firewall would once connected.
func silentListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestOpenFailuresNameTheDatabaseNotThePassword(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-Sekr3t"
	admin := dbtest.NewDatabase(t, dbtest.Postgres)
	wrongPW := fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", admin.Username, secret, admin.Host, admin.Port, admin.Database)
	refused := closedPort(t)
	silent := silentListener(t)
	const timeout = 300 * time.Millisecond
	cases := []struct {
		name        string
		url         string
		unavailable bool
		want        []string
	}{
		{
			name:        "refused",
			url:         fmt.Sprintf("postgres://seqwatch:%s@127.0.0.1:%d/seqwatch_state?sslmode=disable", secret, refused),
			unavailable: true,
			want:        []string{fmt.Sprintf("127.0.0.1:%d/seqwatch_state", refused), "unreachable", "refused"},
		},
		{
			name:        "silent",
			url:         fmt.Sprintf("postgres://seqwatch:%s@127.0.0.1:%d/seqwatch_state?sslmode=disable", secret, silent),
			unavailable: true,
			want:        []string{fmt.Sprintf("127.0.0.1:%d/seqwatch_state", silent), "unreachable"},
		},
		{
			name: "wrong password",
			url:  wrongPW,
			want: []string{fmt.Sprintf("%s:%d/%s", admin.Host, admin.Port, admin.Database), "password authentication failed"},
		},
		{
			name: "not a URL",
			url:  "postgres://seqwatch:" + secret + "@127.0.0.1:notaport/x",
			want: []string{"state database URL is not valid"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			db, err := pgstate.Open(context.Background(), c.url, pgstate.Options{QueryTimeout: timeout})
			took := time.Since(start)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if got := errors.Is(err, pgstate.ErrUnavailable); got != c.unavailable {
				t.Errorf("errors.Is(err, ErrUnavailable) = %v, want %v (error: %v)", got, c.unavailable, err)
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q holds the password", msg)
			}
			// The deadline is the query timeout; a second of slack for
			// a loaded machine.
			if took > timeout+time.Second {
				t.Errorf("Open took %s, want within %s", took, timeout)
			}
		})
	}
}

func TestLeaseOneLeaderAndTakeoverAfterExpiry(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		a, b := e.db.Store("shop", "a"), e.db.Store("shop", "b")
		acquire(t, a, true, 1, "a")
		acquire(t, b, false, 1, "a")
		acquire(t, a, true, 1, "a") // renewing keeps the token

		e.expire(t, "shop")
		acquire(t, b, true, 2, "b") // takeover: token + 1
		acquire(t, a, false, 2, "b")
		acquire(t, b, true, 2, "b")

		// Release by a store that does not hold the lease changes nothing.
		if err := a.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		acquire(t, a, false, 2, "b")
		// Release by the holder hands over at the standby's next Acquire.
		if err := b.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		acquire(t, a, true, 3, "a")
		acquire(t, b, false, 3, "a")
	})
}

func TestLeaseFirstAcquisitionsRacing(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		const n = 4
		leases := make([]state.Lease, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				leases[i], errs[i] = e.db.Store("shop", "h"+strconv.Itoa(i)).Acquire(context.Background(), ttl)
			})
		}
		wg.Wait()
		leaders := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Acquire %d: %v", i, errs[i])
			}
			if leases[i].Leader {
				leaders++
			}
			if leases[i].Token != 1 || leases[i].Holder != leases[0].Holder {
				t.Errorf("Acquire %d: token %d holder %s, want 1 and one holder for all", i, leases[i].Token, leases[i].Holder)
			}
		}
		if leaders != 1 {
			t.Errorf("%d leaders, want 1", leaders)
		}
	})
}

func TestUpdateFencedAfterTakeover(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		a, b := e.db.Store("shop", "a"), e.db.Store("shop", "b")
		stB := load(t, b) // b loads as a standby, before a's writes
		acquire(t, a, true, 1, "a")
		stA := update(t, a, load(t, a), see("k1"))

		// Unchanged: nothing written.
		before := e.row(t, "shop")
		update(t, a, stA, func(*state.State) error { return nil })
		if after := e.row(t, "shop"); after.rev != before.rev {
			t.Errorf("an unchanged state was written (rev %d to %d)", before.rev, after.rev)
		}

		e.expire(t, "shop")
		acquire(t, b, true, 2, "b")

		before = e.row(t, "shop")
		called := false
		_, err := a.Update(context.Background(), stA, func(st *state.State) error {
			called = true
			st.Seen["k-old-leader"] = now
			return nil
		})
		if !errors.Is(err, state.ErrNotLeader) {
			t.Fatalf("old leader's Update: %v, want ErrNotLeader", err)
		}
		if called {
			t.Error("the fenced Update called fn")
		}
		if _, ok := stA.Seen["k-old-leader"]; ok {
			t.Error("the fenced Update changed the state in memory")
		}
		if after := e.row(t, "shop"); after.rev != before.rev || string(after.doc) != string(before.doc) {
			t.Errorf("the fenced Update wrote (rev %d to %d)", before.rev, after.rev)
		}
		for _, w := range []string{`"shop"`, "(a)", "token 1", "b (token 2)"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}

		// The new leader loaded before a wrote: its Update takes the whole
		// document a left, then applies its own change.
		stB = update(t, b, stB, see("k2"))
		sameList(t, "new leader's seen keys", seenKeys(stB), []string{"k1", "k2"})
		if r := e.row(t, "shop"); r.token != 2 {
			t.Errorf("document token %d, want the writer's lease token 2", r.token)
		}
		sameList(t, "stored seen keys", seenKeys(load(t, e.db.Store("shop", "reader"))), []string{"k1", "k2"})
	})
}

func TestUpdateRefusedWithoutLiveLease(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		cases := []struct {
			name  string
			setup func(t *testing.T, s *pgstate.Store)
		}{
			{"never acquired", func(*testing.T, *pgstate.Store) {}},
			{"lost to another", func(t *testing.T, s *pgstate.Store) {
				acquire(t, e.db.Store(s.App(), "other"), true, 1, "other")
				acquire(t, s, false, 1, "other")
			}},
			{"expired, nobody took over", func(t *testing.T, s *pgstate.Store) {
				acquire(t, s, true, 1, "me")
				e.expire(t, s.App())
			}},
			{"released", func(t *testing.T, s *pgstate.Store) {
				acquire(t, s, true, 1, "me")
				if err := s.Release(context.Background()); err != nil {
					t.Fatal(err)
				}
			}},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := e.db.Store("app"+strconv.Itoa(i), "me")
				c.setup(t, s)
				st := load(t, s)
				_, err := s.Update(context.Background(), st, see("k"))
				if !errors.Is(err, state.ErrNotLeader) {
					t.Fatalf("Update: %v, want ErrNotLeader", err)
				}
				if len(st.Seen) != 0 {
					t.Error("a refused Update changed the state")
				}
			})
		}
		// An expired lease nobody took renews with the same token, and
		// writes again.
		s := e.db.Store("app2", "me")
		acquire(t, s, true, 1, "me")
		update(t, s, load(t, s), see("k"))
	})
}

func TestEditsPickedUpByLeader(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.db.Store("shop", "a")
		acquire(t, a, true, 1, "a")
		ev1, ev2, ev3 := event("e1"), event("e2"), event("e3")
		cur := update(t, a, load(t, a), func(st *state.State) error {
			st.Enqueue(ev1, []string{"slack"}, now)
			st.Enqueue(ev2, []string{"slack"}, now)
			st.Enqueue(ev3, []string{"slack"}, now)
			st.Failed(ev3.ID, "slack", "410 Gone", now, true)
			st.Disable("slack", "hash-1", "410 Gone", now)
			st.Seen["k0"] = now
			return nil
		})
		sameList(t, "dead before", deadIDs(cur), []string{ev3.ID})

		// seqwatch outbox drop e1, retry e3, enable slack; and a change
		// to a field the CLI must not change, which the leader must not
		// take.
		err := e.db.Edit(ctx, "shop", func(st *state.State) error {
			st.Drop([]string{ev1.ID}, "")
			st.Retry([]string{ev3.ID}, "", now)
			st.Enable("slack", now)
			st.Seq = 999
			st.Seen["k-from-cli"] = now
			return nil
		})
		if err != nil {
			t.Fatalf("Edit: %v", err)
		}
		mute := state.Mute{ID: state.NewMuteID(), Start: now, End: now.Add(time.Hour), By: "cli"}
		err = e.db.EditMutes(ctx, "shop", func(st *state.State) error {
			st.Mutes = append(st.Mutes, mute)
			return nil
		})
		if err != nil {
			t.Fatalf("EditMutes: %v", err)
		}

		cur = update(t, a, cur, see("k1"))
		sameList(t, "outbox", outboxIDs(cur), []string{ev2.ID, ev3.ID})
		sameList(t, "dead", deadIDs(cur), nil)
		sameList(t, "mutes", muteIDs(cur), []string{mute.ID})
		sameList(t, "seen", seenKeys(cur), []string{"k0", "k1"})
		if _, disabled, cleared := cur.IsDisabled("slack", "hash-1"); disabled || !cleared {
			t.Errorf("the leader did not take seqwatch outbox enable: disabled %v, cleared %v", disabled, cleared)
		}
		if cur.Seq == 999 {
			t.Error("the leader took Seq from the edited document")
		}
		stored := load(t, e.db.Store("shop", "reader"))
		sameList(t, "stored outbox", outboxIDs(stored), []string{ev2.ID, ev3.ID})
		sameList(t, "stored mutes", muteIDs(stored), []string{mute.ID})
		sameList(t, "stored seen", seenKeys(stored), []string{"k0", "k1"})
	})
}

func TestEditWithoutState(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		called := false
		err := e.db.Edit(ctx, "nothing", func(*state.State) error { called = true; return nil })
		if !errors.Is(err, state.ErrNoState) {
			t.Fatalf("Edit of an application with no state: %v, want ErrNoState", err)
		}
		if called || !strings.Contains(err.Error(), `"nothing"`) {
			t.Errorf("Edit: called fn %v; error %q should name the application", called, err)
		}

		// A mute made before the daemon's first write starts the
		// document; the leader, which loaded a first run, takes the mute.
		a := e.db.Store("new", "a")
		cur := load(t, a)
		acquire(t, a, true, 1, "a")
		mute := state.Mute{ID: state.NewMuteID(), Start: now, End: now.Add(time.Hour)}
		if err := e.db.EditMutes(ctx, "new", func(st *state.State) error {
			st.Mutes = append(st.Mutes, mute)
			return nil
		}); err != nil {
			t.Fatalf("EditMutes: %v", err)
		}
		ev := event("e1")
		cur = update(t, a, cur, enqueue(ev))
		sameList(t, "mutes", muteIDs(cur), []string{mute.ID})
		sameList(t, "outbox", outboxIDs(cur), []string{ev.ID})

		// A failing fn writes nothing and its error comes back.
		before := e.row(t, "new")
		boom := errors.New("boom")
		if err := e.db.Edit(ctx, "new", func(st *state.State) error { st.Outbox = nil; return boom }); !errors.Is(err, boom) {
			t.Errorf("Edit with a failing fn: %v, want its error", err)
		}
		if _, err := a.Update(ctx, cur, func(st *state.State) error { st.Outbox = nil; return boom }); !errors.Is(err, boom) {
			t.Errorf("Update with a failing fn: %v, want its error", err)
		}
		if after := e.row(t, "new"); after.rev != before.rev {
			t.Errorf("a failing fn wrote (rev %d to %d)", before.rev, after.rev)
		}
	})
}

func TestAppsAreIndependent(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		shopA, blogA := e.db.Store("shop", "a"), e.db.Store("blog", "a")
		shopB, blogB := e.db.Store("shop", "b"), e.db.Store("blog", "b")
		acquire(t, shopA, true, 1, "a")
		acquire(t, blogB, true, 1, "b")
		acquire(t, blogA, false, 1, "b")
		acquire(t, shopB, false, 1, "a")

		update(t, shopA, load(t, shopA), see("shop-key"))
		update(t, blogB, load(t, blogB), see("blog-key"))
		if _, err := blogA.Update(context.Background(), load(t, blogA), see("x")); !errors.Is(err, state.ErrNotLeader) {
			t.Errorf("a's Update of blog: %v, want ErrNotLeader", err)
		}

		e.expire(t, "shop")
		acquire(t, shopB, true, 2, "b")
		acquire(t, blogB, true, 1, "b") // blog's lease is untouched
		sameList(t, "shop", seenKeys(load(t, e.db.Store("shop", "r"))), []string{"shop-key"})
		sameList(t, "blog", seenKeys(load(t, e.db.Store("blog", "r"))), []string{"blog-key"})
	})
}

func TestLoadRejectsUnreadableDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "direct")
	cases := []struct {
		name string
		doc  string
		is   error
	}{
		{"newer version", `{"version": 99}`, state.ErrNewerVersion},
		{"wrong shape", `{"version": 1, "open": []}`, state.ErrCorrupt},
		{"no version", `{}`, state.ErrCorrupt},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := "app" + strconv.Itoa(i)
			if _, err := e.admin.SQL.Exec(`INSERT INTO seqwatch_states (app, doc, rev, token, updated_at) VALUES ($1, $2, 1, 1, now())`, app, c.doc); err != nil {
				t.Fatal(err)
			}
			_, err := e.db.Store(app, "a").Load()
			if !errors.Is(err, c.is) {
				t.Fatalf("Load: %v, want %v", err, c.is)
			}
			if !strings.Contains(err.Error(), `"`+app+`"`) {
				t.Errorf("error %q does not name the application", err)
			}
			if err := e.db.Edit(context.Background(), app, func(*state.State) error { return nil }); !errors.Is(err, c.is) {
				t.Errorf("Edit: %v, want %v", err, c.is)
			}
		})
	}
}

func TestDocumentKeepsAwkwardText(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		// NUL (possible in MySQL and SQLite error text; jsonb would refuse
		// it), CRLF, markup, quotes, emoji, and a 300 KB trace.
		summary := "a\x00b\r\n<!channel> 'q' \"qq\" \\ \U0001F525"
		trace := strings.Repeat("#0 /var/www/app/Foo.php(12): Bar->baz()\n", 300_000/40)
		s := e.db.Store("shop", "a")
		acquire(t, s, true, 1, "a")
		ev := event("k")
		ev.Summary = summary
		ev.Errors = []notify.Error{{Trace: trace}}
		update(t, s, load(t, s), enqueue(ev))
		got := load(t, e.db.Store("shop", "reader"))
		if len(got.Outbox) != 1 {
			t.Fatalf("outbox has %d deliveries, want 1", len(got.Outbox))
		}
		if d := got.Outbox[0].Event; d.Summary != summary || len(d.Errors) != 1 || d.Errors[0].Trace != trace {
			t.Errorf("event came back as summary %q, trace of %d bytes; want %q, %d bytes", d.Summary, len(d.Errors[0].Trace), summary, len(trace))
		}
	})
}

func TestUpdateWhileDatabaseDown(t *testing.T) {
	t.Parallel()
	srv := dbtest.NewPostgresServer(t)
	admin := srv.NewDatabase(t)
	const timeout = 2 * time.Second
	db := open(t, admin.URL, pgstate.Options{QueryTimeout: timeout})
	where := fmt.Sprintf("%s:%d/%s", admin.Host, admin.Port, admin.Database)
	cases := []struct {
		name string
		// meanwhile runs once the server is back, before the leader's
		// next Update.
		meanwhile func(t *testing.T, queued notify.Event)
		want      func(queued, duringOutage notify.Event) []string
	}{
		{
			name:      "nothing else changed",
			meanwhile: func(*testing.T, notify.Event) {},
			want:      func(q, d notify.Event) []string { return []string{q.ID, d.ID} },
		},
		{
			name: "outbox drop meanwhile",
			meanwhile: func(t *testing.T, q notify.Event) {
				if err := db.Edit(context.Background(), "shop2", func(st *state.State) error {
					st.Drop([]string{q.ID}, "")
					return nil
				}); err != nil {
					t.Fatalf("Edit: %v", err)
				}
			},
			want: func(q, d notify.Event) []string { return []string{d.ID} },
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := "shop" + strconv.Itoa(i+1)
			s := db.Store(app, "a")
			acquire(t, s, true, 1, "a")
			queued, during := event("queued"), event("during-outage")
			cur := update(t, s, load(t, s), enqueue(queued))

			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			calls := 0
			start := time.Now()
			_, err := s.Update(context.Background(), cur, func(st *state.State) error {
				calls++
				return enqueue(during)(st)
			})
			took := time.Since(start)
			if !errors.Is(err, pgstate.ErrUnavailable) {
				t.Fatalf("Update with the server stopped: %v, want ErrUnavailable", err)
			}
			if !strings.Contains(err.Error(), where) || strings.Contains(err.Error(), admin.Password) {
				t.Errorf("error %q should name %s and not the password", err, where)
			}
			if took > timeout+time.Second {
				t.Errorf("Update took %s with the server stopped, want within %s", took, timeout)
			}
			if calls != 1 {
				t.Errorf("fn called %d times, want once", calls)
			}
			sameList(t, "outbox in memory", outboxIDs(cur), []string{queued.ID, during.ID})
			if !s.Dirty() {
				t.Error("store not dirty after a failed write")
			}
			if _, err := s.Acquire(context.Background(), ttl); !errors.Is(err, pgstate.ErrUnavailable) {
				t.Errorf("Acquire with the server stopped: %v, want ErrUnavailable", err)
			}

			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			c.meanwhile(t, queued)
			acquire(t, s, true, 1, "a")
			cur = update(t, s, cur, func(*state.State) error { return nil })
			if s.Dirty() {
				t.Error("store still dirty after a successful Update")
			}
			want := c.want(queued, during)
			sameList(t, "outbox after", outboxIDs(cur), want)
			sameList(t, "stored outbox", outboxIDs(load(t, db.Store(app, "reader"))), want)
		})
	}
}

func TestRestartBetweenUpdatesIsInvisible(t *testing.T) {
	t.Parallel()
	srv := dbtest.NewPostgresServer(t)
	admin := srv.NewDatabase(t)
	db := open(t, admin.URL, pgstate.Options{})
	s := db.Store("shop", "a")
	acquire(t, s, true, 1, "a")
	cur := update(t, s, load(t, s), see("k1"))
	// The pool's connections die with the server; the next calls get
	// fresh ones instead of failing.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	cur = update(t, s, cur, see("k2"))
	acquire(t, s, true, 1, "a")
	sameList(t, "stored seen", seenKeys(load(t, db.Store("shop", "reader"))), []string{"k1", "k2"})
}

func TestTakeoverWaitsForUpdateInFlight(t *testing.T) {
	forEachRoute(t, func(t *testing.T, e *env) {
		a, b := e.db.Store("shop", "a"), e.db.Store("shop", "b")
		acquire(t, a, true, 1, "a")
		cur := load(t, a)
		var (
			lease state.Lease
			errB  error
			done  = make(chan struct{})
		)
		cur = update(t, a, cur, func(st *state.State) error {
			// a has passed its fence. The lease now expires and b tries to
			// take over: both must wait until a's write is committed.
			go func() {
				defer close(done)
				if _, err := e.admin.SQL.Exec(`UPDATE seqwatch_leases SET expires_at = now() - interval '1s' WHERE app = 'shop'`); err != nil {
					errB = err
					return
				}
				lease, errB = b.Acquire(context.Background(), ttl)
			}()
			testkit.Eventually(t, 10*time.Second, "the expiring UPDATE waiting for the lease row lock", func() (bool, string) {
				var waiting int
				if err := e.admin.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				return waiting > 0, fmt.Sprintf("%d sessions waiting for a lock", waiting)
			})
			st.Seen["k-in-flight"] = now
			return nil
		})
		<-done
		if errB != nil {
			t.Fatal(errB)
		}
		if !lease.Leader || lease.Token != 2 {
			t.Errorf("b's takeover after a's write: leader %v token %d, want leader with token 2", lease.Leader, lease.Token)
		}
		if r := e.row(t, "shop"); r.token != 1 {
			t.Errorf("document token %d, want a's 1", r.token)
		}
		sameList(t, "stored seen", seenKeys(load(t, e.db.Store("shop", "reader"))), []string{"k-in-flight"})
		if _, err := a.Update(context.Background(), cur, see("late")); !errors.Is(err, state.ErrNotLeader) {
			t.Errorf("a's next Update: %v, want ErrNotLeader", err)
		}
	})
}

// BenchmarkTick measures one leader's tick against the state database: a
// lease renewal and two Updates (enqueue an event, then record its
// delivery), directly and through PgBouncer, with a small document and a
// large one (5,000 seen rows and 200 queued deliveries).
func BenchmarkTick(b *testing.B) {
	for _, route := range routes {
		for _, size := range []struct {
			name       string
			seen, outq int
		}{{"small", 0, 0}, {"large", 5000, 200}} {
			b.Run(route+"/"+size.name, func(b *testing.B) {
				admin := dbtest.NewDatabase(b, dbtest.Postgres)
				u := admin.URL
				if route == "pgbouncer" {
					u = dbtest.StartPgBouncer(b, admin)
				}
				db, err := pgstate.Open(context.Background(), u, pgstate.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				s := db.Store("shop", "a")
				ctx := context.Background()
				if _, err := s.Acquire(ctx, ttl); err != nil {
					b.Fatal(err)
				}
				cur, err := s.Load()
				if err != nil {
					b.Fatal(err)
				}
				cur, err = s.Update(ctx, cur, func(st *state.State) error {
					for i := range size.seen {
						st.Seen[fmt.Sprintf("operation.failed/2024_01_13_120000_Op%d/%d", i, i)] = now
					}
					for i := range size.outq {
						st.Enqueue(event(fmt.Sprintf("k%d", i)), []string{"slack"}, now.Add(time.Hour))
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				data, _ := state.Marshal(cur)
				b.ResetTimer()
				for b.Loop() {
					if _, err := s.Acquire(ctx, ttl); err != nil {
						b.Fatal(err)
					}
					ev := event("tick")
					if _, err := s.Update(ctx, cur, enqueue(ev)); err != nil {
						b.Fatal(err)
					}
					if _, err := s.Update(ctx, cur, func(st *state.State) error {
						st.Delivered(ev.ID, "slack", now)
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(data)), "doc-bytes")
			})
		}
	}
}
