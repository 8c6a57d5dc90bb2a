package config

import (
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/alertmanager"
	"github.com/seqwatch/seqwatch/notify/discord"
	"github.com/seqwatch/seqwatch/notify/email"
	"github.com/seqwatch/seqwatch/notify/googlechat"
	"github.com/seqwatch/seqwatch/notify/ntfy"
	"github.com/seqwatch/seqwatch/notify/opsgenie"
	"github.com/seqwatch/seqwatch/notify/pagerduty"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/notify/teams"
	"github.com/seqwatch/seqwatch/notify/telegram"
	"github.com/seqwatch/seqwatch/notify/webhook"
)

// BuildChannels builds every type from the registry with one constructor
// shape; Slack's default rate applies unless the entry sets one.
func TestBuildChannelsBuildsEveryType(t *testing.T) {
	doc := `app: /x
channels:
  - name: s
    slack: {webhook_url: "https://hooks.slack.com/services/T0/B0/x"}
  - name: b
    slack: {token: xoxb-1, channel: C1}
    rate_per_second: 3
  - name: m
    email: {host: smtp.example.com, from: a@b.c, to: [d@e.f]}
  - name: w
    webhook: {url: "https://h.example.com/x"}
    rate_per_second: 0.5
  - name: c
    console: {}
  - name: am
    alertmanager: {urls: ["http://localhost:9093"]}
  - name: d
    discord: {webhook_url: "https://discord.com/api/webhooks/123456789012345678/x"}
  - name: t
    teams: {webhook_url: "https://prod-1.westeurope.logic.azure.com/workflows/a/triggers/manual/paths/invoke?sig=x"}
  - name: g
    googlechat: {webhook_url: "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t"}
  - name: n
    ntfy: {url: "https://ntfy.sh/shop-alerts"}
  - name: tg
    telegram: {bot_token: "123456:AAtoken", chat_id: "-1001234567890", message_thread_id: 7}
  - name: pd
    pagerduty: {routing_key: R0123456789abcdef0123456789abcde}
  - name: og
    opsgenie: {api_key: og-key, region: eu}
    rate_per_second: 0.25
`
	cfg, err := Parse("seqwatch.yaml", []byte(doc), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	got, rates, err := cfg.TopLevel().BuildChannels(notify.Deps{Client: &http.Client{}, Now: now, Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string]notify.Notifier{
		"s": (*slack.Notifier)(nil), "b": (*slack.Notifier)(nil), "m": (*email.Notifier)(nil),
		"w": (*webhook.Notifier)(nil), "c": (*notify.Console)(nil), "am": (*alertmanager.Notifier)(nil),
		"d": (*discord.Notifier)(nil), "t": (*teams.Notifier)(nil), "g": (*googlechat.Notifier)(nil), "n": (*ntfy.Notifier)(nil),
		"tg": (*telegram.Notifier)(nil), "pd": (*pagerduty.Notifier)(nil), "og": (*opsgenie.Notifier)(nil),
	}
	if len(got) != len(wantTypes) {
		t.Errorf("built %d channels, want %d", len(got), len(wantTypes))
	}
	for name, want := range wantTypes {
		if reflect.TypeOf(got[name]) != reflect.TypeOf(want) {
			t.Errorf("channel %s is a %T, want %T", name, got[name], want)
		}
	}
	if want := map[string]float64{"s": 1, "b": 3, "w": 0.5, "d": 0.5, "t": 1, "g": 1, "n": 0.2, "tg": 15.0 / 60, "pd": 2, "og": 0.25}; !reflect.DeepEqual(rates, want) {
		t.Errorf("rates = %v, want %v", rates, want)
	}
}
