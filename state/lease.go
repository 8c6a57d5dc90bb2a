package state

import (
	"context"
	"errors"
	"time"
)

// Store holds one application's State between ticks: FileStore, or a
// store shared by several seqwatch instances (internal/pgstate's).
type Store interface {
	Load() (*State, error)
	// Update applies a change under the state's write lock, picking up
	// what `seqwatch outbox` and `seqwatch mute` changed meanwhile
	// (FileStore.Update). A store that cannot save applies fn to cur all
	// the same and returns an error: what was detected stays in memory.
	Update(ctx context.Context, cur *State, fn func(*State) error) (*State, error)
}

// Leaser is a Store shared by several seqwatch instances, of which one at
// a time may send. Acquire takes or renews this instance's lease; Update
// refuses to save for an instance that lost it (the fence: ErrNotLeader),
// and starts from the stored state when another instance changed it since
// this one last saved. Release gives the lease up.
type Leaser interface {
	Acquire(ctx context.Context, ttl time.Duration) (Lease, error)
	Release(ctx context.Context) error
}

// Lease is the outcome of Leaser.Acquire.
type Lease struct {
	// Leader reports whether this instance holds the lease now.
	Leader bool
	// Token is the lease's generation: the same while one holder renews,
	// one more at each takeover. It fences the holder's writes.
	Token int64
	// Holder is the current holder (this instance's own id when Leader).
	Holder string
	// ExpiresAt is when the lease ends unless renewed, by the store's
	// clock.
	ExpiresAt time.Time
	// Remaining is how long the lease had left when the store answered
	// (ExpiresAt minus the store's clock), so a caller can set a local
	// deadline on its own monotonic clock without comparing two clocks:
	// time.Now().Add(Remaining) errs on the safe side by the round trip.
	Remaining time.Duration
}

// ErrNotLeader is matched by a Leaser's Update error when this instance
// does not hold the application's lease (never acquired, taken over by
// another instance, or expired): nothing was saved, and the instance must
// not send.
var ErrNotLeader = errors.New("not the lease holder")
