package teams

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// An exception message with the service's mention markup stays inert
// through a template: the receiver checks every text of the templated
// message as it checks the default one's. Preview shows the same body.
func TestTemplatedMessageKeepsMentionsInert(t *testing.T) {
	f := newFakeWorkflow(t)
	n := newNotifier(t, f)
	n.templates = notifytest.HostileTemplates(t)
	ev := hostileFailure("k")
	sent := notifytest.SendOne(t, n, f.Accepted, ev)
	if !strings.Contains(string(sent), "TEMPLATED") {
		t.Errorf("the template did not word the message:\n%s", sent)
	}
	notifytest.PreviewIsSent(t, n, sent, ev)
}
