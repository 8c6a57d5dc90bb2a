package alertmanager

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
)

// docsInhibitRules are the inhibit_rules of docs/fleet.md's example, as an
// operator copies them.
func docsInhibitRules(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "fleet.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^inhibit_rules:.*\n(?:  .*\n)+`).Find(b)
	if m == nil {
		t.Fatal("docs/fleet.md has no inhibit_rules block")
	}
	return string(m)
}

// stateOf is the state (active, suppressed) Alertmanager gives each alert,
// by alertname.
func stateOf(t *testing.T, a *am) map[string]string {
	t.Helper()
	resp, err := http.Get(a.url + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []gotAlert
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, al := range list {
		out[al.Labels["alertname"]] = al.Status.State
	}
	return out
}

// With the documentation's inhibition rule, a database that cannot be
// read mutes the application's other alerts (they are stale), but a
// discovery directory that does not exist does not: what the database
// says about failed operations is still true, and must still page.
func TestRealAlertmanagerInhibitsOnTheDatabaseNotOnAMissingDirectory(t *testing.T) {
	bin := alertmanagerBinary(t)
	a := startAlertmanager(t, bin, nullReceiver+docsInhibitRules(t), "")
	n, err := New(Config{URLs: []string{a.url}, EndsAfter: 4 * time.Minute}, nil, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	failed := failedEvent("operation.failed/2024_01_13_120000_FailedOperation/42", "2024_01_13_120000_FailedOperation", now)
	missing := notify.Event{ID: "ev-dir", Kind: notify.SourceUnreachable, Key: notify.FilesKeyPrefix + "/srv/shop/database/operations",
		App: "shop", Environment: "production", OccurredAt: now, Summary: "shop: /srv/shop/database/operations does not exist", Source: "no such directory"}
	if _, err := n.Notify(ctx, []notify.Event{failed, missing}); err != nil {
		t.Fatal(err)
	}
	testkit.Consistently(t, 2*time.Second, "the failure stays active beside a missing directory", func() (bool, string) {
		s := stateOf(t, a)
		return s[AlertOperationFailed] == "active" && s[AlertDirectoryMissing] == "active", strings.TrimSpace(strings.ReplaceAll(stringify(s), "\n", " "))
	})

	down := notify.Event{ID: "ev-db", Kind: notify.SourceUnreachable, Key: "source.unreachable", App: "shop", Environment: "production",
		OccurredAt: now, Summary: "cannot read shop", Source: "connection refused"}
	if _, err := n.Notify(ctx, []notify.Event{down}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the database being down mutes the failure", func() (bool, string) {
		s := stateOf(t, a)
		return s[AlertOperationFailed] == "suppressed" && s[AlertSourceUnreachable] == "active", stringify(s)
	})
}

func stringify(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}
