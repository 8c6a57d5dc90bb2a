package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/runner/runnertest"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify/webhook"
	"github.com/seqwatch/seqwatch/state"
)

// hookSecret signs the test webhooks; the receivers verify with it.
const hookSecret = "daemon-test-signing-secret-7f3a9c"

// hookRequest is one request a hookReceiver got.
type hookRequest struct {
	// ID is the webhook-id header (equal to the payload's id).
	ID      string
	Payload webhook.Payload
	Body    []byte
	// Status is what the receiver answered; 0 while the handler runs, or
	// when it never answered (the sender went away first).
	Status int
}

// accepted reports whether the receiver answered 2xx: the delivery counts
// as made from the receiver's side.
func (r hookRequest) accepted() bool { return r.Status >= 200 && r.Status < 300 }

// hookReceiver is a webhook receiver as a real one is written: it reads
// the raw body, verifies the Standard Webhooks signature with
// webhook.Verify, decodes the document and keeps it by webhook-id.
type hookReceiver struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu      sync.Mutex
	idle    *sync.Cond // on mu: broadcast when a handler ends
	running int        // handlers running
	got     []hookRequest
	bad     []string
	resp    func(n int, w http.ResponseWriter, r *http.Request) int
}

// newHookReceiver starts a receiver whose clock (for the timestamp
// tolerance) is now.
func newHookReceiver(t *testing.T, now func() time.Time) *hookReceiver {
	t.Helper()
	h := &hookReceiver{t: t, now: now}
	h.idle = sync.NewCond(&h.mu)
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() {
		h.srv.CloseClientConnections()
		h.srv.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, b := range h.bad {
			t.Errorf("webhook receiver: %s", b)
		}
	})
	return h
}

// url is the receiver's address; the path carries a token, as real
// webhook URLs do.
func (h *hookReceiver) url() string { return h.srv.URL + "/hooks/tok-42" }

// respond sets how the receiver answers the n-th request (counting from
// 0); it returns the status it sent (0: none). nil answers 200.
func (h *hookReceiver) respond(f func(n int, w http.ResponseWriter, r *http.Request) int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.resp = f
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.running++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.running--
		h.idle.Broadcast()
		h.mu.Unlock()
	}()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the sender died mid-request
	}
	fail := func(format string, args ...any) {
		h.mu.Lock()
		h.bad = append(h.bad, fmt.Sprintf(format, args...))
		h.mu.Unlock()
		http.Error(w, "rejected", http.StatusBadRequest)
	}
	if r.URL.Path != "/hooks/tok-42" {
		// Not seqwatch's: loopback ports are shared by every test process
		// of the run, and a scraper or readiness poll of a test that
		// ended can reach a port reused here. seqwatch's requests go to
		// url(), and the tests count what arrived there.
		h.t.Logf("webhook receiver: ignored %s %s from another test", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		fail("got %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		return
	}
	if err := webhook.Verify(hookSecret, r.Header, body, h.now(), 0); err != nil {
		fail("signature: %v", err)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		fail("body is not JSON: %v", err)
		return
	}
	id := r.Header.Get("webhook-id")
	if p.ID != id {
		fail("webhook-id %q but payload id %q", id, p.ID)
		return
	}
	h.mu.Lock()
	n := len(h.got)
	h.got = append(h.got, hookRequest{ID: id, Payload: p, Body: body})
	resp := h.resp
	h.mu.Unlock()
	status := http.StatusOK
	if resp != nil {
		status = resp(n, w, r)
	} else {
		w.WriteHeader(status)
	}
	h.mu.Lock()
	h.got[n].Status = status
	h.mu.Unlock()
}

// requests returns what the receiver got so far, after waiting for the
// handlers that are still running.
func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.running > 0 {
		h.idle.Wait()
	}
	return slices.Clone(h.got)
}

// count is len(requests()) without waiting for running handlers.
func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got)
}

// members are the events a document carries: the events of a batch
// (id dig_...), or the document itself.
func members(p webhook.Payload) []webhook.Payload {
	if strings.HasPrefix(p.ID, "dig_") {
		return p.Events
	}
	return []webhook.Payload{p}
}

func kinds(ps []webhook.Payload) []string {
	var ks []string
	for _, p := range ps {
		ks = append(ks, p.Event)
	}
	slices.Sort(ks)
	return ks
}

