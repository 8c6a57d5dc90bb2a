package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The application a reading command is told of: picked by name, the
// only one without, an unset channel secret no obstacle; a file that
// does not answer gives up within the timeout, saying so.
func TestLoadAppForReadingPicksByNameWithinTheTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := write("one.yaml", "app: /srv/shop\nname: shop\nchannels:\n  - name: hook\n    webhook:\n      url: ${SEQWATCH_TEST_UNSET_HOOK_URL}\n")
	two := write("two.yaml", "apps:\n  - name: shop\n    app: /srv/shop\n  - name: blog\n    app: /srv/blog\n")
	fifo := filepath.Join(dir, "silent.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A writer that never writes: the read waits for it.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	for _, tc := range []struct {
		name, path, pick string
		timeout          time.Duration
		app, err         string
	}{
		{"the only application", one, "", 0, "/srv/shop", ""},
		{"the only one, by its name", one, "shop", time.Minute, "/srv/shop", ""},
		{"one of several", two, "blog", 0, "/srv/blog", ""},
		{"several, none picked", two, "", 0, "", "has 2 applications"},
		{"a name it does not have", two, "docs", 0, "", `has no application named "docs"`},
		{"a file that does not answer", fifo, "", 50 * time.Millisecond, "", "did not finish in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ac, err := LoadAppForReading(t.Context(), tc.path, tc.pick, tc.timeout)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err == "" && ac.App != tc.app:
				t.Errorf("app %q, want %q", ac.App, tc.app)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
}
