package notify

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestConsolePrintsADeployFinished(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 3, 14, 12, 1, 0, 0, time.UTC)
	ev := Event{ID: "evt_deploy_1", Kind: DeployFinished, Key: "deploy.finished/evt_deploy_1", App: "shop", OccurredAt: at,
		Summary: "deploy finished, OK: done in 42s: 5 completed", Deploy: &Deploy{Command: "php artisan sequencer:process", Status: "OK", Seconds: 42}}
	if _, err := NewConsole(&buf).Notify(context.Background(), []Event{ev}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "deploy finished, OK: done in 42s: 5 completed") {
		t.Fatalf("console printed %q", buf.String())
	}
}
