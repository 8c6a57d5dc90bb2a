package config

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/seqwatch/seqwatch/notify/alertmanager"
	"github.com/seqwatch/seqwatch/notify/email"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/notify/webhook"
)

// Channel entries are decoded per channel type, yet every line number is
// what a decode of the whole file into fixed fields reported (the lines
// were taken from that code), and every decoding error names its key and
// the type it wants in words.
func TestChannelEntryErrorsKeepWordingAndLines(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key in a type", "app: /x\nchannels:\n  - name: s\n    slack:\n      webhook_urll: x\n",
			`line 5: unknown key "webhook_urll"`},
		{"unknown key beside the type", "app: /x\nchannels:\n  - name: s\n    foo: 1\n    console: {}\n",
			`line 4: unknown key "foo"`},
		{"nested unknown key", "app: /x\nchannels:\n  - name: am\n    alertmanager:\n      urls: [http://localhost:9093]\n      basic_auth:\n        username: u\n        pasword: p\n",
			`line 8: unknown key "pasword"`},
		{"bad duration in a type", "app: /x\nchannels:\n  - name: m\n    email:\n      host: h\n      timeout: abc\n      from: a@b.c\n",
			"line 6: channels[0].email.timeout: must be a duration such as 30s, 15m or 1h30m, not text"},
		{"secret given as text, not a list", "app: /x\nchannels:\n  - name: hook\n    webhook:\n      url: https://example.com/h\n      secrets: hunter22-Sekr3t\n",
			"line 6: channels[0].webhook.secrets: must be a list, not text"},
		{"entry that is not a mapping", "app: /x\nchannels:\n  - foo\n  - [a, b]\n",
			"line 3: channels[0]: must be a channel entry (a mapping with name: and one channel type), not text\n  line 4: channels[1]: must be a channel entry (a mapping with name: and one channel type), not a list"},
		{"type given twice", "app: /x\nchannels:\n  - name: s\n    slack:\n      webhook_url: https://hooks.slack.com/services/a\n    slack:\n      token: xoxb-1\n",
			`line 6: mapping key "slack" already defined at line 4`},
		{"name given twice", "app: /x\nchannels:\n  - name: s\n    name: t\n    console: {}\n",
			`line 4: mapping key "name" already defined at line 3`},
		{"errors in document order across a block scalar", "app: /x\nchannels:\n  - name: m\n    email:\n      ca: |\n        line one\n        line two\n\n        line four\n      hots: h\n    rate_per_second: abc\nthresholds:\n  max_pendin: 3\n",
			"line 10: unknown key \"hots\" (check its spelling and indentation against the example seqwatch.yaml)\n  line 11: channels[0].rate_per_second: must be a number, not text\n  line 13: unknown key \"max_pendin\""},
		{"errors in the name and the type", "app: /x\nchannels:\n  - name: [a]\n    slack:\n      timeout: 1x\n      channel: {a: 1}\n",
			"line 3: channels[0].name: must be text, not a list\n  line 5: channels[0].slack.timeout: must be a duration such as 30s, 15m or 1h30m, not text\n  line 6: channels[0].slack.channel: must be text, not a mapping"},
		{"flow style", "app: /x\nchannels: [{name: a, console: {}}, {name: b, slack: {tokn: 1}}]\n",
			`line 2: unknown key "tokn"`},
		{"top-level duration after a channel", "app: /x\nchannels:\n  - name: s\n    webhook:\n      url: https://x.example.com/\n      timeout: 3\nreconcile: zz\n",
			"line 6: channels[0].webhook.timeout: must be a duration such as 30s, 15m or 1h30m, not a whole number\n  line 7: reconcile: \"zz\" is not a duration"},
		{"alias to an anchor outside the channels", "app: /x\nx-common: &c\n  host: h\nchannels:\n  - name: m\n    email: *c\n",
			`line 2: unknown key "x-common"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("seqwatch.yaml", []byte(tt.yaml), func(string) string { return "" })
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "seqwatch.yaml: "+tt.want) {
				t.Errorf("error =\n%v\nwant it to start with\nseqwatch.yaml: %s", err, tt.want)
			}
		})
	}
}

// Validation of the channel entries still names the entry and its line.
func TestChannelEntryValidation(t *testing.T) {
	// The list of types grows with the registry; the wording stays.
	oneOf := "give exactly one of " + ChannelTypes().Choices()
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"no type, and a type with nothing under it",
			"app: /x\nchannels:\n  - name: s\n    rate_per_second: 2\n  - name: t\n    slack:\n",
			[]string{
				"line 3: channels[0]: " + oneOf + " (got 0)",
				"line 5: channels[1]: " + oneOf + " (got 0)",
			}},
		{"two types", "app: /x\nchannels:\n  - name: s\n    console: {}\n    email:\n      host: h\n",
			[]string{"line 3: channels[0]: " + oneOf + " (got 2)"}},
		{"each type validates itself",
			"app: /x\nchannels:\n  - name: s\n    slack:\n      webhook_url: http://hooks.example.com/x\n  - name: w\n    webhook:\n      url: ftp://x\n      secrets: [whsec_!!]\n",
			[]string{
				`line 3: channels[0]: slack.webhook_url: must be an https URL (got scheme "http" for a non-local host)`,
				`line 6: channels[1]: url: scheme must be http or https (got "ftp"); write it as https://receiver.example.com/hooks/seqwatch`,
				"line 6: channels[1]: secrets[0]: the part after whsec_ is not valid base64; copy the whole secret again, or use a plain string without the whsec_ prefix",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("seqwatch.yaml", []byte(tt.yaml), func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Validate(); !slices.Equal(got, tt.want) {
				t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// legacyChannel is the channel entry as a struct with one field per type,
// as seqwatch stored it before the registry: configHash must hash the same,
// or a channel disabled by its peer (410 Gone) would be re-enabled by an
// upgrade.
type legacyChannel struct {
	Name          string               `yaml:"name"`
	Slack         *slack.Config        `yaml:"slack"`
	Email         *email.Config        `yaml:"email"`
	Webhook       *webhook.Config      `yaml:"webhook"`
	Console       *struct{}            `yaml:"console"`
	Alertmanager  *alertmanager.Config `yaml:"alertmanager"`
	RatePerSecond float64              `yaml:"rate_per_second"`
}

func TestChannelConfigHashMatchesTheFixedFieldLayout(t *testing.T) {
	doc := `app: /x
channels:
  - name: s
    slack:
      webhook_url: https://hooks.slack.com/services/T0/B0/abc
      timeout: 5s
  - name: b
    slack:
      token: xoxb-123
      channel: C012345
    rate_per_second: 0.5
  - name: m
    email: &mail
      host: smtp.example.com
      password: "p: w"
      from: a@example.com
      to: [b@example.com, c@example.com]
  - name: m2
    email: *mail
  - name: w
    webhook:
      url: https://hooks.example.com/x?token=1
      secrets: [whsec_c2VjcmV0, plain-secret]
      headers: {X-Team: payments}
  - name: c
    console: {}
  - name: am
    alertmanager:
      urls: [http://localhost:9093]
      basic_auth: {username: u, password: pw}
      labels: {team: a}
      ends_after: 10m
`
	cfg, err := Parse("seqwatch.yaml", []byte(doc), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var legacy struct {
		Channels []legacyChannel `yaml:"channels"`
	}
	if err := yaml.Unmarshal([]byte(doc), &legacy); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Channels) != len(legacy.Channels) {
		t.Fatalf("%d channels, legacy %d", len(cfg.Channels), len(legacy.Channels))
	}
	for i, ch := range cfg.Channels {
		data, err := yaml.Marshal(legacy.Channels[i])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if want := hex.EncodeToString(sum[:16]); ch.ConfigHash() != want {
			again, _ := yaml.Marshal(ch)
			t.Errorf("channel %s: hash %s, fixed-field layout %s\nnow:\n%s\nthen:\n%s", ch.Name, ch.ConfigHash(), want, again, data)
		}
	}
}

// Each channel type declares its secrets; they are scrubbed even when
// written into the file as they are (not from ${VAR} or *_file).
func TestEveryChannelTypesSecretsAreScrubbed(t *testing.T) {
	doc := `app: /x
channels:
  - name: s
    slack: {webhook_url: "https://hooks.slack.com/services/T0/B0/slackHOOKsecret"}
  - name: b
    slack: {token: xoxb-slackTOKENsecret, channel: C1}
  - name: m
    email: {host: h, password: mailPASSWORDsecret, from: a@b.c, to: [d@e.f]}
  - name: w
    webhook: {url: "https://h.example.com/hookURLsecret", secrets: [hookSIGNINGsecret]}
  - name: am
    alertmanager: {urls: ["http://localhost:9093"], bearer_token: amBEARERsecret}
  - name: am2
    alertmanager: {urls: ["http://localhost:9093"], basic_auth: {username: u, password: amBASICsecret}}
  - name: d
    discord: {webhook_url: "https://discord.com/api/webhooks/123456789012345678/discordTOKENsecret"}
  - name: t
    teams: {webhook_url: "https://prod-1.westeurope.logic.azure.com/workflows/a/triggers/manual/paths/invoke?sig=teamsSIGsecret"}
  - name: g
    googlechat: {webhook_url: "https://chat.googleapis.com/v1/spaces/A/messages?key=gchatKEYsecret&token=gchatTOKENsecret"}
  - name: n
    ntfy: {url: "https://ntfy.sh/ntfyTOPICsecret", token: tk_ntfyTOKENsecret}
  - name: n2
    ntfy: {url: "https://ntfy.sh/x1y2", username: u, password: ntfyPASSWORDsecret}
  - name: tg
    telegram: {bot_token: "123456:tgTOKENsecret", chat_id: "-100123"}
  - name: pd
    pagerduty: {routing_key: pdROUTINGsecret0123456789abcdefg}
  - name: og
    opsgenie: {api_key: ogAPIKEYsecret, region: eu}
`
	cfg, err := Parse("seqwatch.yaml", []byte(doc), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"slackHOOKsecret", "xoxb-slackTOKENsecret", "mailPASSWORDsecret", "hookURLsecret", "hookSIGNINGsecret", "amBEARERsecret", "amBASICsecret",
		"discordTOKENsecret", "teamsSIGsecret", "gchatKEYsecret", "gchatTOKENsecret", "ntfyTOPICsecret", "tk_ntfyTOKENsecret", "ntfyPASSWORDsecret",
		"tgTOKENsecret", "pdROUTINGsecret0123456789abcdefg", "ogAPIKEYsecret"} {
		if !slices.ContainsFunc(cfg.secrets, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("%s is not among the secrets to scrub", want)
		}
	}
}

// status and check relax the ${VAR} and *_file values inside a channel
// type's configuration, and nothing else.
func TestReadOnlyLoadingRelaxesChannelTypesOnly(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantErr    string
	}{
		{"unset variable in a channel secret", "app: /x\nchannels:\n  - name: s\n    slack:\n      webhook_url: ${H10_UNSET}\n", ""},
		{"unreadable file in a channel", "app: /x\nchannels:\n  - name: m\n    email:\n      host: h\n      password_file: /nonexistent/pw\n      ca_file: /nonexistent/ca\n", ""},
		{"unset variable in a list of secrets", "app: /x\nchannels:\n  - name: w\n    webhook:\n      url: https://x.example.com/\n      secrets: ['${H10_UNSET}']\n", ""},
		{"unset variable in a Telegram token", "app: /x\nchannels:\n  - name: tg\n    telegram:\n      bot_token: ${H10_UNSET}\n      chat_id: '-100123'\n", ""},
		{"unreadable PagerDuty key file", "app: /x\nchannels:\n  - name: pd\n    pagerduty:\n      routing_key_file: /nonexistent/pd\n", ""},
		{"unset variable in a nested secret", "app: /x\nchannels:\n  - name: am\n    alertmanager:\n      urls: [http://localhost:9093]\n      basic_auth: {username: u, password: '${H10_UNSET}'}\n", ""},
		{"unset variable in the database URL", "app: /x\ndatabase:\n  url: ${H10_UNSET}\nchannels:\n  - name: s\n    slack:\n      webhook_url: ${H10_UNSET}\n",
			"line 3: database.url: environment variable H10_UNSET is not set"},
		{"unset variable in a key that only looks like a channel", "app: /x\nchannelsx:\n  a: ${H10_UNSET}\n",
			"line 3: channelsx.a: environment variable H10_UNSET is not set"},
	}
	getenv := func(string) string { return "" }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(context.Background(), "seqwatch.yaml", []byte(tt.yaml), getenv, true)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("read-only loading failed: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
			if tt.wantErr == "" {
				if _, err := parse(context.Background(), "seqwatch.yaml", []byte(tt.yaml), getenv, false); err == nil {
					t.Error("strict loading accepted the missing value")
				}
			}
		})
	}
}

