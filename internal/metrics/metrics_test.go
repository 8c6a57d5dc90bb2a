package metrics_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seqwatch/seqwatch/internal/metrics"
	"github.com/seqwatch/seqwatch/internal/testkit"
)

func scrape(t *testing.T, m *metrics.Metrics, accept string) []byte {
	t.Helper()
	srv := httptest.NewServer(m.Handler(5 * time.Second))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	return body
}

// exercised returns metrics that have seen every call the daemon makes.
func exercised() *metrics.Metrics {
	m := metrics.New("test")
	at := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	m.App("shop")
	m.Channel("slack")
	m.TickDone("shop", at, 120*time.Millisecond, nil, "")
	m.TickDone("shop", at.Add(time.Minute), 5*time.Second, errors.New("timeout"), metrics.ClassTimeout)
	m.TickDone("shop", at.Add(2*time.Minute), time.Second, errors.New("x"), "made-up")
	m.Problems("shop", metrics.KindFailing, 2)
	m.Problems("shop", metrics.KindStuck, 0)
	m.Pending("shop", 7)
	m.OldestFailure("shop", at.Add(-3*time.Hour))
	m.Delivery("slack", metrics.ResultDelivered, 3)
	m.Delivery("slack", metrics.ResultRetried, 1)
	m.Outbox("slack", 1, 4)
	m.ChannelDisabled("slack", true)
	m.Heartbeat(metrics.HeartbeatOK)
	m.Heartbeat(metrics.HeartbeatDropped)
	m.Mutes("shop", 2)
	m.MutedEvents("shop", 3)
	m.MutedEvents("shop", 0)
	return m
}

func TestScrapePassesPromtoolCheckMetrics(t *testing.T) {
	promtool := testkit.RequireBinary(t, "promtool")
	body := scrape(t, exercised(), "text/plain")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s\nscrape:\n%s", err, out, body)
	}
}

func TestMetricValuesFollowTheCalls(t *testing.T) {
	m := exercised()
	reg := m.Registry()
	tests := []struct {
		name string
		want string
	}{
		{"seqwatch_reads_total", `seqwatch_reads_total{app="shop"} 3`},
		{"seqwatch_read_errors_total", `seqwatch_read_errors_total{app="shop",class="connect"} 0
seqwatch_read_errors_total{app="shop",class="other"} 1
seqwatch_read_errors_total{app="shop",class="schema"} 0
seqwatch_read_errors_total{app="shop",class="timeout"} 1`},
		{"seqwatch_last_successful_read_timestamp_seconds", `seqwatch_last_successful_read_timestamp_seconds{app="shop"} 1.7734896e+09`},
		{"seqwatch_open_problems", `seqwatch_open_problems{app="shop",kind="failing"} 2
seqwatch_open_problems{app="shop",kind="stuck"} 0`},
		{"seqwatch_pending_operations", `seqwatch_pending_operations{app="shop"} 7`},
		{"seqwatch_deliveries_total", `seqwatch_deliveries_total{channel="slack",result="dead"} 0
seqwatch_deliveries_total{channel="slack",result="delivered"} 3
seqwatch_deliveries_total{channel="slack",result="retried"} 1`},
		{"seqwatch_outbox_deliveries", `seqwatch_outbox_deliveries{channel="slack"} 1`},
		{"seqwatch_dead_letters", `seqwatch_dead_letters{channel="slack"} 4`},
		{"seqwatch_channel_disabled", `seqwatch_channel_disabled{channel="slack"} 1`},
		{"seqwatch_heartbeats_total", `seqwatch_heartbeats_total{result="dropped"} 1
seqwatch_heartbeats_total{result="error"} 0
seqwatch_heartbeats_total{result="ok"} 1`},
		{"seqwatch_build_info", `seqwatch_build_info{version="test"} 1`},
		{"seqwatch_mutes_active", `seqwatch_mutes_active{app="shop"} 2`},
		{"seqwatch_muted_events_total", `seqwatch_muted_events_total{app="shop"} 3`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The HELP and TYPE lines are taken from the scrape itself:
			// what is compared is the samples.
			err := testutil.GatherAndCompare(reg, strings.NewReader(helpType(t, m, tc.name)+tc.want+"\n"), tc.name)
			if err != nil {
				t.Error(err)
			}
		})
	}
}