// runAt runs seqwatch in-process with the clock stopped at now.
func runAt(t *testing.T, now time.Time, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	e := env{stdout: &out, stderr: &errOut, now: func() time.Time { return now },
		getenv: func(string) string { return "" }, sleep: noSleep}
	code := runMain(context.Background(), args, e)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// daemonConf is the part of seqwatch.yaml the tests vary.
type daemonConf struct {
	app, dbURL, statePath string
	firstRun              string // digest (default) or silent
	maxPending            int
	stuckAfter            string
	unreachableAfter      int
	schedule              string
	tickTimeout           string
	channels              []string // YAML list items, from hookChannel etc.
}

func (c daemonConf) yaml() string {
	var b strings.Builder
	if c.app != "" {
		fmt.Fprintf(&b, "app: %s\n", c.app)
	}
	if c.dbURL != "" {
		fmt.Fprintf(&b, "database:\n  url: %q\n", c.dbURL)
	}
	b.WriteString("name: shop\nenvironment: test\n")
	if c.firstRun != "" {
		fmt.Fprintf(&b, "on_first_run: %s\n", c.firstRun)
	}
	if c.schedule != "" {
		fmt.Fprintf(&b, "schedule: %q\n", c.schedule)
	}
	if c.tickTimeout != "" {
		fmt.Fprintf(&b, "tick_timeout: %s\n", c.tickTimeout)
	}
	b.WriteString("thresholds:\n")
	fmt.Fprintf(&b, "  max_pending: %d\n", c.maxPending)
	if c.stuckAfter != "" {
		fmt.Fprintf(&b, "  stuck_after: %s\n", c.stuckAfter)
	}
	if c.unreachableAfter > 0 {
		fmt.Fprintf(&b, "  unreachable_after: %d\n", c.unreachableAfter)
	}
	fmt.Fprintf(&b, "state:\n  path: %s\nchannels:\n", c.statePath)
	for _, ch := range c.channels {
		b.WriteString(ch)
	}
	return b.String()
}

// write puts the configuration in dir and returns its path.
func (c daemonConf) write(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "seqwatch.yaml")
	if err := os.WriteFile(p, []byte(c.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func hookChannel(name, url string) string {
	return fmt.Sprintf("  - name: %s\n    webhook:\n      url: %q\n      allow_http: true\n      secrets: [%q]\n", name, url, hookSecret)
}

const consoleChannel = "  - name: console\n    console: {}\n"

// sqliteApp writes the demo application as of now and returns its
// directory and an open pool on its database.
func sqliteApp(t *testing.T, now time.Time) (string, *sql.DB) { return runnertest.SQLiteApp(t, now) }

// insertFailure records a failed run of name that started at, with one
// error row, as Sequencer does, and returns the row's id.
func insertFailure(t *testing.T, db *sql.DB, name string, at time.Time, exception, message string) int64 {
	return runnertest.InsertFailure(t, db, name, at, exception, message)
}

func insertCompleted(t *testing.T, db *sql.DB, name string, at time.Time) {
	t.Helper()
	ts := at.UTC().Format(time.DateTime)
	done := at.Add(2 * time.Second).UTC().Format(time.DateTime)
	if _, err := db.Exec(`insert into operations (name, type, state, executed_at, completed_at, created_at, updated_at)
		values (?, 'sync', 'completed', ?, ?, ?, ?)`, name, ts, done, ts, done); err != nil {
		t.Fatal(err)
	}
}

// readState reads a state file the way a person debugging it would.
func readState(t *testing.T, path string) state.State {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st state.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("state file %s: %v", path, err)
	}
	return st
}

func outboxIDs(st state.State) []string {
	var ids []string
	for _, d := range st.Outbox {
		ids = append(ids, d.Event.ID)
	}
	return ids
}

// slackReceiver is an incoming-webhook endpoint as Slack runs it: JSON
// with text or blocks, answered with "ok".
type slackReceiver struct {
	mu   sync.Mutex
	msgs []map[string]any
	bad  []string
	srv  *httptest.Server
}

func newSlackReceiver(t *testing.T) *slackReceiver {
	s := &slackReceiver{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		var msg map[string]any
		err := json.NewDecoder(r.Body).Decode(&msg)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/services/T0/B0/slk-token":
			s.bad = append(s.bad, fmt.Sprintf("%s %s", r.Method, r.URL.Path))
			http.Error(w, "no_service", http.StatusNotFound)
		case err != nil || (msg["text"] == nil && msg["blocks"] == nil):
			s.bad = append(s.bad, fmt.Sprintf("bad message (%v): %v", err, msg))
			http.Error(w, "no_text", http.StatusBadRequest)
		default:
			s.msgs = append(s.msgs, msg)
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(func() {
		s.srv.Close()
		for _, b := range s.bad {
			t.Errorf("slack receiver: %s", b)
		}
	})
	return s
}

func (s *slackReceiver) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

func slackChannel(url string) string {
	return fmt.Sprintf("  - name: slack\n    slack:\n      webhook_url: %q\n", url)
}

// A restart never repeats an alert and never forgets one: the first run
// reports the history once, the second nothing, then exactly each new
// failure and recovery.
func TestRunOnceReportsEachChangeExactlyOnce(t *testing.T) {
	t.Parallel()
	now := demoNow
	app, db := sqliteApp(t, now)
	hook := newHookReceiver(t, func() time.Time { return now })
	slack := newSlackReceiver(t)
	dir := t.TempDir()
	cfg := daemonConf{
		app: app, statePath: filepath.Join(dir, "state", "state.json"),
		firstRun: "digest", maxPending: 3, stuckAfter: "30m",
		channels: []string{hookChannel("hook", hook.url()), slackChannel(slack.srv.URL + "/services/T0/B0/slk-token"), consoleChannel},
	}.write(t, dir)
	run := func(step string) result {
		t.Helper()
		r := runAt(t, now, "run", "--once", "--config", cfg)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", step, r.code, r.stderr)
		}
		return r
	}

	// First run: the past as one digest, plus the live problems.
	r := run("first run")
	got := hook.requests()
	if len(got) != 1 {
		t.Fatalf("first run: %d webhook requests, want 1 document", len(got))
	}
	evs := members(got[0].Payload)
	if want := []string{"digest", "operation.stuck", "pending.threshold"}; !slices.Equal(kinds(evs), want) {
		t.Fatalf("first run sent %v, want %v", kinds(evs), want)
	}
	for _, ev := range evs {
		switch ev.Event {
		case "digest":
			if want := []string{"deferred.failed", "operation.failed", "operation.failed"}; !slices.Equal(kinds(ev.Events), want) {
				t.Errorf("digest items %v, want %v", kinds(ev.Events), want)
			}
		case "operation.stuck":
			if ev.Operation == nil || ev.Operation.Name != "2024_01_14_120000_ImportLegacyOrders" {
				t.Errorf("stuck event about %+v, want ImportLegacyOrders", ev.Operation)
			}
		case "pending.threshold":
			if ev.Pending == nil || ev.Pending.Count != 5 || ev.Pending.Threshold != 3 {
				t.Errorf("pending %+v, want 5 over 3", ev.Pending)
			}
		}
	}
	if slack.count() != 1 {
		t.Errorf("first run: %d Slack messages, want 1", slack.count())
	}
	mustContain(t, "console output", r.stdout, "past failures found on the first check of shop", "ImportLegacyOrders has been running for")

	// A restart with nothing new sends nothing.
	r = run("second run")
	if n := len(hook.requests()); n != 1 {
		t.Errorf("second run sent %d more webhook requests, want none", n-1)
	}
	if slack.count() != 1 || r.stdout != "" {
		t.Errorf("second run: %d Slack messages (want 1 in all), console %q", slack.count(), r.stdout)
	}

	// A retry that failed again: exactly one operation.failed with its error.
	insertFailure(t, db, "2024_01_13_120000_FailedOperation", now.Add(-10*time.Minute), `App\Exceptions\LedgerMismatch`, "ledger 42 is off by 0.01")
	run("after a new failure")
	got = hook.requests()
	if len(got) != 2 {
		t.Fatalf("after a new failure: %d requests in all, want 2", len(got))
	}
	failed := got[1].Payload
	if failed.Event != "operation.failed" || !strings.HasPrefix(failed.ID, "evt_") {
		t.Fatalf("sent %s (%s), want one operation.failed", failed.Event, failed.ID)
	}
	if failed.Operation == nil || failed.Operation.Name != "2024_01_13_120000_FailedOperation" ||
		len(failed.Errors) != 1 || failed.Errors[0].Exception != `App\Exceptions\LedgerMismatch` ||
		failed.Errors[0].Message != "ledger 42 is off by 0.01" || failed.Errors[0].Trace != "#0 {main}" {
		t.Errorf("operation.failed lacks the details: operation %+v errors %+v", failed.Operation, failed.Errors)
	}
	run("again")
	if n := len(hook.requests()); n != 2 {
		t.Errorf("the new failure was sent again (%d requests)", n)
	}

	// A later run completed: every open failure of the operation recovers.
	insertCompleted(t, db, "2024_01_13_120000_FailedOperation", now.Add(-5*time.Minute))
	run("after a completed run")
	got = hook.requests()
	if len(got) != 3 {
		t.Fatalf("after a completed run: %d requests in all, want 3", len(got))
	}
	rec := members(got[2].Payload)
	var keys []string
	for _, ev := range rec {
		if ev.Event != "operation.recovered" {
			t.Errorf("sent %s with the recovery", ev.Event)
		}
		keys = append(keys, ev.Key)
	}
	if len(rec) != 3 || !slices.Contains(keys, failed.Key) {
		t.Errorf("recovered %v, want the 3 open failures including %s", keys, failed.Key)
	}
	run("last run")
	if n := len(hook.requests()); n != 3 {
		t.Errorf("the recovery was sent again (%d requests)", n)
	}
	if n := slack.count(); n != 3 {
		t.Errorf("%d Slack messages, want 3 (history, failure, recovery)", n)
	}
}

// An alert for a channel that is down stays in the outbox, exits 1 on each
// --once, and goes out exactly once when the channel is back, under the
// same webhook-id as every failed attempt.
func TestRunOnceRetriesADownChannelUntilItIsBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		down func(w http.ResponseWriter) int
	}{
		{"500", func(w http.ResponseWriter) int {
			http.Error(w, "upstream broken", http.StatusInternalServerError)
			return http.StatusInternalServerError
		}},
		{"503 with Retry-After", func(w http.ResponseWriter) int {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return http.StatusServiceUnavailable
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := testkit.NewClock(demoNow)
			app, db := sqliteApp(t, clock.Now())
			hook := newHookReceiver(t, clock.Now)
			dir := t.TempDir()
			statePath := filepath.Join(dir, "state.json")
			cfg := daemonConf{app: app, statePath: statePath, firstRun: "silent", channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
			run := func() result { return runAt(t, clock.Now(), "run", "--once", "--config", cfg) }
			if r := run(); r.code != 0 || hook.count() != 0 {
				t.Fatalf("silent first run: exit %d, %d requests\n%s", r.code, hook.count(), r.stderr)
			}

			insertFailure(t, db, "2024_01_15_130000_NotifyUsers", clock.Now().Add(-time.Minute), "RuntimeException", "mailer down")
			var down atomic.Bool
			down.Store(true)
			hook.respond(func(_ int, w http.ResponseWriter, _ *http.Request) int {
				if down.Load() {
					return tc.down(w)
				}
				w.WriteHeader(http.StatusOK)
				return http.StatusOK
			})
			var eventID string
			for tick := 1; tick <= 3; tick++ {
				clock.Add(2 * time.Minute) // past any Retry-After
				before := hook.count()
				r := run()
				if r.code != 1 {
					t.Fatalf("tick %d with the channel down: exit %d, want 1\n%s", tick, r.code, r.stderr)
				}
				mustContain(t, "stderr", r.stderr, "not delivered", "stay in the outbox")
				if hook.count() == before {
					t.Fatalf("tick %d made no attempt", tick)
				}
				ids := outboxIDs(readState(t, statePath))
				if len(ids) != 1 {
					t.Fatalf("tick %d: outbox %v, want the one alert", tick, ids)
				}
				if eventID == "" {
					eventID = ids[0]
				} else if ids[0] != eventID {
					t.Fatalf("tick %d: outbox holds %s, was %s", tick, ids[0], eventID)
				}
			}
			down.Store(false)
			clock.Add(2 * time.Minute)
			if r := run(); r.code != 0 {
				t.Fatalf("channel back: exit %d\n%s", r.code, r.stderr)
			}
			clock.Add(2 * time.Minute)
			if r := run(); r.code != 0 {
				t.Fatalf("after delivery: exit %d\n%s", r.code, r.stderr)
			}
			accepted := 0
			for i, req := range hook.requests() {
				if req.ID != eventID || req.Payload.Event != "operation.failed" {
					t.Errorf("request %d: %s %s, want operation.failed %s", i, req.ID, req.Payload.Event, eventID)
				}
				if req.accepted() {
					accepted++
				}
			}
			if accepted != 1 {
				t.Errorf("delivered %d times, want exactly once", accepted)
			}
			if ids := outboxIDs(readState(t, statePath)); len(ids) != 0 {
				t.Errorf("outbox still holds %v", ids)
			}
		})
	}
}

// A state file that cannot be read stops the daemon before it sends
// anything: starting over would report everything again.
func TestRunRefusesAnUnreadableStateFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		corrupt func(valid []byte) []byte
		wants   []string
	}{
		{"truncated", func(v []byte) []byte { return v[:len(v)/2] }, []string{"is corrupt", "restore it from backup, or move it away"}},
		{"empty", func([]byte) []byte { return nil }, []string{"is corrupt (the file is empty)", "move it away"}},
		{"not JSON", func([]byte) []byte { return []byte("\x00\x00\x00garbage") }, []string{"is corrupt", "move it away"}},
		{"no version", func([]byte) []byte { return []byte(`{"initialized": true}`) }, []string{"is corrupt", "move it away"}},
		{"newer version", func([]byte) []byte { return []byte(`{"version": 99}`) }, []string{"written by a newer seqwatch (version 99)", "upgrade seqwatch or move the file away"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := demoNow
			app, db := sqliteApp(t, now)
			hook := newHookReceiver(t, func() time.Time { return now })
			dir := t.TempDir()
			statePath := filepath.Join(dir, "state.json")
			cfg := daemonConf{app: app, statePath: statePath, channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
			if r := runAt(t, now, "run", "--once", "--config", cfg); r.code != 0 {
				t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
			}
			valid, err := os.ReadFile(statePath)
			if err != nil {
				t.Fatal(err)
			}
			bad := tc.corrupt(valid)
			if err := os.WriteFile(statePath, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			sent := hook.count()
			insertFailure(t, db, "2024_01_15_130000_NotifyUsers", now.Add(-time.Minute), "RuntimeException", "boom")

			r := runAt(t, now, "run", "--once", "--config", cfg)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			mustContain(t, "stderr", r.stderr, append([]string{"state file " + statePath}, tc.wants...)...)
			if n := hook.count() - sent; n != 0 {
				t.Errorf("sent %d requests with an unreadable state", n)
			}
			if after, _ := os.ReadFile(statePath); !bytes.Equal(after, bad) {
				t.Error("the unreadable state file was overwritten")
			}
		})
	}
}

// Initialised quietly, then a thousand failures at once: one request
// carrying all of them, not a thousand requests.
func TestRunSendsAThousandFailuresAsOneDocument(t *testing.T) {
	t.Parallel()
	now := demoNow
	app, db := sqliteApp(t, now)
	hook := newHookReceiver(t, func() time.Time { return now })
	dir := t.TempDir()
	cfg := daemonConf{app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "silent", channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
	if r := runAt(t, now, "run", "--once", "--config", cfg); r.code != 0 || hook.count() != 0 {
		t.Fatalf("silent first run: exit %d, %d requests\n%s", r.code, hook.count(), r.stderr)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		at := now.Add(-time.Hour + time.Duration(i)*time.Second).Format(time.DateTime)
		res, err := tx.Exec(`insert into operations (name, type, state, executed_at, failed_at, created_at, updated_at) values (?, 'sync', 'failed', ?, ?, ?, ?)`,
			fmt.Sprintf("2025_01_01_%06d_Bulk%d", i, i), at, at, at, at)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		if _, err := tx.Exec(`insert into operation_errors (operation_id, exception, message, trace, created_at, updated_at) values (?, 'RuntimeException', ?, '#0 {main}', ?, ?)`,
			id, fmt.Sprintf("row %d failed", i), at, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if r := runAt(t, now, "run", "--once", "--config", cfg); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got := hook.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	evs := members(got[0].Payload)
	keys := map[string]bool{}
	for _, ev := range evs {
		if ev.Event != "operation.failed" {
			t.Errorf("carried a %s", ev.Event)
		}
		keys[ev.Key] = true
	}
	if len(evs) != 1000 || len(keys) != 1000 {
		t.Errorf("one document with %d events (%d distinct), want 1000", len(evs), len(keys))
	}
	if r := runAt(t, now, "run", "--once", "--config", cfg); r.code != 0 || hook.count() != 1 {
		t.Errorf("next run: exit %d, %d requests in all, want 1", r.code, hook.count())
	}
}

// The daemon keeps its connection between ticks: a database that goes
// away is reported once after unreachable_after failed ticks, and once
// it is back the recovery and what happened meanwhile go out once each.
func TestDaemonSurvivesTheDatabaseStoppingAndStarting(t *testing.T) {
	t.Parallel()
	srv := dbtest.NewPostgresServer(t)
	db := srv.NewDatabase(t)
	dbtest.CreateSchema(t, db, dbtest.Schema{})
	app := t.TempDir()
	dbtest.WriteApp(t, app, db, dbtest.AppFiles{Operations: []string{"2024_01_15_130000_NotifyUsers"}})
	db.InsertOps(t, dbtest.Schema{}, dbtest.Op{Name: "2024_01_15_130000_NotifyUsers", ExecutedAt: "2024-01-15 13:00:00", CompletedAt: "2024-01-15 13:00:05"})

	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	cfgPath := daemonConf{app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "silent", unreachableAfter: 2,
		channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
	var logs bytes.Buffer
	e := env{stdout: io.Discard, stderr: &logs, now: time.Now, getenv: func(string) string { return "" }}
	d, _ := runnertest.App(t, cfgPath, appDeps(e, runnertest.Logger(&logs)))
	ctx := context.Background()

	if err := d.Tick(ctx); err != nil || hook.count() != 0 {
		t.Fatalf("tick with the database up: %v, %d requests\n%s", err, hook.count(), logs.String())
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if err := d.Tick(ctx); err == nil {
			t.Fatalf("tick %d with the database stopped succeeded", i)
		}
	}
	got := hook.requests()
	if len(got) != 1 || got[0].Payload.Event != "source.unreachable" {
		t.Fatalf("after two failed ticks: %d requests (%v), want one source.unreachable", len(got), got)
	}
	if src := got[0].Payload.Source; src == nil || *src == "" || strings.Contains(*src, db.Password) {
		t.Errorf("source.unreachable carries source %v: want the error, without the password", src)
	}
	if err := d.Tick(ctx); err == nil || hook.count() != 1 {
		t.Fatalf("a third failed tick: %v, %d requests in all, want no new alert", err, hook.count())
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	// The test's own pool died with the server; open a fresh one.
	_, dsn := db.DSN()
	fresh, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := fresh.Exec(`insert into operations (name, type, state, executed_at, failed_at, created_at, updated_at)
		values ('2024_01_15_130000_NotifyUsers', 'sync', 'failed', '2024-02-01 10:00:00', '2024-02-01 10:00:03', '2024-02-01 10:00:00', '2024-02-01 10:00:03')`); err != nil {
		t.Fatal(err)
	}
	if err := d.Tick(ctx); err != nil {
		t.Fatalf("tick with the database back: %v\n%s", err, logs.String())
	}
	if err := d.Tick(ctx); err != nil {
		t.Fatalf("next tick: %v", err)
	}
	got = hook.requests()
	var after []webhook.Payload
	for _, r := range got[1:] {
		after = append(after, members(r.Payload)...)
	}
	if want := []string{"operation.failed", "source.recovered"}; !slices.Equal(kinds(after), want) {
		t.Errorf("after the database came back: sent %v, want %v once each", kinds(after), want)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string { return testkit.FreeAddr(t) }

// Secrets from the configuration never reach the logs or error messages,
// whatever goes wrong.
func TestRunNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	const (
		sigSecret  = "sigSECRETaaaa1111"
		urlToken   = "tokSECRETbbbb2222"
		smtpPass   = "smtpSECRETcccc3333"
		dbPass     = "dbSECRETdddd4444"
		slackToken = "slkSECRETeeee5555"
	)
	secrets := []string{sigSecret, urlToken, smtpPass, dbPass, slackToken}
	app, _ := sqliteApp(t, demoNow)
	srv := dbtest.NewPostgresServer(t)
	pg := srv.NewDatabase(t)
	dbtest.CreateSchema(t, pg, dbtest.Schema{})
	wrongPassword := fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", pg.Username, dbPass, pg.Host, pg.Port, pg.Database)

	// A receiver that fails and echoes what it was sent, as some do. What
	// it receives must not carry a secret either.
	var echoMu sync.Mutex
	var echoed []string
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		echoMu.Lock()
		echoed = append(echoed, string(body))
		echoMu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "cannot forward POST %s signature=%s", r.URL.String(), r.Header.Get("webhook-signature"))
	}))
	// Cleanup, not defer: the parallel subtests run after this function
	// returns.
	t.Cleanup(func() {
		echo.Close()
		if len(echoed) == 0 {
			t.Error("the echoing receiver got no request")
		}
		for _, body := range echoed {
			for _, s := range secrets {
				if strings.Contains(body, s) {
					t.Errorf("an alert carried the secret %q: %s", s, body)
				}
			}
		}
	})
	down := "http://" + freeAddr(t)

	hook := func(base string) string {
		return fmt.Sprintf("  - name: hook\n    webhook:\n      url: %q\n      allow_http: true\n      secrets: [%q]\n", base+"/hooks/"+urlToken, sigSecret)
	}
	mail := fmt.Sprintf("  - name: mail\n    email:\n      host: 127.0.0.1\n      port: %s\n      tls: none\n      username: alerts\n      password: %q\n      from: alerts@example.com\n      to: [ops@example.com]\n",
		strings.Split(freeAddr(t), ":")[1], smtpPass)
	slack := fmt.Sprintf("  - name: slack\n    slack:\n      webhook_url: %q\n", down+"/services/T0/B0/"+slackToken)
	// Applications whose .env is not NAME=value lines before, or around,
	// the password: the .env reader's errors quoted the rest of the file.
	garbled := func(env string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	garbage := garbled("APP_NAME=shop\nthis is garbage\nDB_CONNECTION=pgsql\nDB_PASSWORD=" + dbPass + "\n")
	unquoted := garbled("DB_CONNECTION=pgsql\nDB_PASSWORD=\"" + dbPass + "\nAPP_NAME=shop\n")
	envConf := func(app string) string {
		return fmt.Sprintf("app: %s\nstate:\n  path: STATE\nchannels:\n%s", app, hook(down))
	}

	for _, tc := range []struct {
		name string
		conf string
		args []string
	}{
		{"channels down", fmt.Sprintf("app: %s\nstate:\n  path: STATE\nchannels:\n%s%s%s", app, hook(down), mail, slack), nil},
		{"receiver echoes the request", fmt.Sprintf("app: %s\nstate:\n  path: STATE\nchannels:\n%s", app, hook(echo.URL)), nil},
		{"wrong database password", fmt.Sprintf("database:\n  url: %q\nthresholds:\n  unreachable_after: 1\nstate:\n  path: STATE\nchannels:\n%s", wrongPassword, hook(echo.URL)), nil},
		{"database not listening", fmt.Sprintf("database:\n  url: %q\nthresholds:\n  unreachable_after: 1\nstate:\n  path: STATE\nchannels:\n%s%s",
			"postgres://seqwatch:"+dbPass+"@"+freeAddr(t)+"/app", hook(down), mail), nil},
		{"invalid configuration", fmt.Sprintf("app: %s\nschedule: every minute\nthresholds:\n  max_pending: -1\nstate:\n  path: STATE\nchannels:\n%s%s  - name: hook\n    console: {}\n", app, hook(down), mail), nil},
		{"invalid configuration, validate", fmt.Sprintf("app: %s\nschedule: every minute\nstate:\n  path: STATE\nchannels:\n%s%s", app, hook(down), mail), []string{"validate"}},
		{"secret where a list belongs", fmt.Sprintf("app: %s\nstate:\n  path: STATE\nchannels:\n  - name: hook\n    webhook:\n      url: %q\n      secrets: %s\n", app, down+"/hooks/"+urlToken, sigSecret), nil},
		{"bad channel configuration", fmt.Sprintf("database:\n  url: %q\nstate:\n  path: STATE\nchannels:\n  - name: hook\n    webhook:\n      url: %q\n      secrets: [%q]\n  - name: slack\n    slack:\n      webhook_url: %q\n  - name: mail\n    email:\n      host: smtp.example.com\n      tls: none\n      username: alerts\n      password: %q\n      from: alerts@example.com\n      to: [ops@example.com]\n",
			wrongPassword, "http://hooks.example.com/hooks/"+urlToken, sigSecret, "http://hooks.slack.com/services/T0/B0/"+slackToken, smtpPass), nil},
		{".env with a line of text", envConf(garbage), nil},
		{".env with a line of text, validate", envConf(garbage), []string{"validate"}},
		{".env with a line of text, check", envConf(garbage), []string{"check"}},
		{".env with a line of text, check --json", envConf(garbage), []string{"check", "--json"}},
		{".env with a line of text, status", envConf(garbage), []string{"status"}},
		{".env with an unterminated quote", envConf(unquoted), nil},
		{".env with an unterminated quote, check", envConf(unquoted), []string{"check"}},
		{".env with an unterminated quote, status --json", envConf(unquoted), []string{"status", "--json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := filepath.Join(dir, "seqwatch.yaml")
			conf := strings.Replace(tc.conf, "STATE", filepath.Join(dir, "state.json"), 1)
			if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"run", "--once", "--log-format", "json", "--config", cfg}
			if tc.args != nil {
				args = append(tc.args, "--config", cfg)
			}
			r := runAt(t, demoNow, args...)
			if r.code == 0 {
				t.Errorf("exit 0, want a failure\n%s", r.stderr)
			}
			out := r.stdout + r.stderr
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("output contains the secret %q:\n%s", s, out)
				}
			}
			reported := r.stderr
			if tc.args != nil && tc.args[0] == "check" {
				reported = r.stdout // check says everything on standard output
			}
			if strings.TrimSpace(reported) == "" {
				t.Error("nothing said: the failure was not reported")
			}
		})
	}
}

// answer returns a receiver response that always answers status.
func answer(status int) func(int, http.ResponseWriter, *http.Request) int {
	return func(_ int, w http.ResponseWriter, _ *http.Request) int {
		http.Error(w, http.StatusText(status), status)
		return status
	}
}

// onceSetup is a sample application with a webhook channel, past its
// silent first run, ready for a new failure.
type onceSetup struct {
	clock     *testkit.Clock
	db        *sql.DB
	hook      *hookReceiver
	dir, cfg  string
	statePath string
	conf      daemonConf
	failures  int
}

func newOnceSetup(t *testing.T) *onceSetup {
	t.Helper()
	s := &onceSetup{clock: testkit.NewClock(demoNow)}
	var app string
	app, s.db = sqliteApp(t, s.clock.Now())
	s.hook = newHookReceiver(t, s.clock.Now)
	s.dir = t.TempDir()
	s.statePath = filepath.Join(s.dir, "state.json")
	s.conf = daemonConf{app: app, statePath: s.statePath, firstRun: "silent", channels: []string{hookChannel("hook", s.hook.url())}}
	s.cfg = s.conf.write(t, s.dir)
	if r := s.run(t); r.code != 0 || s.hook.count() != 0 {
		t.Fatalf("silent first run: exit %d, %d requests\n%s", r.code, s.hook.count(), r.stderr)
	}
	return s
}

func (s *onceSetup) run(t *testing.T, args ...string) result {
	t.Helper()
	if len(args) == 0 {
		args = []string{"run", "--once"}
	}
	return runAt(t, s.clock.Now(), append(args, "--config", s.cfg)...)
}

func (s *onceSetup) fail(t *testing.T, message string) {
	t.Helper()
	s.failures++
	insertFailure(t, s.db, "2024_01_15_130000_NotifyUsers", s.clock.Now().Add(-time.Duration(s.failures)*time.Minute), "RuntimeException", message)
}

// run --once exits non-zero whenever an alert is left: waiting in the
// outbox, or refused for good and in the dead letters, until it is
// delivered or dropped. Timers and cron must not report success while an
// alert sits in the state file.
func TestRunOnceExitStatusSaysWhetherAlertsAreLeft(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		wants  []string
	}{
		{"accepted", http.StatusOK, nil},
		{"server error", http.StatusInternalServerError, []string{"not delivered yet", "stay in the outbox"}},
		{"refused (404)", http.StatusNotFound, []string{"refused for good", "dead letters", "seqwatch outbox list --config"}},
		{"gone (410)", http.StatusGone, []string{"refused for good", "dead letters"}},
		{"bad request (400)", http.StatusBadRequest, []string{"dead letters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newOnceSetup(t)
			s.hook.respond(answer(tc.status))
			s.fail(t, "boom")
			r := s.run(t)
			if wantCode := map[bool]int{true: 0, false: 1}[tc.wants == nil]; r.code != wantCode {
				t.Fatalf("exit %d, want %d\n%s", r.code, wantCode, r.stderr)
			}
			mustContain(t, "stderr", r.stderr, tc.wants...)
			if tc.wants == nil {
				return
			}
			// Nothing new, the alert still left: still not a success.
			s.clock.Add(time.Hour)
			if r := s.run(t); r.code != 1 {
				t.Fatalf("the next run: exit %d, want 1 while the alert is left\n%s", r.code, r.stderr)
			}
			if r := s.run(t, "outbox", "drop", "all"); r.code != 0 {
				t.Fatalf("outbox drop all: exit %d\n%s", r.code, r.stderr)
			}
			if r := s.run(t); r.code != 0 {
				t.Fatalf("after dropping it: exit %d, want 0\n%s", r.code, r.stderr)
			}
		})
	}
}

