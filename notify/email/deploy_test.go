package email

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsMailedWithItsSummary(t *testing.T) {
	e := setup(t, authed(serveSTARTTLS), nil)
	m := notifyOne(t, e, notifytest.DeployFinished())
	if !strings.Contains(m.subject, "deploy finished, CRITICAL") || !strings.Contains(m.text, "CardException") || !strings.Contains(m.html, "CardException") {
		t.Fatalf("subject %q, text %q", m.subject, m.text)
	}
}
