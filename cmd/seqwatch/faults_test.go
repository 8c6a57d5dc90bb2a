package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/statestore"
)

// processBound only stops a hung test; nothing is asserted about it.
const processBound = 2 * time.Minute

// seqwatchProc is the built binary running as a separate process, with its
// standard error read line by line as it is written.
type seqwatchProc struct {
	t   *testing.T
	cmd *exec.Cmd

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // a line arrived or stderr closed
	eof     chan struct{} // stderr closed
	waited  bool
	waitErr error
}

func startSeqwatch(t *testing.T, args ...string) *seqwatchProc {
	t.Helper()
	return startCommand(t, exec.Command(buildBinary(t), args...))
}

// startCommand starts cmd, a command that runs the built binary (under
// prlimit, for instance), as startSeqwatch does.
func startCommand(t *testing.T, cmd *exec.Cmd) *seqwatchProc {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &seqwatchProc{t: t, cmd: cmd, changed: make(chan struct{}, 1), eof: make(chan struct{})}
	go func() {
		defer close(p.eof)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.changed <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = cmd.Process.Kill()
			p.wait()
		}
	})
	return p
}

func (p *seqwatchProc) exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waited
}

// wait waits for the process to exit and returns its exit code (-1 when a
// signal ended it).
func (p *seqwatchProc) wait() int {
	select {
	case <-p.eof:
	case <-time.After(processBound):
		p.t.Fatalf("seqwatch %v did not exit; stderr:\n%s", p.cmd.Args[1:], p.stderr())
	}
	p.mu.Lock()
	if !p.waited {
		p.waited = true
		p.mu.Unlock()
		err := p.cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
	}
	p.mu.Unlock()
	return p.cmd.ProcessState.ExitCode()
}

