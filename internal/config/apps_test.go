package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestAnApplicationEntryTakesTheTopLevelDefaults(t *testing.T) {
	cfg, err := Parse("/etc/seqwatch/seqwatch.yaml", []byte(`environment: production
thresholds: {max_pending: 10, stuck_after: 30m}
schedule: "@every 2m"
state: {path: /var/lib/seqwatch/state.json}
apps:
  - name: shop
    app: /srv/shop
    thresholds: {max_pending: 3}
  - name: blog
    app: /srv/blog
    environment: staging
    schedule: "@every 5m"
    state_path: /srv/blog-state.json
`), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	apps := cfg.Applications()
	if len(apps) != 2 {
		t.Fatalf("%d applications, want 2", len(apps))
	}
	shop, blog := apps[0], apps[1]
	checks := []struct {
		what      string
		got, want any
	}{
		{"shop's own max_pending", shop.Thresholds.MaxPending, 3},
		{"shop's stuck_after from the top", shop.Thresholds.StuckAfter, Duration(30 * 60e9)},
		{"shop's environment from the top", shop.Environment, "production"},
		{"shop's schedule from the top", shop.Schedule, "@every 2m"},
		{"shop's state file beside the top's", shop.State.Path, "/var/lib/seqwatch/state.shop.json"},
		{"blog's max_pending from the top", blog.Thresholds.MaxPending, 10},
		{"blog's own environment", blog.Environment, "staging"},
		{"blog's own schedule", blog.Schedule, "@every 5m"},
		{"blog's own state file", blog.State.Path, "/srv/blog-state.json"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestTickTimeoutDefaultsToHalfTheIntervalAtMost30s(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want time.Duration
		bad  string
	}{
		{"", 30 * time.Second, ""},
		{"schedule: \"@every 20s\"\n", 10 * time.Second, ""},
		{"schedule: \"*/5 * * * *\"\n", 30 * time.Second, ""},
		{"schedule: \"@every 1m\"\ntick_timeout: 45s\n", 45 * time.Second, ""},
		{"schedule: \"@every 1m\"\ntick_timeout: 2m\n", 0, "tick_timeout: must be shorter than the schedule's interval (1m0s"},
	} {
		cfg, err := Parse("/etc/seqwatch/seqwatch.yaml", []byte("app: /srv/app\n"+tc.yaml+"channels:\n  - name: console\n    console: {}\n"), os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		problems := strings.Join(cfg.Validate(), "\n")
		if tc.bad != "" {
			if !strings.Contains(problems, tc.bad) {
				t.Errorf("%q: problems %q, want %q", tc.yaml, problems, tc.bad)
			}
			continue
		}
		if problems != "" {
			t.Errorf("%q: %s", tc.yaml, problems)
		}
		if got, err := cfg.TopLevel().TickDeadline(); err != nil || got != tc.want {
			t.Errorf("%q: tick timeout %s (%v), want %s", tc.yaml, got, err, tc.want)
		}
	}
}
