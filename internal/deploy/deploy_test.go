package deploy_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/deploy"
	"github.com/seqwatch/seqwatch/internal/gate"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/state"
)

var start = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

// app is the configuration's application, its state file in a fresh
// directory; started says the daemon has started that state.
func app(t *testing.T, yaml string, started bool) *config.App {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "seqwatch.yaml")
	cfg, err := config.Parse(path, []byte("app: "+dir+"\nstate:\n  path: "+filepath.Join(dir, "state.json")+"\n"+yaml), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ac, err := deploy.App(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if started {
		if err := state.EditMutes(t.Context(), ac.StateFile(), func(*state.State) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return ac
}

// stored is the state of ac as the daemon would read it.
func stored(t *testing.T, ac *config.App) *state.State {
	t.Helper()
	var got *state.State
	if err := state.Edit(t.Context(), ac.StateFile(), func(st *state.State) error { got = st; return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

// App picks the application deployed, and refuses a configuration whose
// mute would be refused, saying where and how to see all of it.
func TestAppPicksTheApplicationAndChecksTheMuteKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, pick, want string
	}{
		{"the only application", "name: shop\n", "", ""},
		{"one of several", "apps:\n  - name: shop\n    app: /srv/shop\n  - name: blog\n    app: /srv/blog\n", "blog", ""},
		{"several, none picked", "apps:\n  - name: shop\n    app: /srv/shop\n  - name: blog\n    app: /srv/blog\n", "", `has 2 applications ("shop", "blog"): pick one with --name`},
		{"a bad mute_max, and what to run", "mute_max: 0s\n", "", "line 2: mute_max: must be a positive duration such as 24h (got 0s) (run seqwatch validate --config "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seqwatch.yaml")
			cfg, err := config.Parse(path, []byte("app: /srv/app\n"+tc.yaml), func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			ac, err := deploy.App(cfg, tc.pick)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want == "" && tc.pick != "" && ac.DisplayName() != tc.pick:
				t.Errorf("picked %s, want %s", ac.DisplayName(), tc.pick)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// The deploy's mute is in the state the daemon reads, by "deploy"; its
// end moves when the command has ended, and it is made again under the
// same id if it ended meanwhile; the unmute removes it, and one already
// gone is no error. One longer than mute_max is refused.
func TestMuterMutesExtendsAndUnmutesInTheState(t *testing.T) {
	t.Parallel()
	ac := app(t, "mute_max: 1h\n", false)
	clock := testkit.NewClock(start)
	m := &deploy.Muter{App: ac, KeepUnreachable: true, Now: clock.Now}
	ctx := t.Context()
	if _, err := m.Mute(ctx, "too long", start.Add(2*time.Hour)); err == nil || !strings.Contains(err.Error(), "longer than mute_max") {
		t.Errorf("a mute of 2h with mute_max 1h: %v", err)
	}
	id, err := m.Mute(ctx, "deploy: php artisan sequencer:process", start.Add(17*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	mutes := stored(t, ac).Mutes
	if len(mutes) != 1 || mutes[0].ID != id || mutes[0].By != "deploy" || !mutes[0].KeepUnreachable || !mutes[0].End.Equal(start.Add(17*time.Minute)) {
		t.Fatalf("after Mute: %+v", mutes)
	}
	for _, step := range []struct {
		name  string
		after time.Duration
		until time.Duration
	}{
		{"in force", 5 * time.Minute, 22 * time.Minute},
		{"ended meanwhile", 40 * time.Minute, 57 * time.Minute},
	} {
		clock.Add(step.after)
		if err := m.Extend(ctx, id, "deploy: again", start.Add(step.until)); err != nil {
			t.Fatal(err)
		}
		mutes = stored(t, ac).Mutes
		if len(mutes) != 1 || mutes[0].ID != id || !mutes[0].End.Equal(start.Add(step.until)) {
			t.Errorf("%s: after Extend %+v", step.name, mutes)
		}
		clock.Add(-step.after)
	}
	for range 2 {
		if err := m.Unmute(ctx, id); err != nil {
			t.Errorf("Unmute: %v", err)
		}
		if mutes := stored(t, ac).Mutes; len(mutes) != 0 {
			t.Errorf("after Unmute: %+v", mutes)
		}
	}
}

// refusing is a webhook receiver that refuses every request, as a
// receiver answering 400 does: the channel gives up at once.
func refusing(t *testing.T) (url string, requests *atomic.Int32) {
	requests = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

// The deploy.finished event goes to the channels routes give it to; what
// a channel does not take waits in the outbox for the daemon, under the
// event's one id, and the error says which channel and where it waits.
func TestReporterSendsAndQueuesWhatIsNotTaken(t *testing.T) {
	t.Parallel()
	hookURL, _ := refusing(t)
	hook := fmt.Sprintf("  - name: hook\n    webhook:\n      url: %q\n      allow_http: true\n      secrets: [\"deploy-test-signing-secret-1234\"]\n", hookURL)
	console := "  - name: console\n    console: {}\n"
	for _, tc := range []struct {
		name        string
		yaml        string
		noState     bool
		console     bool
		queued, err string
	}{
		{"every channel takes it", "channels:\n" + console, false, true, "", ""},
		{"one refuses", "channels:\n" + console + hook, false, true, "hook", "hook: webhook"},
		{"routed to none", "channels:\n" + console + "routes:\n  - events: [operation.failed]\n    channels: [console]\n", false, false, "", ""},
		{"one refuses before the daemon started the state", "channels:\n" + hook, true, false, "", "hook: webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ac := app(t, tc.yaml, !tc.noState)
			var out bytes.Buffer
			clock := testkit.NewClock(start)
			r := &deploy.Reporter{App: ac, Stdout: &out, Now: clock.Now, Sleep: clock.Sleep}
			d := gate.DeployResult{Command: gate.Command{Argv: []string{"php", "artisan", "sequencer:process"}}, Waited: true,
				Started: start, Finished: start.Add(42 * time.Second), Wait: gate.Result{Started: start, Finished: start.Add(42 * time.Second)}}
			err := r.Report(t.Context(), d)
			if got := strings.Contains(out.String(), "deploy finished, OK"); got != tc.console {
				t.Errorf("console shows the deploy: %v, want %v\n%s", got, tc.console, out.String())
			}
			var queued []string
			if tc.noState {
				if err == nil || !strings.Contains(err.Error(), "; and it could not be queued for the daemon: ") {
					t.Errorf("error %v, want one saying it could not be queued", err)
				}
				return
			}
			for _, q := range stored(t, ac).Outbox {
				if q.Event.Kind != "deploy.finished" {
					t.Errorf("queued %s", q.Event.Kind)
				}
				queued = append(queued, q.Channel)
			}
			if strings.Join(queued, ",") != tc.queued {
				t.Errorf("queued for %q, want %q", queued, tc.queued)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err) || !strings.Contains(err.Error(), "waits in the outbox for the daemon (seqwatch outbox list --config ")):
				t.Errorf("error %v, want one starting %q and saying where it waits", err, tc.err)
			}
		})
	}
}

// A channel its endpoint disabled (410 Gone) under its present
// configuration is not asked again, nor queued for a daemon that would
// only dead-letter it: the error says so and how to enable it. A mark
// left by an older configuration of the channel does not count.
func TestReporterSkipsAChannelItsEndpointDisabled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		sameHash  bool
		requests  int32
		errPrefix string
	}{
		{name: "disabled under its present configuration", sameHash: true, requests: 0, errPrefix: "hook: not sent: the channel is disabled since 2026-03-14 14:00:00Z, when its endpoint answered 410 Gone (seqwatch outbox enable hook once it is back)"},
		{name: "disabled under an older configuration", sameHash: false, requests: 1, errPrefix: "hook: webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hookURL, requests := refusing(t)
			ac := app(t, fmt.Sprintf("channels:\n  - name: hook\n    webhook:\n      url: %q\n      allow_http: true\n", hookURL), true)
			hash := "an older configuration"
			if tc.sameHash {
				hash = ac.ChannelHashes()["hook"]
			}
			if err := state.Edit(t.Context(), ac.StateFile(), func(st *state.State) error {
				st.Disabled = map[string]state.DisabledChannel{"hook": {Config: hash, Since: start.Add(-time.Hour), Reason: "410 Gone"}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			clock := testkit.NewClock(start)
			r := &deploy.Reporter{App: ac, Stdout: &bytes.Buffer{}, Now: clock.Now, Sleep: clock.Sleep}
			err := r.Report(t.Context(), gate.DeployResult{Command: gate.Command{Argv: []string{"true"}}, Started: start, Finished: start})
			if err == nil || !strings.HasPrefix(err.Error(), tc.errPrefix) {
				t.Errorf("error %v, want one starting %q", err, tc.errPrefix)
			}
			if got := requests.Load(); got != tc.requests {
				t.Errorf("%d requests to the channel, want %d", got, tc.requests)
			}
			if q := stored(t, ac).Outbox; tc.sameHash && len(q) != 0 {
				t.Errorf("queued %d for a disabled channel, want none", len(q))
			}
		})
	}
}
