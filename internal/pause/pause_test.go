package pause

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestForReturnsTheContextsErrorWhenItHasEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, d := range []time.Duration{-time.Second, 0, time.Hour} {
		if err := For(ctx, d); !errors.Is(err, context.Canceled) {
			t.Errorf("For(ended, %s) = %v, want context.Canceled", d, err)
		}
	}
}

func TestForDoesNotWaitForNothing(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, 0} {
		if err := For(context.Background(), d); err != nil {
			t.Errorf("For(%s) = %v, want nil", d, err)
		}
	}
}

// A timer of a nanosecond ends before a context that never ends: For
// returns nil once it has waited (no wall time is measured).
func TestForReturnsNilOnceItHasWaited(t *testing.T) {
	if err := For(context.Background(), time.Nanosecond); err != nil {
		t.Errorf("For(1ns) = %v, want nil", err)
	}
}
