package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("app: /srv/app\nchannels:\n  - name: out\n    console: {}\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("app: /srv/app\nstate:\n  pth: /tmp/x\n"), 0o644)
	if r := runCmd(t, nil, "validate", "--config", good); r.code != 0 || !strings.Contains(r.stdout, "is valid: 1 channel(s)") {
		t.Errorf("good config: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, nil, "validate", "--config", bad); r.code != 1 || !strings.Contains(r.stderr, `line 3: unknown key "pth"`) {
		t.Errorf("bad config: exit %d, %q", r.code, r.stderr)
	}
	if r := runCmd(t, nil, "validate"); r.code != 2 {
		t.Errorf("no --config: exit %d, want 2", r.code)
	}
}

// Flags override the configuration file, which overrides .env.
func TestFlagsOverrideFileOverridesEnv(t *testing.T) {
	app := demoApp(t)
	other := demoApp(t)
	cfgPath := filepath.Join(t.TempDir(), "seqwatch.yaml")
	os.WriteFile(cfgPath, []byte("app: "+app+"\nname: from-file\ndatabase:\n  timezone: Asia/Tokyo\nthresholds:\n  max_pending: 100\n"), 0o644)
	f := sourceFlags{config: cfgPath, maxPending: -1, stuckAfter: -1}
	src, th, err := f.resolve(t.Context(), env{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if src.Name != "from-file" || src.Location.String() != "Asia/Tokyo" || th.MaxPending != 100 {
		t.Errorf("file values not applied: name %q tz %s max %d", src.Name, src.Location, th.MaxPending)
	}
	f = sourceFlags{config: cfgPath, app: other, timezone: "UTC", maxPending: 3, stuckAfter: -1}
	src, th, err = f.resolve(t.Context(), env{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if src.OperationPaths[0] != filepath.Join(other, "database", "operations") || src.Location.String() != "UTC" || th.MaxPending != 3 {
		t.Errorf("flags did not override: paths %v tz %s max %d", src.OperationPaths, src.Location, th.MaxPending)
	}
}

// check and status read the application only: a channel secret that is not
// available on the monitoring host is no reason to answer UNKNOWN.
func TestCheckWithConfigDoesNotNeedChannelSecrets(t *testing.T) {
	app := demoApp(t)
	cfgPath := filepath.Join(t.TempDir(), "seqwatch.yaml")
	os.WriteFile(cfgPath, []byte("app: "+app+"\nchannels:\n  - name: slack\n    slack:\n      webhook_url: ${SEQWATCH_TEST_UNSET_SLACK_URL}\n  - name: mail\n    email:\n      host: smtp.example.com\n      password_file: /nonexistent/smtp-password\n      from: a@example.com\n      to: [b@example.com]\n"), 0o644)
	if r := runCmd(t, nil, "check", "--config", cfgPath); r.code != 2 || !strings.HasPrefix(r.stdout, "SEQWATCH CRITICAL") {
		t.Errorf("check: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, nil, "validate", "--config", cfgPath); r.code != 1 || !strings.Contains(r.stderr, "SEQWATCH_TEST_UNSET_SLACK_URL is not set") {
		t.Errorf("validate must still insist: exit %d %q", r.code, r.stderr)
	}
}

// validate --env-file sees the ${VAR}s the unit's EnvironmentFile gives
// the daemon, and says what is wrong with the file without its text.
func TestValidateReadsTheUnitsEnvironmentFile(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "seqwatch.yaml")
	os.WriteFile(cfgPath, []byte("app: /srv/app\nchannels:\n  - name: slack\n    slack:\n      webhook_url: ${SEQWATCH_TEST_ENVFILE_SLACK_URL}\n"), 0o644)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	const secret = "T000/B000/hunter2hunter2hunter2"
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		noSecret bool
	}{
		{name: "without it the variable is not set", args: nil, code: 1, stderr: "SEQWATCH_TEST_ENVFILE_SLACK_URL is not set"},
		{name: "with it the configuration is valid", args: []string{"--env-file", write("good.env", "# the unit's secrets\nSEQWATCH_TEST_ENVFILE_SLACK_URL=https://hooks.slack.com/services/"+secret+"&x=1\n")}, code: 0, stdout: "is valid: 1 channel(s)"},
		{name: "a file without the variable", args: []string{"--env-file", write("other.env", "OTHER=1\n")}, code: 1, stderr: "SEQWATCH_TEST_ENVFILE_SLACK_URL is not set"},
		{name: "a file that cannot be parsed names its line, not its text", args: []string{"--env-file", write("bad.env", "SEQWATCH_TEST_ENVFILE_SLACK_URL=\"https://hooks.slack.com/services/"+secret+"\n")}, code: 1, stderr: "environment file", noSecret: true},
		{name: "a missing file", args: []string{"--env-file", filepath.Join(dir, "missing.env")}, code: 1, stderr: "missing.env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, append([]string{"validate", "--config", cfgPath}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.stdout) || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, %q, %q", r.code, r.stdout, r.stderr, tc.code, tc.stdout, tc.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "hunter2") {
				t.Errorf("the output carries the secret: %q %q", r.stdout, r.stderr)
			}
		})
	}
}
