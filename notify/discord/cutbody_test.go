package discord

import (
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
	srv.CheckSentOnce(t, n)
}
