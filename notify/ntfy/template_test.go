package ntfy

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// An exception message with the service's mention markup stays inert
// through a template: the receiver checks every text of the templated
// message as it checks the default one's. Preview shows the same body.
func TestTemplatedMessageKeepsMentionsInert(t *testing.T) {
	f := newFakeNtfy(t, "")
	n := newNotifier(t, f, Config{})
	n.templates = notifytest.HostileTemplates(t)
	notifytest.SendTemplated(t, n, f.bodies, hostileFailure("k"))
	if title := f.Accepted()[0].title; !strings.HasPrefix(title, "TEMPLATED ") {
		t.Errorf("title %q is not the template's", title)
	}
}

// bodies are the bodies of the notifications f accepted.
func (f *fakeNtfy) bodies() [][]byte {
	return notifytest.Bodies(f.Accepted(), func(m published) []byte { return []byte(m.body) })
}
