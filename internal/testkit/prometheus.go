package testkit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StartPrometheus runs a real Prometheus server on loopback, for the rest
// of the test, that scrapes target (host:port) every second with basic
// auth, and returns its base URL. Its log is shown when the test fails.
func StartPrometheus(t testing.TB, target, user, password string) string {
	t.Helper()
	bin := RequireBinary(t, "prometheus")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: seqwatch\n    basic_auth:\n      username: %s\n      password_file: %s\n    static_configs:\n      - targets: [%q]\n", user, pwFile, target)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := StartListener(t, bin, func(addr string) []string {
		return []string{"--config.file=" + cfgFile, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr, "--log.level=warn"}
	}, HTTPReady("/-/ready"))
	return "http://" + addr
}

// QueryPrometheus asks the HTTP API of the Prometheus at base for query
// until it returns a sample, and returns the first sample's labels and
// value; it fails the test after deadline (Prometheus needs a few
// scrapes).
func QueryPrometheus(t testing.TB, base, query string, deadline time.Duration) (map[string]string, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var metric map[string]string
	var value string
	Eventually(t, deadline, "prometheus answering "+query+" with a sample", func() (bool, string) {
		resp, err := client.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  [2]any            `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &r) != nil || r.Status != "success" || len(r.Data.Result) == 0 {
			return false, string(body)
		}
		metric = r.Data.Result[0].Metric
		value, _ = r.Data.Result[0].Value[1].(string)
		return true, ""
	})
	return metric, value
}
