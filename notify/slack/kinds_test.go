package slack

import (
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/notify"
)

// Every kind the daemon sends has a title of its own, not its raw name.
func TestEveryKindHasATitle(t *testing.T) {
	for _, k := range []notify.Kind{
		notify.OperationFailed, notify.OperationRecovered, notify.OperationStuck, notify.OperationUnstuck,
		notify.OperationRolledBack, notify.PendingThreshold, notify.PendingCleared, notify.DeferredFailed,
		notify.DeferredStuck, notify.DeferredOverdue, notify.SourceUnreachable, notify.SourceRecovered,
		notify.Digest, notify.Reminder, notify.Test,
	} {
		emoji, title := titleOf(k)
		if emoji == ":information_source:" || strings.Contains(title, string(k)) {
			t.Errorf("%s has no title of its own: %s %q", k, emoji, title)
		}
	}
}
