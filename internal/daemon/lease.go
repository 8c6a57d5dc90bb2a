package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/seqwatch/seqwatch/state"
)

// DefaultLeaseTTL is how long a lease lasts without renewal unless told:
// three ticks of the default schedule.
const DefaultLeaseTTL = 3 * time.Minute

// lease is this instance's hold on an application whose state store is
// shared (a state.Leaser): whether it leads, until when, and whether
// standing by was told. A nil *lease (a store of its own, such as a state
// file) always leads.
type lease struct {
	leaser state.Leaser
	logger *slog.Logger
	now    func() time.Time
	// leader is whether this instance held the lease at its last renewal
	// and has not been fenced off since.
	leader bool
	// until is when the lease ends unless renewed, by this clock.
	until time.Time
	// toldStandby is set while standing by, once that was logged.
	toldStandby bool
}

// newLease is the lease of store, or nil when store is not shared.
func newLease(store state.Store, logger *slog.Logger, now func() time.Time) *lease {
	l, ok := store.(state.Leaser)
	if !ok {
		return nil
	}
	return &lease{leaser: l, logger: logger, now: now}
}

// lead takes or renews the lease for ttl and reports whether this instance
// leads. begin is called when it starts to (it took the lease): when begin
// fails, it does not lead.
func (l *lease) lead(ctx context.Context, ttl time.Duration, begin func() error) (bool, error) {
	asked := l.now()
	got, err := l.leaser.Acquire(ctx, ttl)
	if err != nil {
		l.leader = false
		return false, err
	}
	// Counted from before the request: errs on the safe side by the
	// round trip.
	l.until = asked.Add(got.Remaining)
	switch {
	case got.Leader && !l.leader:
		if err := begin(); err != nil {
			return false, err
		}
		l.leader = true
	case !got.Leader && l.leader:
		l.leader = false
		l.logger.Warn("another seqwatch holds the lease now; standing by", "holder", got.Holder)
	case !got.Leader && !l.toldStandby:
		// Once at Info, so that a standby's run --once (exit 0: the
		// leader is on it) says why it read nothing.
		l.logger.Info("standing by: another seqwatch leads for this application", "holder", got.Holder)
	case !got.Leader:
		l.logger.Debug("standing by", "holder", got.Holder)
	}
	l.toldStandby = !got.Leader
	return got.Leader, nil
}

// leads reports whether this instance may still send now: it leads, and
// its lease has not run out (it may have passed to a standby meanwhile).
// why says what stops it.
func (l *lease) leads() (ok bool, why string) {
	switch {
	case l == nil:
		return true, ""
	case !l.leader:
		return false, "fenced off: another seqwatch leads"
	case !l.now().Before(l.until):
		return false, "the lease ran out"
	}
	return true, ""
}

// lost records that the store refused a write (state.ErrNotLeader).
func (l *lease) lost(err error) {
	if l == nil {
		return
	}
	if l.leader {
		l.logger.Warn("lost the lease: another seqwatch leads now; not sending", "error", err.Error())
	}
	l.leader = false
}

// Release gives the lease up (on shutdown) so that a standby takes over
// at its next tick instead of after the lease expires.
func (l *lease) Release(ctx context.Context) {
	if l == nil || !l.leader {
		return
	}
	if err := l.leaser.Release(ctx); err != nil {
		l.logger.Warn("cannot release the lease; a standby takes over once it expires", "error", err.Error())
	}
	l.leader = false
}
