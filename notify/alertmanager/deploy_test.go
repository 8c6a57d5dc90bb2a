package alertmanager

import (
	"context"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// A deploy's report is no alert: nothing is posted, and the call succeeds.
func TestDeployFinishedPostsNoAlert(t *testing.T) {
	p := newPeer(t, 200, "")
	n, err := New(Config{URLs: []string{p.srv.URL}}, nil, fixed(baseTime()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), []notify.Event{notifytest.DeployFinished()}); err != nil {
		t.Fatal(err)
	}
	if posts := p.posts(); len(posts) != 0 {
		t.Fatalf("posted %v, want nothing", posts)
	}
}
