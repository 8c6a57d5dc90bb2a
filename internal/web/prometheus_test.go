package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/web"
)

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPrometheus runs a real Prometheus server on loopback that scrapes
// target (host:port) every second with basic auth, and returns its base
// URL.
func startPrometheus(t *testing.T, target, user, password string) string {
	t.Helper()
	bin := testkit.RequireBinary(t, "prometheus")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: seqwatch
    basic_auth:
      username: %s
      password_file: %s
    static_configs:
      - targets: ["%s"]
`, user, pwFile, target)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	return "http://" + addr
}

type promResult struct {
	Status string `json:"status"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

// queryPrometheus asks Prometheus's HTTP API for query until it returns a
// sample, or fails after deadline (Prometheus needs a few scrapes).
func queryPrometheus(t *testing.T, base, query string, deadline time.Duration) (map[string]string, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var metric map[string]string
	var value string
	testkit.Eventually(t, deadline, "prometheus answering "+query+" with a sample", func() (bool, string) {
		resp, err := client.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r promResult
		if json.Unmarshal(body, &r) != nil || r.Status != "success" || len(r.Data.Result) == 0 {
			return false, string(body)
		}
		metric = r.Data.Result[0].Metric
		value, _ = r.Data.Result[0].Value[1].(string)
		return true, ""
	})
	return metric, value
}

func TestARealPrometheusScrapesTheListener(t *testing.T) {
	f := start(t, web.Config{Username: "prom", Password: "scrape-pw"}, nil)
	prom := startPrometheus(t, f.srv.Addr(), "prom", "scrape-pw")
	labels, value := queryPrometheus(t, prom, `seqwatch_pending_operations{app="shop"}`, 60*time.Second)
	if value != "12" || labels["job"] != "seqwatch" || labels["instance"] != f.srv.Addr() {
		t.Fatalf("seqwatch_pending_operations = %s %v, want 12 from job seqwatch at %s", value, labels, f.srv.Addr())
	}
	_, up := queryPrometheus(t, prom, `up{job="seqwatch"}`, 10*time.Second)
	if up != "1" {
		t.Fatalf("up = %s", up)
	}
	// The Go and process collectors are there too.
	queryPrometheus(t, prom, `process_resident_memory_bytes{job="seqwatch"}`, 10*time.Second)
}
