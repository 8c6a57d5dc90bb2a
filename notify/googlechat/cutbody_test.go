package googlechat

import (
	"net/http"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// A 2xx answer that breaks off mid-body: the service took the message, so
// it is sent, neither retried (a second copy) nor dead-lettered.
func TestAnAnswerCutOffAfterItsStatusIsSent(t *testing.T) {
	srv := notifytest.NewCutBodyServer(t, http.StatusOK, `{"name": "spaces/AAA/mess`)
	n, err := New(Config{WebhookURL: notify.Secret(srv.URL + "/v1/spaces/AAA/messages?key=k&token=t")}, srv.Client(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.CheckSentOnce(t, n)
}
