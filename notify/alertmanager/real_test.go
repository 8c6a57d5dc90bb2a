package alertmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

// These tests run the real Alertmanager (Debian's prometheus-alertmanager)
// on loopback. Alertmanager keeps its own wall clock, so seqwatch's clock
// here is time.Now; waits poll the process with a deadline.

// alertmanagerBinary finds the Alertmanager binary, or skips the test
// (fails it under CI).
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	return testkit.RequireBinary(t, "alertmanager", "prometheus-alertmanager")
}

// am is one running Alertmanager.
type am struct {
	url string
	log *syncBuffer
}

// syncBuffer is a log destination safe for several goroutines.
type syncBuffer = testkit.Logs

// startAlertmanager runs Alertmanager with config in a temporary directory
// until the test ends. cluster is its --cluster.listen-address ("" for a
// single node); peers are the other replicas' cluster addresses.
func startAlertmanager(t *testing.T, bin, config, cluster string, peers ...string) *am {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, logs := testkit.StartListener(t, bin, func(addr string) []string {
		args := []string{
			"--config.file=" + cfgPath,
			"--storage.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--cluster.listen-address=" + cluster,
			"--log.level=debug",
		}
		if cluster != "" {
			args = append(args, "--cluster.advertise-address="+cluster,
				"--cluster.peer-timeout="+peerTimeout.String(), "--cluster.gossip-interval=50ms",
				"--cluster.pushpull-interval=1s", "--cluster.probe-interval=200ms")
			for _, p := range peers {
				args = append(args, "--cluster.peer="+p)
			}
		}
		return args
	}, testkit.HTTPReady("/-/ready"))
	return &am{url: "http://" + addr, log: logs}
}

// gotAlert is an alert as GET /api/v2/alerts lists it.
type gotAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// alerts lists the Alertmanager's alerts (resolved ones are left out by
// Alertmanager itself), keyed by their operation label.
func (a *am) alerts(t *testing.T) map[string]gotAlert {
	t.Helper()
	resp, err := http.Get(a.url + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []gotAlert
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	out := map[string]gotAlert{}
	for _, al := range list {
		out[al.Labels["operation"]] = al
	}
	return out
}

// peerTimeout is the replicas' --cluster.peer-timeout: how long the second
// replica waits for the first one's notification log before it notifies.
const peerTimeout = 3 * time.Second

const nullReceiver = `
route:
  receiver: "null"
receivers:
  - name: "null"
`

func TestRealAlertmanagerShowsTheAlertAndResolvesItOnRecovery(t *testing.T) {
	bin := alertmanagerBinary(t)
	a := startAlertmanager(t, bin, nullReceiver, "")
	// Alertmanager keeps the wall clock, so seqwatch's is too; a tick
	// moves it on, since the post and the resend may fall in one
	// millisecond, which endsAt is stamped in.
	var ticked atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ticked.Load())) }
	n, err := New(Config{URLs: []string{a.url}, EndsAfter: 4 * time.Minute}, nil, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	failedAt := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	ev := failedEvent("operation.failed/2024_01_13_120000_FailedOperation/42", "2024_01_13_120000_FailedOperation", failedAt)
	if retry, err := n.Notify(ctx, []notify.Event{ev}); err != nil {
		t.Fatalf("Notify: retry=%v %v", retry, err)
	}
	got, ok := a.alerts(t)["2024_01_13_120000_FailedOperation"]
	if !ok {
		t.Fatalf("the alert is not in GET /api/v2/alerts: %+v", a.alerts(t))
	}
	want := map[string]string{"alertname": "SequencerOperationFailed", "app": "shop", "environment": "production",
		"operation": "2024_01_13_120000_FailedOperation", "severity": "critical"}
	if fmt.Sprint(got.Labels) != fmt.Sprint(want) {
		t.Errorf("labels = %v, want %v", got.Labels, want)
	}
	if got.Annotations["exception"] != "RuntimeException" || got.Annotations["message"] != "Database connection lost" ||
		!strings.HasPrefix(got.Annotations["trace"], "#0 /app/database/operations/x.php(12)") || got.Annotations["summary"] == "" {
		t.Errorf("annotations = %v", got.Annotations)
	}
	if !got.StartsAt.Equal(failedAt) || got.Status.State != "active" {
		t.Errorf("startsAt %s (want %s), state %s", got.StartsAt, failedAt, got.Status.State)
	}

	// A tick later the daemon resends the open problem from its state,
	// without the trace: the alert keeps it, and its endsAt moves on.
	ticked.Store(int64(time.Minute))
	brief := ev
	brief.Errors = []notify.Error{{Exception: "RuntimeException", Message: "Database connection lost"}}
	if err := n.Resend(ctx, []notify.Event{brief}, nil); err != nil {
		t.Fatalf("Resend: %v", err)
	}
	again := a.alerts(t)["2024_01_13_120000_FailedOperation"]
	if !again.EndsAt.After(got.EndsAt) || again.Annotations["trace"] == "" || !again.StartsAt.Equal(failedAt) {
		t.Errorf("after resend: endsAt %s (was %s), startsAt %s, trace %q", again.EndsAt, got.EndsAt, again.StartsAt, again.Annotations["trace"])
	}

	if retry, err := n.Notify(ctx, []notify.Event{recoveredEvent(ev.Key, ev.Operation.Name, time.Now().Add(-time.Second))}); err != nil {
		t.Fatalf("Notify recovery: retry=%v %v", retry, err)
	}
	if left := a.alerts(t); len(left) != 0 {
		t.Errorf("the alert did not resolve when the operation completed: %+v", left)
	}
}

