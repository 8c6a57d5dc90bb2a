package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/state"
)

// seqwatch outbox list shows what is waiting and what is dead, each dead
// letter with its own reason, as a table and as JSON.
func TestOutboxListShowsWaitingAndDeadAlerts(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	s.hook.respond(answer(http.StatusNotFound))
	s.fail(t, "refused \x1b[31mred\x1b[0m")
	if r := s.run(t); r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	s.hook.respond(answer(http.StatusBadGateway))
	s.fail(t, "waits")
	if r := s.run(t); r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	st := readState(t, s.statePath)
	if len(st.Dead) != 1 || len(st.Outbox) != 1 {
		t.Fatalf("dead %d outbox %d, want 1 and 1", len(st.Dead), len(st.Outbox))
	}
	dead, waiting := st.Dead[0], st.Outbox[0]

	r := s.run(t, "outbox", "list")
	if r.code != 0 {
		t.Fatalf("list: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "list", r.stdout,
		"Outbox: 1 alert(s) waiting", waiting.Event.ID, "502",
		"Dead letters: 1 alert(s) refused for good", dead.Event.ID, "404", "operation.failed")
	if strings.Contains(r.stdout, "\x1b") {
		t.Errorf("list printed a terminal escape from the database:\n%q", r.stdout)
	}

	r = s.run(t, "outbox", "list", "--json")
	var l statestore.OutboxList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || r.code != 0 {
		t.Fatalf("list --json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	if len(l.Outbox) != 1 || l.Outbox[0].ID != waiting.Event.ID || l.Outbox[0].Attempts != 1 || l.Outbox[0].NextAttempt.IsZero() {
		t.Errorf("json outbox %+v", l.Outbox)
	}
	if len(l.Dead) != 1 || l.Dead[0].ID != dead.Event.ID || !strings.Contains(l.Dead[0].LastError, "404") || l.Dead[0].DeadAt.IsZero() {
		t.Errorf("json dead %+v", l.Dead)
	}
}

// outbox retry and drop work while the daemon runs: they wait for the
// moment it is not writing the state, and the daemon's next tick starts
// from their change.
func TestOutboxChangesTheStateWhileTheDaemonRuns(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	s.hook.respond(answer(http.StatusNotFound))
	s.fail(t, "first")
	s.fail(t, "second")
	if r := s.run(t); r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	st := readState(t, s.statePath)
	if len(st.Dead) != 2 {
		t.Fatalf("dead letters %d, want the 2 alerts", len(st.Dead))
	}

	var logs syncBuffer
	d := inProcessDaemon(t, s.cfg, s.clock.Now, &logs) // holds the daemon's lock from now on
	if r := s.run(t); r.code != 1 || !strings.Contains(r.stderr, "in use by another seqwatch") {
		t.Fatalf("a second run beside the daemon: exit %d\n%s", r.code, r.stderr)
	}

	ids := func() []string {
		var out []string
		for _, dl := range readState(t, s.statePath).Dead {
			out = append(out, dl.Event.ID)
		}
		return out
	}
	all := ids()
	s.hook.respond(nil)
	if r := s.run(t, "outbox", "retry", all[0]); r.code != 0 || !strings.Contains(r.stdout, "1 alert(s) due again") {
		t.Fatalf("retry beside the daemon: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := d.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), "1 alert(s) refused for good") {
		t.Fatalf("the daemon's tick after the retry: %v, want the other alert still dead", err)
	}
	got := s.hook.requests()
	if len(got) != 2 || got[1].ID != all[0] || !got[1].accepted() {
		t.Fatalf("after the retry the daemon sent %d requests, want %s delivered", len(got)-1, all[0])
	}
	if r := s.run(t, "outbox", "drop", all[1]); r.code != 0 || !strings.Contains(r.stdout, "1 alert(s) dropped") {
		t.Fatalf("drop beside the daemon: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := d.Tick(context.Background()); err != nil {
		t.Fatalf("the daemon's tick after the drop: %v\n%s", err, logs.String())
	}
	if st := readState(t, s.statePath); len(st.Dead) != 0 || len(st.Outbox) != 0 {
		t.Errorf("state: dead %d outbox %d, want both empty", len(st.Dead), len(st.Outbox))
	}

	// Held for longer than --wait: a clear error, nothing changed.
	inside, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = state.Edit(context.Background(), s.statePath, func(*state.State) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	r := s.run(t, "outbox", "list", "--wait", "100ms")
	close(release)
	if r.code != 1 || !strings.Contains(r.stderr, "busy") {
		t.Errorf("list while the state is held: exit %d\n%s", r.code, r.stderr)
	}
}

// After a 410 the log says what is true: the channel stays disabled until
// its configuration changes or seqwatch outbox enable. Enabling it works
// beside a running daemon, as retry does: the daemon logs that the
// channel is enabled again, and sends to it from its next tick.
func TestOutboxEnableBringsBackAChannelBesideTheDaemon(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	s.hook.respond(answer(http.StatusGone))
	s.fail(t, "first")
	var logs syncBuffer
	d := inProcessDaemon(t, s.cfg, s.clock.Now, &logs)
	if err := d.Tick(context.Background()); err == nil {
		t.Fatal("the tick of the 410 succeeded")
	}
	mustContain(t, "the daemon's log", logs.String(), "410 Gone", "until its configuration changes or seqwatch outbox enable hook")
	if strings.Contains(logs.String(), "reloaded") {
		t.Errorf("the log says a reload enables the channel again, which it does not:\n%s", logs.String())
	}
	if r := s.run(t, "outbox", "list"); !strings.Contains(r.stdout, "Disabled channels") || !strings.Contains(r.stdout, "seqwatch outbox enable NAME") {
		t.Errorf("list does not show the disabled channel and how to enable it:\n%s", r.stdout)
	}

	// The endpoint is back at the same address.
	s.hook.respond(nil)
	r := s.run(t, "outbox", "enable", "hook")
	if r.code != 0 {
		t.Fatalf("enable beside the daemon: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "enable", r.stdout, "channel hook enabled", "its 1 dead letter(s) stay", "seqwatch outbox retry all --channel hook")
	s.fail(t, "second")
	s.clock.Add(time.Minute)
	before := s.hook.count()
	if err := d.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), "1 alert(s) refused for good") {
		t.Fatalf("the tick after enable: %v, want the first alert still a dead letter", err)
	}
	mustContain(t, "the daemon's log", logs.String(), "channel enabled again: seqwatch outbox enable asked to send to it again")
	got := s.hook.requests()[before:]
	if len(got) != 1 || !got[0].accepted() || got[0].Payload.Errors[0].Message != "second" {
		t.Fatalf("after enable the daemon sent %d requests, want the second failure delivered", len(got))
	}
	if st := readState(t, s.statePath); len(st.Disabled) != 0 {
		t.Errorf("the channel is still marked disabled: %+v", st.Disabled)
	}
	if r := s.run(t, "outbox", "retry", "all", "--channel", "hook"); r.code != 0 {
		t.Fatalf("retry: exit %d\n%s", r.code, r.stderr)
	}
	if err := d.Tick(context.Background()); err != nil {
		t.Fatalf("the tick after the retry: %v\n%s", err, logs.String())
	}
	if r := s.run(t, "outbox", "enable", "hook"); r.code != 1 || !strings.Contains(r.stderr, "not disabled") {
		t.Errorf("enable of a channel that is not disabled: exit %d\n%s", r.code, r.stderr)
	}
}

func TestOutboxMistakes(t *testing.T) {
	t.Parallel()
	s := newOnceSetup(t)
	before, err := os.ReadFile(s.statePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"unknown id", []string{"outbox", "drop", "evt_nope"}, 1, []string{"no alert evt_nope", "seqwatch outbox list shows the ids", "nothing was changed"}},
		{"no id", []string{"outbox", "retry"}, 2, []string{"retry needs the ids"}},
		{"unknown subcommand", []string{"outbox", "purge"}, 2, []string{`unknown subcommand "purge"`}},
		{"ids to list", []string{"outbox", "list", "evt_1"}, 2, []string{"list takes no ids"}},
		{"enable without a channel", []string{"outbox", "enable"}, 2, []string{"enable takes the name of one channel"}},
		{"enable of two channels", []string{"outbox", "enable", "hook", "mail"}, 2, []string{"enable takes the name of one channel"}},
		{"enable of a channel that is not disabled", []string{"outbox", "enable", "hook"}, 1, []string{"channel hook is not disabled", "nothing was changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.run(t, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			mustContain(t, "stderr", r.stderr, tc.wants...)
		})
	}
	if after, _ := os.ReadFile(s.statePath); string(after) != string(before) {
		t.Error("a mistaken command changed the state file")
	}
	dir := t.TempDir()
	cfg := daemonConf{app: t.TempDir(), statePath: filepath.Join(dir, "never.json"), channels: []string{consoleChannel}}.write(t, dir)
	if r := runAt(t, time.Now(), "outbox", "list", "--config", cfg); r.code != 1 || !strings.Contains(r.stderr, "has not run with this state.path yet") {
		t.Errorf("list without a state file: exit %d\n%s", r.code, r.stderr)
	}
}
