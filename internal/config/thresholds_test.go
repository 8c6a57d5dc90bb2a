package config

import (
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
)

// The row-shape thresholds take their defaults when left out, 0 turns each
// off, and an application of apps: may set its own.
func TestRowShapeThresholds(t *testing.T) {
	def := check.DefaultThresholds()
	tests := []struct {
		name, yaml string
		app        string // "" for the top level
		want       func(th *check.Thresholds)
	}{
		{"defaults", "app: /srv/shop\n", "", func(*check.Thresholds) {}},
		{"set and turned off", `app: /srv/shop
thresholds:
  scheduled_stuck_after: 72h
  rolled_back_window: 0s
  async_retry_grace: 0s
  deferred_stuck_after: 30m
  deferred_overdue_after: 0s
`, "", func(th *check.Thresholds) {
			th.ScheduledStuckAfter, th.RolledBackWindow, th.AsyncRetryGrace = 72*time.Hour, 0, 0
			th.DeferredStuckAfter, th.DeferredOverdueAfter = 30*time.Minute, 0
		}},
		{"an application's own", `thresholds:
  async_retry_grace: 5m
  rolled_back_window: 1h
apps:
  - name: shop
    app: /srv/shop
    thresholds:
      rolled_back_window: 12h
  - name: blog
    app: /srv/blog
`, "shop", func(th *check.Thresholds) { th.AsyncRetryGrace, th.RolledBackWindow = 5*time.Minute, 12*time.Hour }},
		{"the other application keeps the top level's", `thresholds:
  rolled_back_window: 1h
apps:
  - name: shop
    app: /srv/shop
    thresholds:
      rolled_back_window: 12h
  - name: blog
    app: /srv/blog
`, "blog", func(th *check.Thresholds) { th.RolledBackWindow = time.Hour }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("seqwatch.yaml", []byte(tc.yaml), func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			if p := cfg.Validate(); len(p) > 0 {
				t.Fatalf("problems: %q", p)
			}
			app, err := cfg.Application(tc.app)
			if err != nil {
				t.Fatal(err)
			}
			want := def
			tc.want(&want)
			if got := app.Thresholds.Check(); got != want {
				t.Errorf("thresholds = %+v\nwant %+v", got, want)
			}
		})
	}
}
