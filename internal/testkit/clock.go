package testkit

import (
	"context"
	"sync"
	"time"
)

// Clock is a test's time: it moves only when the code under test sleeps
// (Sleep) or the test moves it (Add), so a test of pacing or of a rate
// limit never waits for real. The code under test and a fake receiver may
// read it at once.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep moves the clock on by d at once, unless ctx is done already (then
// it returns ctx's error and the clock stays), as a sleep that honours its
// context would.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Add(d)
	return nil
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t, for a test that jumps to a moment rather than
// moving on from the last.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
