package alerting

import (
	"time"

	"github.com/seqwatch/seqwatch/check"
)

// DefaultSeenRetention is how long a State.Seen entry is kept after its row
// was last seen in a snapshot, unless Policy.SeenRetention says otherwise.
const DefaultSeenRetention = 7 * 24 * time.Hour

// retain refreshes the Seen entries of the rows still in the snapshot and
// drops those not seen for the retention period, the way Alertmanager's
// notification log expires its entries. A row that left the snapshot
// (a failure whose operation later completed, a stuck row that ended) does
// not come back, so forgetting it cannot make it look new; a row still
// failing is seen on every tick and so never expires. The keys of open
// problems are never dropped, whatever their age.
func (e *evaluator) retain() {
	st := e.st
	keep := e.policy.SeenRetention
	if keep == 0 {
		keep = DefaultSeenRetention
	}
	if keep < 0 {
		return
	}
	// Refreshed at most once per step, not on every tick: an unchanged
	// tick must leave the state file alone.
	step := min(keep/4, 24*time.Hour)
	refresh := func(key string) {
		if at, ok := st.Seen[key]; ok && e.now.Sub(at) >= step {
			st.Seen[key] = e.now
		}
	}
	for _, f := range e.snap.Failing {
		refresh(check.FailedKey(f.Name, f.ID))
	}
	for _, a := range e.snap.InProgress {
		refresh(check.StuckKey(a.Name, a.ID))
	}
	for _, a := range e.snap.Scheduled {
		refresh(check.StuckKey(a.Name, a.ID))
	}
	for _, r := range e.snap.RolledBack {
		refresh(check.RolledBackKey(r.Name, r.ID))
	}
	if e.snap.Deferred != nil {
		for _, x := range e.snap.Deferred.Exhausted {
			refresh(check.DeferredKey(x.ID))
		}
	}
	for key, at := range st.Seen {
		if _, open := st.Open[key]; open {
			continue
		}
		if e.now.Sub(at) > keep {
			delete(st.Seen, key)
		}
	}
}
