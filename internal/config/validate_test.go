package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const console = "channels:\n  - name: c\n    console: {}\n"

// loadErrors is what loading and validating doc report, as one text: the
// load error, else the problems.
func loadErrors(t *testing.T, doc string) string {
	t.Helper()
	cfg, err := Parse("seqwatch.yaml", []byte(doc), func(string) string { return "" })
	if err != nil {
		return err.Error()
	}
	return strings.Join(cfg.Validate(), "\n")
}

// Each of these was "valid", or reported less than the truth.
func TestValidationTellsTheTruth(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(secretFile, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string
		not        []string
	}{
		{"several YAML documents", "app: /srv/x\n" + console + "---\nschedule: nope\n",
			[]string{"line 5:", "second YAML document", "one document"}, nil},
		{"several documents, the first empty", "---\n---\napp: /srv/x\n", []string{"line 2:", "second YAML document"}, nil},
		{"@every under a second", "app: /srv/x\nschedule: \"@every 1ms\"\n" + console,
			[]string{"line 2: schedule:", "1s or more"}, nil},
		{"@every 0s", "app: /srv/x\nschedule: \"@every 0s\"\n" + console, []string{"line 2: schedule:", "1s or more"}, nil},
		{"@every -1s", "app: /srv/x\nschedule: \"@every -1s\"\n" + console, []string{"line 2: schedule:", "1s or more"}, nil},
		{"@every under a second in an application", "apps:\n  - name: a\n    app: /srv/x\n    schedule: \"@every 500ms\"\n" + console,
			[]string{"line 4: apps[0].schedule:", "1s or more"}, nil},
		{"a schedule that never fires", "app: /srv/x\nschedule: \"0 0 30 2 *\"\n" + console,
			[]string{"line 2: schedule:", "within a year"}, nil},
		{"a schedule that fires only in leap years", "app: /srv/x\nschedule: \"0 0 29 2 *\"\n" + console,
			[]string{"line 2: schedule:", "within a year"}, nil},
		{"a maintenance window that never starts", "app: /srv/x\n" + console + "maintenance:\n  - schedule: \"0 3 31 4 *\"\n    duration: 1h\n",
			[]string{"line 6: maintenance[0].schedule:", "within a year"}, nil},
		{"a port out of range", "app: /srv/x\nhttp:\n  listen: 127.0.0.1:99999\n" + console,
			[]string{"line 3: http.listen:", "99999", "65535"}, nil},
		{"a port that is not a number", "app: /srv/x\nhttp:\n  listen: 127.0.0.1:nine\n" + console,
			[]string{"line 3: http.listen:"}, nil},
		{"an empty list of channels", "app: /srv/x\nchannels: []\n",
			[]string{"line 2: channels:", "add a channel", "leave channels: out"}, nil},
		{"channels: with nothing under it", "app: /srv/x\nchannels:\n", []string{"line 2: channels:", "add a channel"}, nil},
		{"password beside password_file",
			"app: /srv/x\nchannels:\n  - name: m\n    email:\n      host: h\n      from: a@b.c\n      to: [d@e.f]\n      password: typed-Secret-1\n      password_file: " + secretFile + "\n",
			[]string{"line 9: channels[0].email.password_file:", "password (line 8)", "keep one"}, []string{"already defined", "typed-Secret-1", "from-the-file"}},
		{"password_file before password", "app: /srv/x\nhttp:\n  username: u\n  password_file: " + secretFile + "\n  password: typed-Secret-1\n",
			[]string{"line 4: http.password_file:", "password (line 5)", "keep one"}, []string{"already defined", "typed-Secret-1", "from-the-file"}},
		{"every type error at once", "app: /srv/x\nthresholds:\n  stuck_after: soon\n  max_pending: lots\nreconcile: zz\nconcurrency: x\n" + console,
			[]string{`line 3: thresholds.stuck_after: "soon" is not a duration`, "line 4: thresholds.max_pending:", `line 5: reconcile: "zz" is not a duration`, "line 6: concurrency:"}, nil},
		{"a type error says the key and the type in words", "app: /srv/x\nthresholds:\n  max_pending: lots\n" + console,
			[]string{"line 3: thresholds.max_pending: must be a whole number, not text"}, []string{"cannot", "unmarshal", "into int", "lots"}},
		{"a type error in a flow mapping", "app: /srv/x\nthresholds: {stuck_after: 1m, max_pending: true}\n" + console,
			[]string{"line 2: thresholds.max_pending: must be a whole number, not true or false"}, nil},
		{"a list where text belongs", "app: [a, b]\n" + console, []string{"line 1: app: must be text, not a list"}, nil},
		{"a secret where a list belongs", "app: /srv/x\nchannels:\n  - name: w\n    webhook:\n      url: https://h.example.com/x\n      secrets: hunter22-Sekr3t\n",
			[]string{"line 6: channels[0].webhook.secrets: must be a list, not text"}, []string{"hunter22"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := loadErrors(t, tc.yaml)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("has %q:\n%s", n, got)
				}
			}
		})
	}
}

