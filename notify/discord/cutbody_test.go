package discord

import (
	"context"
	"net/http"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// A 2xx answer that breaks off mid-body: the service took the message, so
// it is sent, neither retried (a second copy) nor dead-lettered.
func TestAnAnswerCutOffAfterItsStatusIsSent(t *testing.T) {
	srv := notifytest.NewCutBodyServer(t, http.StatusOK, `{"type": 0, "channel_id": "1", "id": "12`)
	n, err := New(Config{WebhookURL: notify.Secret(srv.URL + "/api/webhooks/1/tok")}, srv.Client(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Notify(context.Background(), []notify.Event{notifytest.Failure("shop/op")})
	if err != nil || retry {
		t.Fatalf("Notify: retry=%v err=%v, want it sent (the service answered 200)", retry, err)
	}
	if got := srv.Requests.Load(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}