func TestOldestFailureDisappearsWhenNothingFails(t *testing.T) {
	m := exercised()
	if n := testutil.CollectAndCount(m.Registry(), "seqwatch_oldest_failure_timestamp_seconds"); n != 1 {
		t.Fatalf("series before: %d, want 1", n)
	}
	m.OldestFailure("shop", time.Time{})
	if n := testutil.CollectAndCount(m.Registry(), "seqwatch_oldest_failure_timestamp_seconds"); n != 0 {
		t.Fatalf("series after: %d, want 0", n)
	}
}

func TestNilMetricsAcceptsEveryCall(t *testing.T) {
	var m *metrics.Metrics
	m.App("a")
	m.Channel("c")
	m.TickDone("a", time.Now(), time.Second, nil, "")
	m.Problems("a", metrics.KindFailing, 1)
	m.Pending("a", 1)
	m.OldestFailure("a", time.Now())
	m.Delivery("c", metrics.ResultDead, 1)
	m.Outbox("c", 1, 1)
	m.ChannelDisabled("c", true)
	m.Heartbeat(metrics.HeartbeatOK)
	m.Mutes("a", 1)
	m.MutedEvents("a", 1)
}

// helpType returns the HELP and TYPE lines of name as scraped.
func helpType(t *testing.T, m *metrics.Metrics, name string) string {
	t.Helper()
	var out strings.Builder
	for _, line := range strings.Split(string(scrape(t, m, "text/plain")), "\n") {
		if strings.HasPrefix(line, "# HELP "+name+" ") || strings.HasPrefix(line, "# TYPE "+name+" ") {
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

// docs/observability.md's example alerting rules are valid Prometheus rules.
func TestReadmeAlertingRulesPassPromtoolCheckRules(t *testing.T) {
	promtool := testkit.RequireBinary(t, "promtool")
	readme, err := os.ReadFile("../../docs/observability.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- alerting-rules -->\\s*```yaml\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("docs/observability.md has no ```yaml block after <!-- alerting-rules -->")
	}
	rules := string(block[1])
	for _, name := range []string{"seqwatch_last_successful_read_timestamp_seconds", "seqwatch_deliveries_total", "seqwatch_oldest_failure_timestamp_seconds"} {
		if !strings.Contains(rules, name) {
			t.Errorf("the example rules do not use %s", name)
		}
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS: 3 rules found") {
		t.Fatalf("promtool check rules: want 3 rules\n%s", out)
	}
}

// docs/observability.md's example rules fire when they should, and not before:
// promtool's rule unit tests over made-up series.
func TestReadmeAlertingRulesFireWhenTheyShould(t *testing.T) {
	promtool := testkit.RequireBinary(t, "promtool")
	readme, err := os.ReadFile("../../docs/observability.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- alerting-rules -->\\s*```yaml\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("docs/observability.md has no ```yaml block after <!-- alerting-rules -->")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), block[1], 0o600); err != nil {
		t.Fatal(err)
	}
	// promtool's clock starts at 0: a read at minute n has the timestamp
	// 60n. Reads stop after minute 10; a failure happened at time 0.
	tests := `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'seqwatch_last_successful_read_timestamp_seconds{app="shop"}'
        values: '0+60x10 600x30'
      - series: 'seqwatch_oldest_failure_timestamp_seconds{app="shop"}'
        values: '0x400'
      - series: 'seqwatch_outbox_deliveries{channel="hook"}'
        values: '0x5 1x30'
      - series: 'seqwatch_deliveries_total{channel="hook",result="dead"}'
        values: '0x40'
      - series: 'seqwatch_channel_disabled{channel="hook"}'
        values: '0x40'
    alert_rule_test:
      - eval_time: 9m
        alertname: SeqwatchNotReading
        exp_alerts: []
      - eval_time: 30m
        alertname: SeqwatchNotReading
        exp_alerts:
          - exp_labels: {app: shop, severity: page}
            exp_annotations:
              summary: "seqwatch has not read shop for 10 minutes: is the database reachable, is the daemon running?"
      - eval_time: 15m
        alertname: SeqwatchAlertsNotDelivered
        exp_alerts: []
      - eval_time: 25m
        alertname: SeqwatchAlertsNotDelivered
        exp_alerts:
          - exp_labels: {channel: hook, severity: page}
            exp_annotations:
              summary: "seqwatch cannot deliver alerts through hook: see the daemon's log and the status page"
      - eval_time: 3h
        alertname: SequencerFailureOpen
        exp_alerts: []
      - eval_time: 5h
        alertname: SequencerFailureOpen
        exp_alerts:
          - exp_labels: {app: shop, severity: ticket}
            exp_annotations:
              summary: "an operation of shop has been failing for more than 4 hours"
`
	if err := os.WriteFile(filepath.Join(dir, "tests.yml"), []byte(tests), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "tests.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
