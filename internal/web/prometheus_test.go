package web_test

import (
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/web"
)

func TestARealPrometheusScrapesTheListener(t *testing.T) {
	f := start(t, web.Config{Username: "prom", Password: "scrape-pw"}, nil)
	prom := testkit.StartPrometheus(t, f.srv.Addr(), "prom", "scrape-pw")
	labels, value := testkit.QueryPrometheus(t, prom, `seqwatch_pending_operations{app="shop"}`, 60*time.Second)
	if value != "12" || labels["job"] != "seqwatch" || labels["instance"] != f.srv.Addr() {
		t.Fatalf("seqwatch_pending_operations = %s %v, want 12 from job seqwatch at %s", value, labels, f.srv.Addr())
	}
	_, up := testkit.QueryPrometheus(t, prom, `up{job="seqwatch"}`, 10*time.Second)
	if up != "1" {
		t.Fatalf("up = %s", up)
	}
	// The Go and process collectors are there too.
	testkit.QueryPrometheus(t, prom, `process_resident_memory_bytes{job="seqwatch"}`, 10*time.Second)
}
