package state

import (
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/event"
)

func TestThreadsAreKeptPerChannelAndDroppedWhenTheProblemCloses(t *testing.T) {
	st := New()
	slackA := NewThreadStore(func() *State { return st }, "slack-a")
	slackB := NewThreadStore(func() *State { return st }, "slack-b")
	key := check.FailedKey("2024_01_13_120000_FailedOperation", "42")
	slackA.SetThread(key, "C1", "1700000000.000100")
	if ch, ts, ok := slackA.Thread(key); !ok || ch != "C1" || ts != "1700000000.000100" {
		t.Fatalf("Thread = %q %q %v", ch, ts, ok)
	}
	if _, _, ok := slackB.Thread(key); ok {
		t.Fatal("another channel sees the thread")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st.Enqueue(event.Event{ID: "evt_1", Kind: event.OperationRecovered, Key: key}, []string{"slack-a"}, now)
	if !st.Delivered("evt_1", "slack-a", now) {
		t.Fatal("delivery not found")
	}
	if _, _, ok := slackA.Thread(key); ok {
		t.Error("the thread is still kept after the recovery was delivered")
	}
}
