package telegram

import (
	"sync"
	"time"
)

// Telegram takes about 20 messages a minute to one group (its FAQ on
// broadcasting: "no more than 20 messages per minute to the same group"),
// counting every message a bot sends, files too. The dispatcher paces the
// alerts at alertsPerMinute (the channel's registered rate, with a burst
// of one); the trace files that follow alerts share the rest, so that
// alerts and files together stay within 20 in any minute.
const (
	groupPerMinute  = 20
	alertsPerMinute = 15
	docsPerMinute   = groupPerMinute - alertsPerMinute
)

// budget counts the trace files sent in the last minute. A file past the
// budget is skipped (and logged): it must never make Telegram answer the
// next alert with a 429. It is per Notifier, safe for concurrent use.
type budget struct {
	now func() time.Time

	mu   sync.Mutex
	sent []time.Time // the files' times within the last minute, oldest first
}

func newBudget(now func() time.Time) *budget {
	if now == nil {
		now = time.Now
	}
	return &budget{now: now}
}

// take reports whether one more file may go now, and counts it if so.
func (b *budget) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	keep := b.sent[:0]
	for _, at := range b.sent {
		if now.Sub(at) < time.Minute {
			keep = append(keep, at)
		}
	}
	b.sent = keep
	if len(b.sent) >= docsPerMinute {
		return false
	}
	b.sent = append(b.sent, now)
	return true
}