// A 410 Gone disables the channel in the state, across runs, until the
// channel's configuration changes; an alert that arrives meanwhile is
// dead-lettered with its own reason, not the 410 of another alert.
func TestGoneChannelStaysDisabledUntilItsConfigurationChanges(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	s.hook.respond(answer(http.StatusGone))
	s.fail(t, "first")
	if r := s.run(t); r.code != 1 {
		t.Fatalf("run 1: exit %d\n%s", r.code, r.stderr)
	}
	st := readState(t, s.statePath)
	if len(st.Dead) != 1 || !strings.Contains(st.Dead[0].LastError, "410") {
		t.Fatalf("after the 410: dead letters %+v, want the alert with the 410", st.Dead)
	}
	first := st.Dead[0].Event.ID
	if _, ok := st.Disabled["hook"]; !ok {
		t.Fatal("the 410 was not recorded in the state")
	}

	s.fail(t, "second")
	for run := 2; run <= 3; run++ {
		s.clock.Add(time.Hour)
		if r := s.run(t); r.code != 1 {
			t.Fatalf("run %d: exit %d\n%s", run, r.code, r.stderr)
		}
	}
	if n := s.hook.count(); n != 1 {
		t.Fatalf("three runs sent %d requests to the endpoint that answered 410, want 1", n)
	}
	st = readState(t, s.statePath)
	if len(st.Dead) != 2 {
		t.Fatalf("dead letters %d, want 2", len(st.Dead))
	}
	second := st.Dead[1]
	if strings.Contains(second.LastError, first) || !strings.Contains(second.LastError, `channel "hook" is disabled`) ||
		!strings.Contains(second.LastError, "change the channel's configuration") {
		t.Errorf("the second alert's reason is %q: want its own (the channel is disabled), not the first alert's error", second.LastError)
	}

	// The operator points the channel somewhere that works: a changed
	// configuration enables it again.
	s.hook.respond(nil)
	s.conf.channels = []string{hookChannel("hook", s.hook.url()+"?v=2")}
	s.conf.write(t, s.dir)
	if r := s.run(t, "outbox", "retry", "all"); r.code != 0 {
		t.Fatalf("outbox retry all: exit %d\n%s", r.code, r.stderr)
	}
	if r := s.run(t); r.code != 0 {
		t.Fatalf("after the configuration changed: exit %d\n%s", r.code, r.stderr)
	}
	// The first alert was attempted, so it keeps its id and goes alone.
	got := s.hook.requests()
	if len(got) != 3 || !got[1].accepted() || !got[2].accepted() || got[1].ID != first || got[2].ID != second.Event.ID {
		t.Fatalf("after the change: %d requests, want two more: %s again and then %s", len(got), first, second.Event.ID)
	}
	if st := readState(t, s.statePath); len(st.Disabled) != 0 || len(st.Dead) != 0 || len(st.Outbox) != 0 {
		t.Errorf("state after delivery: disabled %v, dead %d, outbox %d", st.Disabled, len(st.Dead), len(st.Outbox))
	}
}

