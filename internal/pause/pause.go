// Package pause holds the one real sleep behind every injected one: the
// dispatcher's retries and Retry-After waits, the state database's
// retries, wait's polls and the demo. It is a leaf: of seqwatch it imports
// nothing, so that the notify core and the stages before it can share it.
package pause

import (
	"context"
	"time"
)

// For waits for d or until ctx ends, whichever comes first, and returns
// ctx's error if it ended. A d of zero or less does not wait: it returns
// at once, with ctx's error if ctx has already ended.
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
