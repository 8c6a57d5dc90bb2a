package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fuzzSecret is what every ${VAR} and the secret file hold in FuzzParse.
const fuzzSecret = "fuzzSecretValue123"

// FuzzParse: whatever the file, loading and validating it do not panic,
// allocate in proportion to the file (an alias bomb is refused before it
// is written out), and no message carries a secret: the value of a ${VAR}
// or of a *_file. SECRETFILE in the input is the path of a file that
// holds the secret.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"app: /srv/x\n",
		"app: /srv/x\nthresholds: {max_pending: ${X}, stuck_after: \"${X}\"}\non_first_run: ${X}\nschedule: \"${X}\"\n",
		"app: /srv/x\nchannels:\n  - name: m\n    email:\n      host: h\n      password_file: SECRETFILE\n      password: x\n      from: a@b.c\n      to: [d@e.f]\n",
		"app: /srv/x\nchannels:\n  - name: w\n    webhook: {url: \"${X}\", secrets: ${X}}\n  - foo\n  - [a]\n",
		"apps:\n  - name: a\n    app: /srv/a\n    schedule: \"@every 1ms\"\n  - name: a\n    database: {url: \"pgsql://u:${X}@h/db\"}\n",
		"x: &a [1, 2, 3]\npaths: {operations: [*a, *a]}\n---\napp: y\n",
		"maintenance:\n  - schedule: \"${X} 3 * * *\"\n    duration: ${X}\nmute_max: ${X}\n",
		"app: /srv/x\nchannels:\n  - name: s\n    slack: {webhook_url_file: \"${X}\"}\nx_file: ${X}\n",
		"http: {listen: \"${X}:99999\", username: u, password_file: SECRETFILE}\nheartbeat: {url: \"${X}\"}\n",
		"channels:\n  - name: m\n    email:\n      to:\n        - &l0 [a, a, a, a, a, a, a, a, a]\n        - &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]\n        - &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]\n        - &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]\n        - &l4 [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]\n",
	} {
		f.Add(s)
	}
	secretFile := filepath.Join(f.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(fuzzSecret+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	getenv := func(string) string { return fuzzSecret }
	f.Fuzz(func(t *testing.T, doc string) {
		if len(doc) > 64<<10 || strings.Contains(doc, fuzzSecret) {
			return
		}
		data := []byte(strings.ReplaceAll(doc, "SECRETFILE", secretFile))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cfg, err := Parse("seqwatch.yaml", data, getenv)
		var said []string
		if err != nil {
			said = []string{err.Error()}
		} else {
			said = cfg.Validate()
			for _, a := range cfg.Applications() {
				_ = a.Settings()
			}
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(1024*len(data))+(64<<20) {
			t.Errorf("loading %d bytes allocated %d", len(data), grew)
		}
		for _, m := range said {
			if strings.Contains(m, fuzzSecret) {
				t.Errorf("a message carries the secret: %s", m)
			}
		}
	})
}