// A channel that is down gets attempts with a backoff across runs: 10s
// after the first failed round, doubling; a run before then makes no
// request.
func TestOutboxBacksOffAcrossTicks(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	s.hook.respond(answer(http.StatusServiceUnavailable))
	s.fail(t, "boom")
	t0 := s.clock.Now()
	steps := []struct {
		at       time.Duration
		attempts bool
	}{
		{0, true},                 // 1st round fails: next after 10s
		{5 * time.Second, false},  // too early
		{10 * time.Second, true},  // 2nd round: next after 20s more
		{25 * time.Second, false}, // too early
		{30 * time.Second, true},  // 3rd round: next after 40s more
		{69 * time.Second, false},
		{70 * time.Second, true},
	}
	for _, step := range steps {
		s.clock.Set(t0.Add(step.at))
		before := s.hook.count()
		if r := s.run(t); r.code != 1 {
			t.Fatalf("at +%s: exit %d, want 1\n%s", step.at, r.code, r.stderr)
		}
		if made := s.hook.count() > before; made != step.attempts {
			t.Fatalf("at +%s: attempts made = %v, want %v", step.at, made, step.attempts)
		}
	}
	st := readState(t, s.statePath)
	if d := st.Outbox[0]; d.Attempts != 4 || !d.NextAttempt.Equal(t0.Add(70*time.Second+80*time.Second)) {
		t.Errorf("after 4 rounds: attempts %d, next %s; want 4 and +150s", d.Attempts, d.NextAttempt.Sub(t0))
	}
}