// What the checks above refuse must not catch what is fine.
func TestValidSchedulesAndListenersStayValid(t *testing.T) {
	for _, doc := range []string{
		"app: /srv/x\nschedule: \"@every 1s\"\n" + console,
		"app: /srv/x\nschedule: \"@every 90s\"\n" + console,
		"app: /srv/x\nschedule: \"0 0 1 1 *\"\n" + console,
		"app: /srv/x\nschedule: \"0 0 13 * 5\"\n" + console,
		"app: /srv/x\nschedule: \"@yearly\"\n" + console,
		"app: /srv/x\nschedule: \"CRON_TZ=Europe/Berlin 0 3 * * SUN\"\n" + console,
		"app: /srv/x\nhttp:\n  listen: 127.0.0.1:9477\n" + console,
		"app: /srv/x\nhttp:\n  listen: \"[::1]:65535\"\n" + console,
		"app: /srv/x\nhttp:\n  listen: :9477\n" + console,
		"app: /srv/x\n",
		"---\napp: /srv/x\n" + console,
		"app: /srv/x\n" + console + "maintenance:\n  - schedule: \"0 3 * * SUN\"\n    duration: 2h\n",
	} {
		if got := loadErrors(t, doc); got != "" {
			t.Errorf("%q: %s", doc, got)
		}
	}
}

// An application whose .env check and the daemon could not read is not
// valid; the problem names the line of the .env, never its text.
func TestValidateReadsTheApplicationsEnvFile(t *testing.T) {
	const pw = "env-Pa55!word"
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, ".env"), []byte("APP_NAME=shop\nthis is garbage\nDB_PASSWORD="+pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fine := t.TempDir()
	if err := os.WriteFile(filepath.Join(fine, ".env"), []byte("DB_CONNECTION=sqlite\nDB_PASSWORD="+pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "elsewhere")
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"one application", "app: " + broken + "\n" + console, "line 1: app: " + broken + "/.env is not a valid .env file: line 2, column 16: the line has no ="},
		{"one of several", "apps:\n  - name: a\n    app: " + fine + "\n  - name: b\n    app: " + broken + "\n" + console, "line 5: apps[1].app: " + broken + "/.env is not a valid .env file: line 2"},
		{"a readable .env", "app: " + fine + "\n" + console, ""},
		{"an application that is not on this host", "app: " + missing + "\n" + console, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := loadErrors(t, tc.yaml)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
			if strings.Contains(got, pw) || strings.Contains(got, "garbage") {
				t.Errorf("the problem quotes the .env: %s", got)
			}
		})
	}
}

// A value from ${VAR} written where it does not belong is not quoted back,
// even where a message quotes the value with escapes (%q).
func TestProblemsNeverQuoteAValueFromTheEnvironment(t *testing.T) {
	const secret = "env-Secret\"value"
	getenv := func(string) string { return secret }
	for _, doc := range []string{
		"app: /srv/x\non_first_run: \"${SEQ}\\t\"\n",
		"app: /srv/x\nschedule: \"${SEQ} x\"\n",
		"app: /srv/x\nthresholds:\n  stuck_after: \"${SEQ}\\t\"\n",
		"app: /srv/x\nmaintenance:\n  - schedule: \"${SEQ}\"\n    duration: 1h\n",
	} {
		cfg, err := Parse("seqwatch.yaml", []byte(doc), getenv)
		said := ""
		if err != nil {
			said = err.Error()
		} else {
			said = strings.Join(cfg.Validate(), "\n")
		}
		if said == "" {
			t.Errorf("%q: no problem reported", doc)
		}
		if strings.Contains(said, "env-Secret") {
			t.Errorf("%q: the value is quoted: %s", doc, said)
		}
	}
}
