package googlechat

import (
	"testing"

	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// An exception message with the service's mention markup stays inert
// through a template: the receiver checks every text of the templated
// message as it checks the default one's. Preview shows the same body.
func TestTemplatedMessageKeepsMentionsInert(t *testing.T) {
	f := newFakeChat(t)
	n := newNotifier(t, f)
	n.templates = notifytest.HostileTemplates(t)
	notifytest.SendTemplated(t, n, f.bodies, hostileFailure("k"))
}