// A receiver that is down for 30 minutes costs a round at most every two
// minutes once the backoff has grown, each of at most 3 requests, however
// many alerts wait for it (about 30 rounds an hour); once it is back,
// everything that waited is delivered in one run, within two minutes.
func TestAThirtyMinuteOutageCostsFewRoundsAndEndsWithinTwoMinutes(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	var down atomic.Bool
	down.Store(true)
	s.hook.respond(func(_ int, w http.ResponseWriter, _ *http.Request) int {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return http.StatusServiceUnavailable
		}
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	})
	t0 := s.clock.Now()
	const outage = 30 * time.Minute
	newFailure := map[time.Duration]string{0: "first", 7 * time.Minute: "second", 19 * time.Minute: "third"}
	rounds, delivered := 0, time.Duration(-1)
	// One run --once a minute, as the daemon's default schedule ticks.
	for at := time.Duration(0); at <= outage+5*time.Minute && delivered < 0; at += time.Minute {
		s.clock.Set(t0.Add(at))
		down.Store(at < outage)
		if msg, ok := newFailure[at]; ok {
			s.fail(t, msg)
		}
		before := s.hook.count()
		r := s.run(t)
		made := s.hook.count() - before
		if made > 3 {
			t.Fatalf("at +%s: %d requests in one run, want at most 3", at, made)
		}
		if made > 0 && at < outage {
			rounds++
		}
		if r.code == 0 {
			delivered = at
		}
	}
	t.Logf("%d rounds in the %s outage; delivered at +%s", rounds, outage, delivered)
	// 10s, 20s, 40s and 80s, then every 2 minutes: 4 + 13 rounds.
	if rounds > 17 {
		t.Errorf("%d rounds in a %s outage, want at most 17 (about 30 an hour)", rounds, outage)
	}
	if delivered < 0 || delivered > outage+2*time.Minute {
		t.Fatalf("delivered at +%s, want within 2 minutes of the receiver's return at +%s", delivered, outage)
	}
	var got []string
	for _, req := range s.hook.requests() {
		if req.accepted() {
			for _, m := range members(req.Payload) {
				got = append(got, m.Errors[0].Message)
			}
		}
	}
	slices.Sort(got)
	if want := []string{"first", "second", "third"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want each failure once: %v", got, want)
	}
	if st := readState(t, s.statePath); len(st.Outbox) != 0 || len(st.Dead) != 0 {
		t.Errorf("after the run that delivered: outbox %d, dead %d", len(st.Outbox), len(st.Dead))
	}
}