func (p *seqwatchProc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitLine waits until stderr has a line containing want, from line
// index from on, and returns the line and the index after it.
func (p *seqwatchProc) waitLine(from int, want string) (string, int) {
	p.t.Helper()
	deadline := time.After(processBound)
	for {
		p.mu.Lock()
		for i := from; i < len(p.lines); i++ {
			if strings.Contains(p.lines[i], want) {
				line := p.lines[i]
				p.mu.Unlock()
				return line, i + 1
			}
		}
		p.mu.Unlock()
		select {
		case <-p.eof:
			// Every line is in; one more look, then give up.
			p.mu.Lock()
			found := slices.ContainsFunc(p.lines[from:], func(l string) bool { return strings.Contains(l, want) })
			p.mu.Unlock()
			if !found {
				p.t.Fatalf("seqwatch ended its output without %q:\n%s", want, p.stderr())
			}
			continue
		default:
		}
		select {
		case <-p.changed:
		case <-p.eof:
		case <-deadline:
			p.t.Fatalf("no %q from seqwatch; stderr:\n%s", want, p.stderr())
		}
	}
}

// runSeqwatch runs the binary to completion.
func runSeqwatch(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(buildBinary(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: cmd.ProcessState.ExitCode()}
}

// awaitRequest waits for the receiver to report a request on arrived
// while the process runs, and returns the request's index.
func (p *seqwatchProc) awaitRequest(arrived <-chan int) int {
	p.t.Helper()
	select {
	case n := <-arrived:
		return n
	case <-p.eof:
		p.t.Fatalf("seqwatch exited (%d) without sending:\n%s", p.wait(), p.stderr())
	case <-time.After(processBound):
		p.t.Fatalf("seqwatch sent nothing; stderr:\n%s", p.stderr())
	}
	return -1
}

// killPhase is where in a delivery the daemon is killed.
type killPhase int

const (
	// killBeforeAnswer: the request reached the receiver, which has not
	// answered.
	killBeforeAnswer killPhase = iota
	// killAfterAccept: the receiver answered 200 but the daemon has not
	// finished reading the answer, so it cannot have saved the delivery.
	killAfterAccept
	// killAfterReturn: the receiver answered 200 completely; the kill
	// races the daemon's save, and either outcome must hold up.
	killAfterReturn
	killPhases
)

func (k killPhase) String() string {
	return [...]string{"before the answer", "after 200, answer unfinished", "after 200, racing the save"}[k]
}

// respondAndKill makes the receiver's next request behave as phase says
// and report on arrived once the daemon may be killed.
func respondAndKill(phase killPhase, arrived chan<- int) func(n int, w http.ResponseWriter, r *http.Request) int {
	return func(n int, w http.ResponseWriter, r *http.Request) int {
		switch phase {
		case killBeforeAnswer:
			arrived <- n
			<-r.Context().Done() // the daemon died
			return 0
		case killAfterAccept:
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("ok"))
			_ = http.NewResponseController(w).Flush()
			arrived <- n
			<-r.Context().Done()
			return http.StatusOK
		default:
			w.WriteHeader(http.StatusOK)
			arrived <- n
			return http.StatusOK
		}
	}
}

// kill -9 at any point of a delivery, twenty times over: every alert
// still arrives, and arrives at most twice, both times with the same
// webhook-id, so a receiver that deduplicates sees it exactly once.
func TestKillDuringDeliveryNeverLosesAndRepeatsAtMostOnce(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	app, db := sqliteApp(t, now)
	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	cfg := daemonConf{app: app, statePath: statePath, firstRun: "silent", channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
	if r := runSeqwatch(t, "run", "--once", "--config", cfg); r.code != 0 || hook.count() != 0 {
		t.Fatalf("silent first run: exit %d, %d requests\n%s", r.code, hook.count(), r.stderr)
	}

	var sent []string // event ids, one per iteration
	for i := range 20 {
		phase := killPhase(i % int(killPhases))
		insertFailure(t, db, "2024_01_15_130000_NotifyUsers", now.Add(-time.Hour+time.Duration(i)*time.Minute), "RuntimeException", fmt.Sprintf("failure %d", i))
		arrived := make(chan int, 1)
		hook.respond(respondAndKill(phase, arrived))
		p := startSeqwatch(t, "run", "--once", "--config", cfg)
		n := p.awaitRequest(arrived)
		_ = p.cmd.Process.Signal(syscall.SIGKILL) // may have exited already when racing
		p.wait()
		got := hook.requests()
		id := got[n].ID
		if got[n].Payload.Event != "operation.failed" || got[n].Payload.Errors[0].Message != fmt.Sprintf("failure %d", i) {
			t.Fatalf("iteration %d: sent %s %+v, want the new failure", i, got[n].Payload.Event, got[n].Payload.Errors)
		}
		sent = append(sent, id)
		pending := slices.Contains(outboxIDs(readState(t, statePath)), id)
		if !pending && phase != killAfterReturn {
			t.Fatalf("iteration %d (%s): the killed daemon's state has no undelivered %s: it would be lost", i, phase, id)
		}

		hook.respond(nil)
		if r := runSeqwatch(t, "run", "--once", "--config", cfg); r.code != 0 {
			t.Fatalf("iteration %d (%s): restart: exit %d\n%s", i, phase, r.code, r.stderr)
		}
		if ids := outboxIDs(readState(t, statePath)); len(ids) != 0 {
			t.Fatalf("iteration %d (%s): outbox after the restart holds %v", i, phase, ids)
		}
		got = hook.requests()
		var accepted int
		for _, req := range got[n:] {
			if req.ID != id {
				t.Errorf("iteration %d (%s): the restart sent %s, want only %s again", i, phase, req.ID, id)
			}
			if req.accepted() {
				accepted++
			}
		}
		repeats := len(got[n:]) - 1
		wantRepeats := 0
		if pending {
			wantRepeats = 1
		}
		wantAccepted := 1
		if phase != killBeforeAnswer && pending {
			wantAccepted = 2
		}
		if repeats != wantRepeats || accepted != wantAccepted {
			t.Errorf("iteration %d (%s): sent %d times, accepted %d; want %d and %d", i, phase, repeats+1, accepted, wantRepeats+1, wantAccepted)
		}
	}

	// Every alert was accepted at least once and at most twice.
	counts := map[string]int{}
	for _, req := range hook.requests() {
		if req.accepted() {
			counts[req.ID]++
		}
	}
	for i, id := range sent {
		if c := counts[id]; c < 1 || c > 2 {
			t.Errorf("alert %d (%s) accepted %d times", i, id, c)
		}
	}
	if len(counts) != len(sent) {
		t.Errorf("the receiver accepted %d distinct alerts, want %d", len(counts), len(sent))
	}
}

// kill -9 after the alert was detected but before anything was delivered:
// it was saved first, so the restart delivers it, once, with the same
// webhook-id.
func TestKillBeforeDeliveryDeliversExactlyOnceAfterRestart(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	app, _ := sqliteApp(t, now)
	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	cfg := daemonConf{app: app, statePath: statePath, firstRun: "digest", maxPending: 3,
		channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)

	arrived := make(chan int, 1)
	hook.respond(respondAndKill(killBeforeAnswer, arrived))
	p := startSeqwatch(t, "run", "--once", "--config", cfg)
	p.awaitRequest(arrived)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != -1 {
		t.Fatalf("the daemon exited %d before the kill", code)
	}
	st := readState(t, statePath)
	if !st.Initialized || len(st.Outbox) != 2 {
		t.Fatalf("state after the kill: initialized %v, outbox %v; want the digest and pending.threshold saved", st.Initialized, outboxIDs(st))
	}
	first := hook.requests()
	if len(first) != 1 || first[0].Status != 0 {
		t.Fatalf("before the restart: %d requests (%+v), want one unanswered", len(first), first)
	}

	hook.respond(nil)
	for run := 1; run <= 2; run++ {
		if r := runSeqwatch(t, "run", "--once", "--config", cfg); r.code != 0 {
			t.Fatalf("run %d after the kill: exit %d\n%s", run, r.code, r.stderr)
		}
	}
	got := hook.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests in all, want the killed one and one delivery", len(got))
	}
	if !got[1].accepted() || got[1].ID != first[0].ID {
		t.Errorf("delivered %s (status %d), want %s, the id of the killed attempt", got[1].ID, got[1].Status, first[0].ID)
	}
	if k := kinds(members(got[1].Payload)); !slices.Equal(k, []string{"digest", "pending.threshold"}) {
		t.Errorf("delivered %v, want the digest and pending.threshold", k)
	}
}

// One state file, one daemon: a second one exits at once naming the
// first one's PID; SIGTERM stops the first cleanly.
func TestSecondDaemonOnTheSameStateIsRefused(t *testing.T) {
	t.Parallel()
	app, _ := sqliteApp(t, time.Now().UTC().Truncate(time.Second))
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	cfg := daemonConf{app: app, statePath: statePath, firstRun: "silent", schedule: "@every 1h", channels: []string{consoleChannel}}.write(t, dir)

	first := startSeqwatch(t, "run", "--config", cfg)
	first.waitLine(0, "seqwatch started")
	pid := strconv.Itoa(first.cmd.Process.Pid)
	lock, err := os.ReadFile(statePath + ".lock")
	if err != nil || strings.TrimSpace(string(lock)) != pid {
		t.Fatalf("lock file holds %q (%v), want the daemon's pid %s", lock, err, pid)
	}

	second := runSeqwatch(t, "run", "--config", cfg)
	if second.code != 1 {
		t.Fatalf("second daemon: exit %d, want 1\n%s", second.code, second.stderr)
	}
	mustContain(t, "second daemon's stderr", second.stderr, "state file "+statePath+" is in use by another seqwatch (pid "+pid+")", "stop it first")
	if once := runSeqwatch(t, "run", "--once", "--config", cfg); once.code != 1 || !strings.Contains(once.stderr, "pid "+pid) {
		t.Errorf("run --once beside the daemon: exit %d\n%s", once.code, once.stderr)
	}

	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(); code != 0 {
		t.Fatalf("SIGTERM: exit %d, want 0\n%s", code, first.stderr())
	}
	mustContain(t, "stderr", first.stderr(), "stopped")
	if r := runSeqwatch(t, "run", "--once", "--config", cfg); r.code != 0 {
		t.Errorf("after the first daemon stopped: exit %d\n%s", r.code, r.stderr)
	}
}

// SIGHUP with a broken configuration file keeps the running configuration
// and says why; the daemon keeps alerting through its old channels.
func TestReloadWithAnInvalidConfigurationKeepsTheOldOne(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	app, db := sqliteApp(t, now)
	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	conf := daemonConf{app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "silent", schedule: "@every 1s",
		channels: []string{hookChannel("hook", hook.url())}}
	cfg := conf.write(t, dir)

	p := startSeqwatch(t, "run", "--log-format", "json", "--config", cfg)
	_, next := p.waitLine(0, "seqwatch started")
	// The first tick records the history (silently); a failure inserted
	// before it would be recorded as history too.
	_, first := p.waitLine(0, "first check done")
	for _, tc := range []struct{ garbage, why string }{
		{"channels: [unclosed\n", "did not find expected"},
		{"app: " + app + "\nthresholds:\n  max_pendin: 3\n", `unknown key \"max_pendin\"`},
		{"app: " + app + "\non_first_run: loud\n", "on_first_run: must be digest or silent"},
	} {
		if err := os.WriteFile(cfg, []byte(tc.garbage), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		var line string
		line, next = p.waitLine(next, "reload failed")
		mustContain(t, "reload line", line, "keeping the previous configuration", cfg, tc.why)
	}

	// Still running on the old configuration: a new failure reaches the
	// old webhook.
	insertFailure(t, db, "2024_01_15_130000_NotifyUsers", now.Add(-time.Minute), "RuntimeException", "after the reload")
	_, next = p.waitLine(max(next, first), `"msg":"delivered"`)
	got := hook.requests()
	if len(got) != 1 || got[0].Payload.Event != "operation.failed" || got[0].Payload.Errors[0].Message != "after the reload" {
		t.Fatalf("after the failed reloads: %d requests %+v, want the new failure", len(got), got)
	}

	// A valid file is taken.
	if err := os.WriteFile(cfg, []byte(conf.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLine(next, "configuration reloaded")

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("SIGTERM: exit %d\n%s", code, p.stderr())
	}
}

// SIGTERM while the webhook holds the daemon off with 429 Retry-After: no
// new request after the signal, the alert stays in the outbox, and the
// daemon exits within a few seconds instead of waiting out the hold.
func TestSIGTERMDuringARetryAfterHoldExitsAtOnceAndKeepsTheAlert(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	app, _ := sqliteApp(t, now)
	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	cfg := daemonConf{app: app, statePath: statePath, firstRun: "digest", schedule: "@every 1h",
		channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
	arrived := make(chan int, 8)
	hook.respond(func(n int, w http.ResponseWriter, _ *http.Request) int {
		w.Header().Set("Retry-After", "6")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		arrived <- n
		return http.StatusTooManyRequests
	})
	p := startSeqwatch(t, "run", "--config", cfg)
	p.awaitRequest(arrived)
	// The daemon is now holding for 6 s before its next attempt.
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait()
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, p.stderr())
	}
	t.Logf("exited %s after SIGTERM", took.Round(time.Millisecond))
	if took > 4*time.Second {
		t.Errorf("exited %s after SIGTERM, want within a few seconds", took.Round(time.Millisecond))
	}
	if n := hook.count(); n != 1 {
		t.Errorf("%d requests in all, want the one before SIGTERM and none after", n)
	}
	st := readState(t, statePath)
	if len(st.Outbox) == 0 {
		t.Fatal("the unsent alert is not in the outbox")
	}
	var attempted []string
	for _, ev := range members(hook.requests()[0].Payload) {
		attempted = append(attempted, ev.ID)
	}
	for _, d := range st.Outbox {
		if !slices.Contains(attempted, d.Event.ID) {
			t.Errorf("outbox holds %s, not one of the alerts attempted %v", d.Event.ID, attempted)
		}
	}
	mustContain(t, "stderr", p.stderr(), "no new delivery attempts", "stopped")
}

// seqwatch outbox beside a running daemon process: a dead letter retried
// from the command line is delivered by the daemon's next tick, and
// neither process waits long for the other.
func TestOutboxRetryBesideARunningDaemon(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	app, db := sqliteApp(t, now)
	hook := newHookReceiver(t, time.Now)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	cfg := daemonConf{app: app, statePath: statePath, firstRun: "silent", schedule: "@every 1s",
		channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
	hook.respond(func(_ int, w http.ResponseWriter, _ *http.Request) int {
		http.Error(w, "no such hook", http.StatusNotFound)
		return http.StatusNotFound
	})
	p := startSeqwatch(t, "run", "--config", cfg)
	_, next := p.waitLine(0, "first check done")
	insertFailure(t, db, "2024_01_15_130000_NotifyUsers", now.Add(-time.Minute), "RuntimeException", "refused, then retried")
	_, next = p.waitLine(next, "refused the alert for good")

	list := runSeqwatch(t, "outbox", "list", "--json", "--config", cfg)
	var l statestore.OutboxList
	if err := json.Unmarshal([]byte(list.stdout), &l); err != nil || list.code != 0 || len(l.Dead) != 1 {
		t.Fatalf("outbox list beside the daemon: exit %d, %v\n%s%s", list.code, err, list.stdout, list.stderr)
	}
	id := l.Dead[0].ID
	hook.respond(nil)
	if r := runSeqwatch(t, "outbox", "retry", id, "--config", cfg); r.code != 0 {
		t.Fatalf("outbox retry beside the daemon: exit %d\n%s", r.code, r.stderr)
	}
	p.waitLine(next, "msg=delivered")
	got := hook.requests()
	last := got[len(got)-1]
	if last.ID != id || !last.accepted() {
		t.Errorf("the daemon delivered %s (status %d), want the retried %s", last.ID, last.Status, id)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("SIGTERM: exit %d\n%s", code, p.stderr())
	}
	if st := readState(t, statePath); len(st.Dead) != 0 || len(st.Outbox) != 0 {
		t.Errorf("state after the retry: dead %d, outbox %d", len(st.Dead), len(st.Outbox))
	}
}
