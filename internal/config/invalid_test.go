package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes doc as seqwatch.yaml in a new directory and returns
// its path.
func writeFile(t *testing.T, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seqwatch.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValidReportsEveryProblemOrTheConfiguration(t *testing.T) {
	p := writeFile(t, "app: /srv/shop\nschedule: nope\nthresholds:\n  max_pending: -1\n"+console)
	_, err := LoadValid(t.Context(), p)
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Path != p || len(inv.Problems) < 2 {
		t.Fatalf("error %v, want an *InvalidError with both problems", err)
	}
	if want := fmt.Sprintf("%s has %d problem(s):\n  line 2: schedule:", p, len(inv.Problems)); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
	cfg, err := LoadValid(t.Context(), writeFile(t, "app: /srv/shop\n"+console))
	if err != nil || cfg == nil || len(cfg.Channels) != 1 {
		t.Fatalf("a valid file: %v, %v", cfg, err)
	}
}

// The listener's and the heartbeat's keys are validated with the rest,
// and a heartbeat URL, which carries its token, is never quoted.
func TestLoadValidChecksHTTPAndHeartbeat(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"auth without a password", "http:\n  listen: 127.0.0.1:9477\n  username: ops\n", []string{"http.password: username is set but no password"}},
		{"listen without a port", "http:\n  listen: localhost\n", []string{"http.listen: must be host:port"}},
		{"plain http heartbeat to another host", "heartbeat:\n  url: http://kuma.example.com/api/push/heartbeat-secret-1\n", []string{"heartbeat.url: plain http", "allow_http: true"}},
		{"heartbeat without a URL", "heartbeat:\n  timeout: 10s\n", []string{"heartbeat.url: not an absolute URL"}},
		{"unknown key", "http:\n  listn: 127.0.0.1:9477\n", []string{`unknown key "listn"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "seqwatch.yaml")
			if err := os.WriteFile(p, []byte("app: "+dir+"\n"+tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadValid(t.Context(), p)
			if err == nil {
				t.Fatal("LoadValid accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%s", w, err)
				}
			}
			if strings.Contains(err.Error(), "heartbeat-secret-1") {
				t.Errorf("the error quotes the heartbeat URL:\n%s", err)
			}
		})
	}
}

func TestSelectedIsEveryApplicationOrTheOneNamed(t *testing.T) {
	cfg, err := Parse("seqwatch.yaml", []byte("apps:\n  - name: shop\n    app: /srv/shop\n  - name: blog\n    app: /srv/blog\n"+console), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want, failure string }{
		{"", "shop blog", ""},
		{"blog", "blog", ""},
		{"wiki", "", `has no application named "wiki"`},
	} {
		apps, err := cfg.Selected(tc.name)
		var names []string
		for _, a := range apps {
			names = append(names, a.DisplayName())
		}
		if strings.Join(names, " ") != tc.want || (tc.failure == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.failure)) {
			t.Errorf("Selected(%q) = %q, %v; want %q, %q", tc.name, names, err, tc.want, tc.failure)
		}
	}
}