// Alerts attempted together keep their delivery id: a new failure that
// arrives while they wait goes out on its own, and the retried digest has
// the same webhook-id as every earlier attempt.
func TestRetriedAlertsKeepTheirIDWhenANewOneArrives(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	s.hook.respond(answer(http.StatusInternalServerError))
	s.fail(t, "one")
	s.fail(t, "two")
	if r := s.run(t); r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	tried := s.hook.requests()
	digest := tried[0].ID
	if !strings.HasPrefix(digest, "dig_") || len(members(tried[0].Payload)) != 2 {
		t.Fatalf("first attempt %s with %d events, want a digest of the two failures", digest, len(members(tried[0].Payload)))
	}
	s.fail(t, "three")
	s.hook.respond(nil)
	s.clock.Add(time.Minute)
	if r := s.run(t); r.code != 0 {
		t.Fatalf("retry: exit %d\n%s", r.code, r.stderr)
	}
	got := s.hook.requests()[len(tried):]
	if len(got) != 2 {
		t.Fatalf("%d requests on retry, want the frozen digest and the new alert apart", len(got))
	}
	if got[0].ID != digest || len(members(got[0].Payload)) != 2 {
		t.Errorf("retried %s with %d events, want %s with the same 2", got[0].ID, len(members(got[0].Payload)), digest)
	}
	if !strings.HasPrefix(got[1].ID, "evt_") || got[1].Payload.Errors[0].Message != "three" {
		t.Errorf("then %s (%+v), want the new failure on its own", got[1].ID, got[1].Payload.Errors)
	}
}