func TestRealAlertmanagerRefusingALabelMakesADeadLetterAndALogLine(t *testing.T) {
	bin := alertmanagerBinary(t)
	a := startAlertmanager(t, bin, nullReceiver, "")
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	n, err := New(Config{URLs: []string{a.url}, Labels: map[string]string{"team-name": "payments"}}, nil, time.Now, logger)
	if err != nil {
		t.Fatal(err)
	}
	d := notify.NewDispatcher(map[string]notify.Notifier{"am": n}, notify.DispatcherOptions{Logger: logger})
	out := d.Send(context.Background(), "am", []notify.Event{failedEvent("k", "Op", time.Now().Add(-time.Minute))})
	if out.Delivered {
		t.Skip("this Alertmanager accepts UTF-8 label names (0.28 or later): nothing to refuse")
	}
	if !out.Permanent || out.Attempts != 1 {
		t.Fatalf("a 400 must be given up on at once (a dead letter): %+v", out)
	}
	if !strings.Contains(out.Err.Error(), "400 Bad Request") {
		t.Errorf("error %q does not say what Alertmanager answered", out.Err)
	}
	if !strings.Contains(logs.String(), "label=team-name") {
		t.Errorf("no log line names the label:\n%s", logs.String())
	}
}

// notification is what Alertmanager's webhook receiver sends.
type notification struct {
	Status string `json:"status"`
	Alerts []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func TestRealClusterNotifiesOncePerGroupThoughSeqwatchPostsToBothReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: proving that no second notification comes takes about 20s of a real cluster")
	}
	bin := alertmanagerBinary(t)
	var mu sync.Mutex
	var got []notification
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n notification
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	count := func(status string) int {
		mu.Lock()
		defer mu.Unlock()
		c := 0
		for _, n := range got {
			if n.Status == status {
				c++
			}
		}
		return c
	}
	// group_interval is well above peer-timeout, as in production (5m
	// against 15s): a replica whose notification waits out peer-timeout
	// while the next group flush starts may send a stale one.
	config := fmt.Sprintf(`
route:
  receiver: hook
  group_by: [alertname, app]
  group_wait: 1s
  group_interval: 12s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/
        send_resolved: true
`, hook.URL)
	c1, c2 := testkit.FreeAddr(t), testkit.FreeAddr(t)
	r1 := startAlertmanager(t, bin, config, c1, c2)
	r2 := startAlertmanager(t, bin, config, c2, c1)
	for _, r := range []*am{r1, r2} {
		testkit.Eventually(t, 30*time.Second, r.url+" sees both replicas in its cluster", func() (bool, string) {
			resp, err := http.Get(r.url + "/api/v2/status")
			if err != nil {
				return false, err.Error()
			}
			defer resp.Body.Close()
			var st struct {
				Cluster struct {
					Status string `json:"status"`
					Peers  []any  `json:"peers"`
				} `json:"cluster"`
			}
			err = json.NewDecoder(resp.Body).Decode(&st)
			return err == nil && st.Cluster.Status == "ready" && len(st.Cluster.Peers) == 2,
				fmt.Sprintf("cluster %q with %d peers (%v)", st.Cluster.Status, len(st.Cluster.Peers), err)
		})
	}

	n, err := New(Config{URLs: []string{r1.url, r2.url}}, nil, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Now().Add(-time.Minute)
	a, b := failedEvent("operation.failed/A/1", "A", at), failedEvent("operation.failed/B/2", "B", at)
	if _, err := n.Notify(ctx, []notify.Event{a, b}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*am{r1, r2} {
		if l := r.alerts(t); len(l) != 2 {
			t.Fatalf("seqwatch did not post to %s: it lists %d alerts", r.url, len(l))
		}
	}
	// Proving that the second replica does not notify too takes a wait:
	// it holds its notification for its position times peer-timeout, then
	// finds the first replica's entry in the gossiped log. A shorter
	// peer-timeout (1s) let a busy machine notify twice: the gossip had not
	// arrived yet, which is Alertmanager's documented trade-off, not ours.
	testkit.Eventually(t, 30*time.Second, "the firing notification", func() (bool, string) { return count("firing") >= 1, "" })
	testkit.Consistently(t, 2*peerTimeout+time.Second, "one firing notification for one group", func() (bool, string) {
		c := count("firing")
		return c == 1, fmt.Sprintf("the receiver got %d firing notifications", c)
	})
	mu.Lock()
	first := got[0]
	mu.Unlock()
	if len(first.Alerts) != 2 {
		t.Errorf("the group's notification carries %d alerts, want both operations", len(first.Alerts))
	}

	now := time.Now()
	if _, err := n.Notify(ctx, []notify.Event{recoveredEvent(a.Key, "A", now), recoveredEvent(b.Key, "B", now)}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, "the resolved notification", func() (bool, string) { return count("resolved") >= 1, "" })
	testkit.Consistently(t, 2*peerTimeout+time.Second, "after the recovery, one resolved and one firing notification", func() (bool, string) {
		c, f := count("resolved"), count("firing")
		return c == 1 && f == 1, fmt.Sprintf("the receiver got %d resolved and %d firing notifications", c, f)
	})
}