// A channel stays disabled until its configuration changes, secrets
// included; the same configuration hashes the same.
func TestChannelConfigHashFollowsTheConfiguration(t *testing.T) {
	hash := func(secret, url string) string {
		cfg, err := Parse("/x/seqwatch.yaml", []byte(fmt.Sprintf("app: /srv/app\nchannels:\n  - name: hook\n    webhook:\n      url: %q\n      secrets: [%q]\n", url, secret)), os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Channels[0].ConfigHash()
	}
	base := hash("secret-one-aaaa", "https://hooks.example.com/a")
	if again := hash("secret-one-aaaa", "https://hooks.example.com/a"); again != base {
		t.Error("the same configuration hashed differently")
	}
	if hash("secret-two-bbbb", "https://hooks.example.com/a") == base {
		t.Error("a new signing secret did not change the hash")
	}
	if hash("secret-one-aaaa", "https://hooks.example.com/b") == base {
		t.Error("a new URL did not change the hash")
	}
	if strings.Contains(base, "secret") || len(base) != 32 {
		t.Errorf("hash %q", base)
	}
}

func TestAlertmanagerChannelConfiguration(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "am-token")
	if err := os.WriteFile(tokenFile, []byte("am-T0ken-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		channel string
		want    []string // substrings of the problems; none: valid
	}{
		{"loopback http needs no other key", "urls: [http://127.0.0.1:9093, http://localhost:9094]", nil},
		{"private http with allow_http", "urls: [http://10.1.2.3:9093]\n      allow_http: true", nil},
		{"private http says that plain http is common and how to allow it", "urls: [http://10.1.2.3:9093]",
			[]string{"channels[0]", "line 3", "private network", "allow_http: true"}},
		{"token from a file, never shown", "urls: [http://127.0.0.1:9093]\n      bearer_token_file: " + tokenFile + "\n      basic_auth: {username: u, password: pw-123456}",
			[]string{"not both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "app: /srv/shop\nchannels:\n  - name: am\n    alertmanager:\n      " + tt.channel + "\n"
			cfg, err := Parse("seqwatch.yaml", []byte(yaml), func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			problems := strings.Join(cfg.Validate(), "\n")
			if len(tt.want) == 0 && problems != "" {
				t.Fatalf("problems: %s", problems)
			}
			for _, w := range tt.want {
				if !strings.Contains(problems, w) {
					t.Errorf("problems %q lack %q", problems, w)
				}
			}
			if strings.Contains(problems, "am-T0ken-from-file") || strings.Contains(problems, "pw-123456") {
				t.Errorf("a secret is shown: %s", problems)
			}
			if tt.name == "token from a file, never shown" && !slices.Contains(cfg.secrets, "am-T0ken-from-file") {
				t.Errorf("the token is not registered for redaction: %q", cfg.secrets)
			}
		})
	}
}

// A channel type added after the fixed-field layout appears only in the
// entries that give it: the old entries' hashes stay, and a new entry's
// hash follows its own configuration, secrets included.
func TestNewChannelTypesHashOnlyWhereGiven(t *testing.T) {
	parse := func(doc string) Channel {
		t.Helper()
		cfg, err := Parse("seqwatch.yaml", []byte("app: /x\nchannels:\n"+doc), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Channels[0]
	}
	hook := parse("  - name: w\n    webhook: {url: \"https://h.example.com/x\"}\n")
	data, err := yaml.Marshal(hook)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"telegram", "pagerduty", "opsgenie"} {
		if strings.Contains(string(data), key) {
			t.Errorf("a webhook entry writes %s: for its hash:\n%s", key, data)
		}
	}
	a := parse("  - name: pd\n    pagerduty: {routing_key: R0123456789abcdef0123456789abcde}\n")
	b := parse("  - name: pd\n    pagerduty: {routing_key: R0123456789abcdef0123456789abcdX}\n")
	if a.ConfigHash() == b.ConfigHash() || a.ConfigHash() != parse("  - name: pd\n    pagerduty: {routing_key: R0123456789abcdef0123456789abcde}\n").ConfigHash() {
		t.Error("a PagerDuty entry's hash does not follow its routing key, or is not stable")
	}
}

// The commented examples of the Telegram, PagerDuty and Opsgenie channels
// in seqwatch.yaml are valid once uncommented.
func TestCommentedPagerAndTelegramExamplesValidate(t *testing.T) {
	data, err := os.ReadFile("../../seqwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "# ---- Telegram, PagerDuty and Opsgenie")
	if !ok {
		t.Fatal("seqwatch.yaml has no Telegram, PagerDuty and Opsgenie block")
	}
	block, _, _ = strings.Cut(block, "\n# ")
	var doc strings.Builder
	doc.WriteString("app: /x\nchannels:\n")
	for _, line := range strings.Split(block, "\n") {
		if rest, ok := strings.CutPrefix(line, "  # "); ok && (strings.HasPrefix(rest, "- ") || strings.HasPrefix(rest, " ")) {
			doc.WriteString("  " + rest + "\n")
		}
	}
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN":    "123456789:AAexampleTOKEN",
		"PAGERDUTY_ROUTING_KEY": "R0123456789abcdef0123456789abcde",
		"OPSGENIE_API_KEY":      "eb243592-faa2-4ba2-a551-1afdf565c889",
	}
	cfg, err := Parse("seqwatch.yaml", []byte(doc.String()), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("%v\n%s", err, doc.String())
	}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatalf("the examples have problems: %q\n%s", p, doc.String())
	}
	var got []string
	for _, ch := range cfg.Channels {
		got = append(got, fmt.Sprintf("%s %T", ch.Name, ch.Config()))
	}
	if want := []string{"telegram *telegram.Config", "pagerduty *pagerduty.Config", "opsgenie *opsgenie.Config"}; !slices.Equal(got, want) {
		t.Errorf("channels %q, want %q", got, want)
	}
}