// inProcessDaemon builds the daemon of cfgPath with its logs in logs.
func inProcessDaemon(t *testing.T, cfgPath string, now func() time.Time, logs io.Writer, read ...func(context.Context) (*check.Snapshot, error)) *daemon.App {
	t.Helper()
	e := env{stdout: io.Discard, stderr: logs, now: now, getenv: func(string) string { return "" }, sleep: noSleep}
	deps := func(*daemon.Deps) {}
	if len(read) > 0 {
		deps = func(dd *daemon.Deps) { dd.Read = read[0] }
	}
	d, _ := runnertest.App(t, cfgPath, appDeps(e, runnertest.Logger(logs)), deps)
	return d
}

// syncBuffer is a log destination safe for the goroutines of a test.
type syncBuffer = testkit.Logs

// A deploy's ALTER TABLE holds an ACCESS EXCLUSIVE lock on operations: the
// tick ends at its deadline, counts as a failed read towards
// source.unreachable, and the ticks due meanwhile are skipped with a
// warning and a count, not silently.
func TestTickEndsAtItsDeadlineOnALockedTable(t *testing.T) {
	t.Parallel()
	srv := dbtest.NewPostgresServer(t)
	db := srv.NewDatabase(t)
	dbtest.CreateSchema(t, db, dbtest.Schema{})
	app := t.TempDir()
	dbtest.WriteApp(t, app, db, dbtest.AppFiles{Operations: []string{"2024_01_15_130000_NotifyUsers"}})
	db.InsertOps(t, dbtest.Schema{}, dbtest.Op{Name: "2024_01_15_130000_NotifyUsers", ExecutedAt: "2024-01-15 13:00:00", CompletedAt: "2024-01-15 13:00:05"})
	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	const deadline = time.Second
	cfgPath := daemonConf{app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "silent", unreachableAfter: 2,
		tickTimeout: deadline.String(), channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
	var logs syncBuffer
	d := inProcessDaemon(t, cfgPath, time.Now, &logs)
	ctx := context.Background()
	if err := d.Tick(ctx); err != nil {
		t.Fatalf("tick before the lock: %v\n%s", err, logs.String())
	}

	_, release := db.LockTable(t, "operations")

	took := make(chan time.Duration)
	go func() {
		start := time.Now()
		_ = d.Tick(ctx)
		took <- time.Since(start)
	}()
	var elapsed time.Duration
	select {
	case elapsed = <-took:
	case <-time.After(time.Minute):
		t.Fatalf("the tick did not end at its deadline; logs:\n%s", logs.String())
	}
	t.Logf("the tick on the locked table took %s (tick_timeout %s)", elapsed.Round(time.Millisecond), deadline)
	// Ends by its deadline (the read may give up a little earlier, on a
	// server-side lock_timeout derived from it), and not long after (the
	// connection's cancellation and a save).
	if elapsed < deadline/2 || elapsed > deadline+5*time.Second {
		t.Errorf("the tick took %s, want about its deadline %s", elapsed, deadline)
	}
	mustContain(t, "logs", logs.String(), "cannot read the application", "consecutive_failures=1")
	if d.State().Source.Failures != 1 {
		t.Errorf("failed reads counted: %d, want 1", d.State().Source.Failures)
	}

	// The second tick on the lock reaches unreachable_after (2).
	if err := d.Tick(ctx); err == nil {
		t.Fatal("a tick on the locked table succeeded")
	}
	got := hook.requests()
	if len(got) != 1 || got[0].Payload.Event != "source.unreachable" || got[0].Payload.Source == nil ||
		!(strings.Contains(*got[0].Payload.Source, "locked") || strings.Contains(*got[0].Payload.Source, "tick_timeout")) {
		t.Fatalf("after two ticks on the lock: %d requests, want source.unreachable saying what was waited on", len(got))
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := d.Tick(ctx); err != nil {
		t.Fatalf("tick after the lock was released: %v\n%s", err, logs.String())
	}
	if got := hook.requests(); len(got) != 2 || got[1].Payload.Event != "source.recovered" {
		t.Errorf("after the lock: %d requests, want source.recovered", len(got))
	}
}

// A read that only its deadline ends (a server that accepts the
// connection and never answers) is a failed read that says so.
func TestTickDeadlineIsAFailedRead(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(demoNow)
	app, _ := sqliteApp(t, clock.Now())
	dir := t.TempDir()
	cfgPath := daemonConf{app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "silent", tickTimeout: "50ms",
		channels: []string{consoleChannel}}.write(t, dir)
	var logs syncBuffer
	d := inProcessDaemon(t, cfgPath, clock.Now, &logs, func(ctx context.Context) (*check.Snapshot, error) {
		<-ctx.Done()
		return nil, fmt.Errorf("read: %w", ctx.Err())
	})
	err := d.Tick(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not answer within tick_timeout (50ms)") {
		t.Fatalf("tick: %v, want the deadline named", err)
	}
	if d.State().Source.Failures != 1 || !strings.Contains(d.State().Source.LastError, "tick_timeout") {
		t.Errorf("source %+v, want one failed read", d.State().Source)
	}
	// Shutting down is not a failed read.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Tick(ctx); !errors.Is(err, context.Canceled) || d.State().Source.Failures != 1 {
		t.Errorf("tick while shutting down: %v, failures %d; want context.Canceled and still 1", err, d.State().Source.Failures)
	}
}
