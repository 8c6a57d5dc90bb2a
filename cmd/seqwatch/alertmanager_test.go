package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// startAlertmanager runs a single-node Alertmanager (Debian's
// prometheus-alertmanager) on loopback until the test ends and returns its
// URL, or skips the test when it is not installed. The cluster cases are
// tested in notify/alertmanager.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	bin := testkit.RequireBinary(t, "alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var logs syncBuffer
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	url := "http://" + addr
	testkit.Eventually(t, 30*time.Second, "alertmanager ready", func() (bool, string) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("alertmanager exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return false, err.Error() + "\n" + logs.String()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status + "\n" + logs.String()
	})
	return url
}

// amAlert is an alert as GET /api/v2/alerts lists it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	EndsAt      time.Time         `json:"endsAt"`
}

// activeAlerts lists the Alertmanager's unresolved alerts as
// "alertname operation" (operation may be empty).
func activeAlerts(t *testing.T, url string) (names []string, byName map[string]amAlert) {
	t.Helper()
	resp, err := http.Get(url + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	byName = map[string]amAlert{}
	for _, a := range list {
		n := strings.TrimSpace(a.Labels["alertname"] + " " + a.Labels["operation"])
		names = append(names, n)
		byName[n] = a
	}
	slices.Sort(names)
	return names, byName
}

func TestRunOnceFeedsAlertmanagerAndResendsOpenProblemsEachTick(t *testing.T) {
	t.Parallel()
	amURL := startAlertmanager(t)
	// Alertmanager keeps wall-clock time: the ticks run in its recent
	// past (so a recovery's endsAt is past too) and ends_after is long
	// enough for the firing alerts' endsAt to be in its future.
	start := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	app, db := sqliteApp(t, start)
	dir := t.TempDir()
	cfg := daemonConf{
		app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "digest", maxPending: 3, stuckAfter: "30m",
		channels: []string{
			fmt.Sprintf("  - name: am\n    alertmanager:\n      urls: [%q]\n      labels: {team: payments}\n      ends_after: 1h\n", amURL),
			consoleChannel,
		},
	}.write(t, dir)
	tick := func(step string, at time.Time) result {
		t.Helper()
		r := runAt(t, at, "run", "--once", "--config", cfg)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", step, r.code, r.stderr)
		}
		return r
	}

	tick("first tick", start)
	names, alerts := activeAlerts(t, amURL)
	want := []string{
		"SequencerDeferredExhausted 2024_01_16_140000_PurgeStaleCarts",
		"SequencerOperationFailed 2024_01_13_120000_FailedOperation",
		"SequencerOperationStuck 2024_01_14_120000_ImportLegacyOrders",
		"SequencerPendingPileUp",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("after the first tick Alertmanager has %q, want %q", names, want)
	}
	failed := alerts[want[1]]
	if failed.Labels["app"] != "shop" || failed.Labels["environment"] != "test" || failed.Labels["severity"] != "critical" ||
		failed.Labels["team"] != "payments" || failed.Annotations["exception"] == "" || failed.Annotations["trace"] == "" {
		t.Errorf("failed operation's alert: %+v", failed)
	}

	// Nothing changed: the next tick makes no event (the console channel
	// prints nothing) but posts the open problems again, further ahead.
	r := tick("quiet tick", start.Add(time.Minute))
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("a tick without changes sent to the console:\n%s", r.stdout)
	}
	if st := readState(t, filepath.Join(dir, "state.json")); len(st.Outbox) != 0 || len(st.Dead) != 0 {
		t.Errorf("resending left outbox entries or dead letters: %+v %+v", st.Outbox, st.Dead)
	}
	_, again := activeAlerts(t, amURL)
	for _, n := range want {
		if !again[n].EndsAt.After(alerts[n].EndsAt) {
			t.Errorf("%s: endsAt %s did not move on from %s", n, again[n].EndsAt, alerts[n].EndsAt)
		}
	}

	// The operation completes: both its failed rows recover, and the
	// alert resolves.
	insertCompleted(t, db, "2024_01_13_120000_FailedOperation", start.Add(90*time.Second))
	r = tick("recovery tick", start.Add(2*time.Minute))
	if !strings.Contains(r.stdout, "recovered") {
		t.Errorf("the recovery was not sent to the console:\n%s", r.stdout)
	}
	names, _ = activeAlerts(t, amURL)
	if slices.Contains(names, want[1]) || len(names) != 3 {
		t.Errorf("after the operation completed Alertmanager has %q, want the failure resolved and the rest firing", names)
	}
}

func TestMutedProblemsAreNotResentToAlertmanagerUntilTheMuteEnds(t *testing.T) {
	t.Parallel()
	amURL := startAlertmanager(t)
	start := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	app, _ := sqliteApp(t, start)
	dir := t.TempDir()
	cfg := daemonConf{
		app: app, statePath: filepath.Join(dir, "state.json"), firstRun: "digest", maxPending: 3, stuckAfter: "30m",
		channels: []string{fmt.Sprintf("  - name: am\n    alertmanager:\n      urls: [%q]\n      ends_after: 1h\n", amURL)},
	}.write(t, dir)
	if r := runAt(t, start, "mute", "--config", cfg, "--for", "15m", "--reason", "deploy"); r.code != 0 {
		t.Fatalf("mute: exit %d\n%s", r.code, r.stderr)
	}
	for i, at := range []time.Time{start, start.Add(time.Minute)} {
		if r := runAt(t, at, "run", "--once", "--config", cfg); r.code != 0 {
			t.Fatalf("tick %d: exit %d\n%s", i, r.code, r.stderr)
		}
		if names, _ := activeAlerts(t, amURL); len(names) != 0 {
			t.Fatalf("tick %d, muted: Alertmanager got %q", i, names)
		}
	}
	if r := runAt(t, start.Add(16*time.Minute), "run", "--once", "--config", cfg); r.code != 0 {
		t.Fatalf("tick after the mute: exit %d\n%s", r.code, r.stderr)
	}
	if names, _ := activeAlerts(t, amURL); len(names) == 0 {
		t.Fatal("after the mute ended the open problems did not reach Alertmanager")
	}
}

func TestALabelAlertmanagerRefusesIsADeadLetterNamedInTheLog(t *testing.T) {
	t.Parallel()
	amURL := startAlertmanager(t)
	start := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	app, _ := sqliteApp(t, start)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	cfg := daemonConf{
		app: app, statePath: statePath, firstRun: "digest", maxPending: 3, stuckAfter: "30m",
		channels: []string{fmt.Sprintf("  - name: am\n    alertmanager:\n      urls: [%q]\n      labels: {team-name: payments}\n", amURL)},
	}.write(t, dir)
	r := runAt(t, start, "run", "--once", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "label=team-name") || !strings.Contains(r.stderr, "dead letters") {
		t.Fatalf("exit %d; want 1, a log line naming the label and the dead letters:\n%s", r.code, r.stderr)
	}
	if names, _ := activeAlerts(t, amURL); len(names) != 0 {
		t.Skipf("this Alertmanager accepts the label (0.28 or later): %q", names)
	}
	st := readState(t, statePath)
	if len(st.Dead) == 0 || len(st.Outbox) != 0 {
		t.Fatalf("want the refused alerts in the dead letters, none waiting: dead %d, outbox %d", len(st.Dead), len(st.Outbox))
	}
	// The next tick does not post the refused problems again.
	r = runAt(t, start.Add(time.Minute), "run", "--once", "--config", cfg)
	if strings.Contains(r.stderr, "label=team-name") {
		t.Errorf("the refused problems were posted again:\n%s", r.stderr)
	}
}
