package notify

import (
	"net/http"
	"strings"
	"testing"
)

func TestPreviewTargetRedactsTheCredentialOnly(t *testing.T) {
	cases := []struct {
		name, url string
		secrets   []string
		want      string
	}{
		{"a webhook token in the path", "https://discord.com/api/webhooks/123/SECRETtoken?wait=true",
			URLSecrets("https://discord.com/api/webhooks/123/SECRETtoken"), "https://discord.com/api/webhooks/123/<redacted>?wait=true"},
		{"a signature in the query", "https://prod.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGvalue123",
			URLSecrets("https://prod.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGvalue123"),
			// URLSecrets holds a Workflows URL's path and every query value
			// for secrets: the whole URL is the credential.
			"https://prod.westeurope.logic.azure.com<redacted>?api-version=<redacted>&sig=<redacted>"},
		{"a bot token", "https://api.telegram.org/bot123:ABCdef/sendMessage", []string{"https://api.telegram.org/bot123:ABCdef/sendMessage", "bot123:ABCdef", "123:ABCdef"},
			"https://api.telegram.org/bot<redacted>/sendMessage"},
		{"a short topic that is the whole secret", "https://ntfy.sh/alerts", URLSecrets("https://ntfy.sh/alerts"), "https://ntfy.sh/<redacted>"},
		{"nothing secret", "https://events.pagerduty.com/v2/enqueue", []string{"routingkey"}, "https://events.pagerduty.com/v2/enqueue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := PreviewTarget(c.url, c.secrets...); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestPreviewHTTPDropsCredentials(t *testing.T) {
	req, err := http.NewRequest(http.MethodPost, "https://ntfy.example.com/alerts", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tk_secret")
	req.Header.Set("Title", "shop tk_secret")
	p, err := PreviewHTTP(req, []string{"tk_secret"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Get("Authorization") != "" || p.Header.Get("Title") != "shop <redacted>" || string(p.Body) != "body" || p.Method != "POST" {
		t.Errorf("preview = %+v", p)
	}
}
