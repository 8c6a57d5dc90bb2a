package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
)

// sharedConf is a configuration for one of several seqwatch sharing the
// state in PostgreSQL: ticks every second, lease lease.
func sharedConf(t *testing.T, dir, app, stateURL, hookURL, lease string) string {
	t.Helper()
	p := filepath.Join(dir, "seqwatch.yaml")
	yaml := fmt.Sprintf(`app: %s
name: shop
environment: test
on_first_run: silent
schedule: "@every 1s"
state:
  postgres: %q
  lease: %s
channels:
%s`, app, stateURL, lease, hookChannel("hook", hookURL))
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Two seqwatch on two "servers" share the state in PostgreSQL. One leads
// and sends; the other stands by. kill -9 of the leader in the middle of a
// delivery: the standby takes over within the lease and one tick, sends
// the alert in flight again under the same webhook-id, and every alert
// arrives; nothing else is sent twice.
func TestStandbyTakesOverWhenTheLeaderIsKilledMidDelivery(t *testing.T) {
	t.Parallel()
	srv := dbtest.NewPostgresServer(t)
	for _, route := range []string{"direct", "through PgBouncer in transaction mode"} {
		t.Run(route, func(t *testing.T) {
			db := srv.NewDatabase(t)
			_, stateURL := db.DSN()
			if route != "direct" {
				stateURL = dbtest.StartPgBouncer(t, db)
			}
			standbyTakesOver(t, stateURL)
		})
	}
}

func standbyTakesOver(t *testing.T, stateURL string) {
	now := time.Now().UTC().Truncate(time.Second)
	app, appDB := sqliteApp(t, now)
	hook := newHookReceiver(t, time.Now)
	const lease = 3 * time.Second
	cfgA := sharedConf(t, t.TempDir(), app, stateURL, hook.url(), lease.String())
	cfgB := sharedConf(t, t.TempDir(), app, stateURL, hook.url(), lease.String())

	a := startSeqwatch(t, "run", "--config", cfgA, "--log-level", "debug")
	_, la := a.waitLine(0, "this seqwatch leads now")
	_, la = a.waitLine(la, "first check done")
	b := startSeqwatch(t, "run", "--config", cfgB, "--log-level", "debug")
	_, lb := b.waitLine(0, "standing by")

	// A failure: the leader sends it; the receiver holds the request
	// unanswered, and the leader is killed.
	// The receiver is set to hold the request before the failure is
	// written: the leader ticks every second and could otherwise deliver
	// it before the test is ready to kill it.
	arrived := make(chan int, 1)
	hook.respond(respondAndKill(killBeforeAnswer, arrived))
	insertFailure(t, appDB, "2024_01_15_130000_NotifyUsers", now.Add(-time.Minute), "RuntimeException", "in flight")
	n := a.awaitRequest(arrived)
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	a.wait()
	hook.respond(nil)
	inFlight := hook.requests()[n].ID
	if b.exited() {
		t.Fatalf("the standby exited:\n%s", b.stderr())
	}
	if c := hook.count(); c != n+1 {
		t.Fatalf("%d requests before the takeover, want %d: the standby sent while the leader led", c, n+1)
	}

	_, lb = b.waitLine(lb, "this seqwatch leads now")
	_, lb = b.waitLine(lb, "msg=delivered")
	took := time.Since(killed)
	t.Logf("the standby delivered %s after the kill (lease %s, tick 1s)", took.Round(time.Millisecond), lease)
	if took > lease+2*time.Second+time.Second {
		t.Errorf("the takeover took %s, want within the lease (%s) and a tick", took, lease)
	}
	got := hook.requests()
	if len(got) != n+2 || got[n+1].ID != inFlight || !got[n+1].accepted() {
		t.Fatalf("after the takeover: %d requests, the last %s; want the alert in flight (%s) once more, accepted", len(got), got[len(got)-1].ID, inFlight)
	}

	// The new leader goes on: a new failure is sent once, with its own id.
	insertFailure(t, appDB, "2024_01_15_130000_NotifyUsers", now, "RuntimeException", "after the takeover")
	_, _ = b.waitLine(lb, "msg=delivered")
	got = hook.requests()
	if len(got) != n+3 || got[n+2].ID == inFlight || got[n+2].Payload.Errors[0].Message != "after the takeover" {
		t.Fatalf("the new failure: %d requests, want one more with its own id", len(got))
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(); code != 0 {
		t.Errorf("the new leader exited %d on SIGTERM\n%s", code, b.stderr())
	}
	seen := map[string]int{}
	for _, r := range hook.requests() {
		if r.accepted() {
			seen[r.ID]++
		}
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s accepted %d times", id, c)
		}
	}
}

// A state database newer than this seqwatch stops it with a sentence
// naming both versions; an unreachable one is a clear error for run
// --once, and the daemon retries it.
func TestSharedStateErrorsNameTheProblem(t *testing.T) {
	t.Parallel()
	app, _ := sqliteApp(t, time.Now())
	srv := dbtest.NewPostgresServer(t)
	db := srv.NewDatabase(t)
	_, stateURL := db.DSN()
	hook := newHookReceiver(t, time.Now)
	cfg := sharedConf(t, t.TempDir(), app, stateURL, hook.url(), "3s")
	if r := runSeqwatch(t, "run", "--once", "--config", cfg); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := db.SQL.Exec(`UPDATE seqwatch_schema SET version = version + 100`); err != nil {
		t.Fatal(err)
	}
	r := runSeqwatch(t, "run", "--once", "--config", cfg)
	if r.code != 1 {
		t.Fatalf("newer schema: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "state.postgres: ", "newer than this seqwatch", ": upgrade seqwatch on every server sharing it")

	closed := sharedConf(t, t.TempDir(), app, "postgres://seqwatch:sekret-pw@127.0.0.1:1/state?connect_timeout=2", hook.url(), "3s")
	r = runSeqwatch(t, "run", "--once", "--config", closed)
	if r.code != 1 {
		t.Fatalf("unreachable: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "state.postgres: ", "127.0.0.1:1")
	if strings.Contains(r.stderr, "sekret-pw") {
		t.Errorf("the password leaked: %s", r.stderr)
	}

	// The daemon waits for its state database, saying so, until stopped.
	d := startSeqwatch(t, "run", "--config", closed)
	d.waitLine(0, "cannot reach the state database; retrying")
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(); code != 1 || strings.Contains(d.stderr(), "sekret-pw") {
		t.Errorf("stopped while waiting for the state database: exit %d\n%s", code, d.stderr())
	}
}
