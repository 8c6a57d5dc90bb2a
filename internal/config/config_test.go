package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/notify/email"
	"github.com/seqwatch/seqwatch/notify/slack"
)

func TestExampleConfigIsValid(t *testing.T) {
	credDir := t.TempDir()
	os.WriteFile(filepath.Join(credDir, "smtp-password"), []byte("mail-Pa55word\n"), 0o600)
	t.Setenv("CREDENTIALS_DIRECTORY", credDir)
	env := map[string]string{
		"SLACK_WEBHOOK_URL":       "https://hooks.slack.com/services/T000/B000/slackSECRETtoken",
		"INCIDENT_WEBHOOK_URL":    "https://hooks.example.com/incident?token=hookTOKEN123",
		"INCIDENT_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}
	data, err := os.ReadFile("../../seqwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("seqwatch.yaml", data, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatalf("the example configuration has problems: %q", p)
	}
	if time.Duration(cfg.Thresholds.StuckAfter) != 30*time.Minute || cfg.Thresholds.MaxPending != 10 || len(cfg.Channels) != 4 {
		t.Errorf("decoded %+v", cfg.Thresholds)
	}
	if got := cfg.Channels[1].Config().(*email.Config).Password.Reveal(); got != "mail-Pa55word" {
		t.Errorf("password_file from $CREDENTIALS_DIRECTORY = %q", got)
	}
	if got := cfg.Channels[0].Config().(*slack.Config).WebhookURL.Reveal(); got != env["SLACK_WEBHOOK_URL"] {
		t.Errorf("${VAR} expansion = %q", got)
	}
	for _, secret := range []string{"slackSECRETtoken", "hookTOKEN123", "mail-Pa55word", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		found := false
		for _, s := range cfg.secrets {
			if strings.Contains(s, secret) {
				found = true
			}
		}
		if !found {
			t.Errorf("secret %q is not registered for redaction", secret)
		}
	}
}

func TestBadConfigurationIsNamedWithItsLine(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"malformed YAML", "app: /x\nthresholds:\n  max_pending: [1,\n", nil, "line 3: did not find expected node content"},
		{"unknown key", "app: /x\nthresholds:\n  max_pendng: 3\n", nil, `line 3: unknown key "max_pendng"`},
		{"unknown top-level key", "app: /x\nchanels: []\n", nil, `line 2: unknown key "chanels"`},
		{"wrong type", "app: /x\nthresholds:\n  max_pending: lots\n", nil, "line 3"},
		{"bad duration", "app: /x\nthresholds:\n  stuck_after: soon\n", nil, `line 3: thresholds.stuck_after: "soon" is not a duration`},
		{"unset variable", "app: /x\ndatabase:\n  url: ${NOPE_DSN}\n", nil, "line 3: database.url: environment variable NOPE_DSN is not set"},
		{"missing secret file", "app: /x\ndatabase:\n  url_file: /nonexistent/dsn\n", nil, "line 3: database.url_file: cannot read /nonexistent/dsn"},
		{"empty file", "", nil, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("seqwatch.yaml", []byte(tc.yaml), func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblemWithItsLine(t *testing.T) {
	yaml := `schedule: "every minute"
on_first_run: loud
thresholds:
  max_pending: -1
channels:
  - name: a
    webhook:
      url: http://example.com/hook
  - name: a
    console: {}
routes:
  - events: [operation.failed]
    channels: [nosuch]
`
	cfg, err := Parse("seqwatch.yaml", []byte(yaml), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	problems := strings.Join(cfg.Validate(), "\n")
	for _, want := range []string{
		"app: set app (the Laravel application root) or database.url",
		"line 1: schedule:",
		"line 2: on_first_run: must be digest or silent",
		"line 4: thresholds.max_pending: must be 0 (off) or more",
		"channels[0]: ",
		"https",
		`line 9: channels[1].name: channel name "a" is used twice`,
		`unknown channel "nosuch"`,
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
}

// A secret written in the wrong shape must not be echoed by the YAML error.
func TestTypeErrorsDoNotEchoValues(t *testing.T) {
	yaml := "app: /x\nchannels:\n  - name: hook\n    webhook:\n      url: https://example.com/h\n      secrets: hunter22-Sekr3t\n"
	_, err := Parse("seqwatch.yaml", []byte(yaml), func(string) string { return "" })
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "hunter22") || !strings.Contains(err.Error(), "line 6") {
		t.Errorf("error = %v", err)
	}
}
