package telegram

import (
	"testing"

	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsSentWithItsSummary(t *testing.T) {
	notifytest.CheckDeployFinished(t, func(t *testing.T) (notify.Notifier, func() [][]byte) {
		f := newFakeTelegram(t)
		// What Telegram shows: the text, tags dropped, entities decoded.
		return newNotifier(t, f), func() [][]byte {
			return notifytest.Bodies(f.messages(), func(m message) []byte { return []byte(m.plain) })
		}
	})
}
