package check

// The rules: what is wrong with an application. Assess judges a Snapshot
// once into Problems, a set keyed by problem key; `seqwatch check`
// summarises it (Verdict), the status page and the metrics show it, and
// the daemon diffs it against the problems it has open (internal/alerting),
// as Alertmanager diffs firing alerts against resolved ones.
//
// The rules are a pure function of a snapshot and Thresholds: this file
// and verdict.go read no database and no clock, and import nothing of
// seqwatch but the notify core (the event kinds the keys are made of) and
// internal/text. They sit beside the Snapshot they judge; whatever package
// the model moves to, they move with it.

import (
	"time"

	"github.com/seqwatch/seqwatch/internal/event"
)

// DefaultUnreachableAfter is the number of consecutive failed reads that
// make an application unreachable when Thresholds.UnreachableAfter is 0.
const DefaultUnreachableAfter = 3

// DefaultScheduledStuckAfter is thresholds.scheduled_stuck_after when it
// is not set.
const DefaultScheduledStuckAfter = 48 * time.Hour

// DefaultRolledBackWindow is thresholds.rolled_back_window when it is not
// set.
const DefaultRolledBackWindow = 24 * time.Hour

// DefaultThresholds are the thresholds of a check with no configuration:
// the limits that are on unless turned off.
func DefaultThresholds() Thresholds {
	return Thresholds{ScheduledStuckAfter: DefaultScheduledStuckAfter, RolledBackWindow: DefaultRolledBackWindow,
		AsyncRetryGrace: DefaultAsyncRetryGrace, DeferredStuckAfter: DefaultDeferredAfter, DeferredOverdueAfter: DefaultDeferredAfter}
}

// DefaultDeferredAfter is thresholds.deferred_stuck_after and
// thresholds.deferred_overdue_after when they are not set.
const DefaultDeferredAfter = time.Hour

// DefaultAsyncRetryGrace is thresholds.async_retry_grace when it is not
// set.
const DefaultAsyncRetryGrace = 2 * time.Minute

// RolledBackLookback is how far back a read looks for rolled-back runs:
// runs started within it (a week, or the window and a day when that is
// longer), so that the read costs a range of recent rows, not the history.
func (th Thresholds) RolledBackLookback() time.Duration {
	return max(7*24*time.Hour, th.RolledBackWindow+24*time.Hour)
}

// Thresholds are the limits the rules apply: the one set of settings that
// check, the status page and the daemon share (thresholds: in
// seqwatch.yaml, --max-pending and --stuck-after for check).
type Thresholds struct {
	// MaxPending makes more pending operations than this a problem;
	// 0 is off.
	MaxPending int `json:"max_pending"`
	// PendingClearBelow is where the daemon closes its pending alert: at
	// or below this count (see ClearAt). The gap between it and MaxPending
	// is the hysteresis that keeps a count hovering around MaxPending from
	// alerting again and again. check judges one read and has no memory,
	// so it does not use it.
	PendingClearBelow int `json:"-"`
	// StuckAfter makes an operation in progress longer than this a
	// problem; 0 is off.
	StuckAfter time.Duration `json:"-"`
	// ScheduledStuckAfter makes a Scheduled operation that has waited for
	// its time longer than this a problem (its queued job is lost, or no
	// worker runs that queue); 0 is off. StuckAfter never applies to them.
	ScheduledStuckAfter time.Duration `json:"-"`
	// RolledBackWindow makes a rolled-back run a WARNING for this long
	// after its rollback, while it is its operation's newest run
	// (RolledBackWithin); 0 never warns. The daemon reports each
	// rolled-back run once whatever the window.
	RolledBackWindow time.Duration `json:"-"`
	// AsyncRetryGrace is how long the daemon waits before it reports a
	// failed run of a queued operation (InRetryGrace): the queue's next
	// try may complete it. 0 reports at once. The rules themselves judge
	// what is true now.
	AsyncRetryGrace time.Duration `json:"-"`
	// DeferredStuckAfter makes deferred operations in processing for
	// longer than this a problem (DeferredStuck), and DeferredOverdueAfter
	// pending ones due longer ago than this (DeferredOverdue); 0 is off.
	DeferredStuckAfter   time.Duration `json:"-"`
	DeferredOverdueAfter time.Duration `json:"-"`
	// UnreachableAfter makes that many consecutive failed reads an
	// unreachable application (the daemon's source.unreachable); 0 is
	// DefaultUnreachableAfter. check reads once, and a read that fails is
	// UNKNOWN at once.
	UnreachableAfter int `json:"-"`
}

// ClearAt returns the pending count at or below which an open pending
// problem is closed: PendingClearBelow, or 80% of MaxPending (rounded
// down) when that is 0, and always below MaxPending.
func (th Thresholds) ClearAt() int {
	if th.MaxPending <= 0 {
		return 0
	}
	c := th.PendingClearBelow
	if c <= 0 {
		c = th.MaxPending * 80 / 100
	}
	return min(c, th.MaxPending-1)
}

// Keys of the problems that exist at most once per application. Like
// FailedKey, StuckKey and DeferredKey they are stored in the daemon's state
// file (open problems, rows already reported): they must never change, or
// an upgrade reports everything again.
const (
	PendingKey         = "pending.threshold"
	SourceKey          = "source.unreachable"
	DeferredStuckKey   = "deferred.stuck"
	DeferredOverdueKey = "deferred.overdue"
)

// MissingDirKey is the problem key of a discovery directory that does not
// exist: a source problem of its own (its kind is source.unreachable), so
// that it opens and closes apart from the database's.
func MissingDirKey(path string) string {
	return event.FilesKeyPrefix + path
}

// FailedKey is the problem key of a failed run (a row of the operations
// table): each run is reported once, so a retry that fails is new.
func FailedKey(name, rowID string) string {
	return string(event.OperationFailed) + "/" + name + "/" + rowID
}

// StuckKey is the problem key of a run in progress too long.
func StuckKey(name, rowID string) string {
	return string(event.OperationStuck) + "/" + name + "/" + rowID
}

// RolledBackKey is the problem key of a rolled-back run.
func RolledBackKey(name, rowID string) string {
	return string(event.OperationRolledBack) + "/" + name + "/" + rowID
}

// DeferredKey is the problem key of an exhausted deferred operation.
func DeferredKey(id string) string {
	return string(event.DeferredFailed) + "/" + id
}

// Problem is one thing wrong with an application. Exactly one of Failure,
// Running, Waiting, RolledBack, Deferred, Late, Pending, Source and
// Missing is set, as Kind says.
type Problem struct {
	// Key identifies the problem from one read to the next.
	Key string
	// Kind is the event kind that reports the problem opening.
	Kind event.Kind
	// Status is what the problem makes check's verdict: Critical, Warning,
	// or Unknown for an unreachable application.
	Status Status

	// Failure is a failed run of an operation that has not completed
	// since (operation.failed), with its errors.
	Failure *Failure
	// Running is a run in progress longer than StuckAfter
	// (operation.stuck); its RunningFor is how long, as judged.
	Running *Attempt
	// Waiting is a Scheduled operation that has waited for its time
	// longer than ScheduledStuckAfter (operation.stuck too); its
	// RunningFor is how long it has waited.
	Waiting *Attempt
	// RolledBack is a run rolled back within RolledBackWindow that is
	// still its operation's newest (operation.rolled_back).
	RolledBack *RolledBackRun
	// Deferred is a deferred operation that used up its attempts
	// (deferred.failed).
	Deferred *DeferredFailure
	// Pending is the backlog over MaxPending (pending.threshold).
	Pending *PendingOver
	// Source is the run of failed reads (source.unreachable).
	Source *SourceDown
	// Missing is a discovery directory that does not exist
	// (source.unreachable, UNKNOWN).
	Missing *MissingDir
	// Late is deferred operations that no one runs: hanging in processing
	// (deferred.stuck) or long overdue (deferred.overdue).
	Late *DeferredLate
}

// DeferredLate is deferred operations that no one runs.
type DeferredLate struct {
	// Count is how many are processing (stuck) or pending (overdue).
	Count int
	// Oldest is the oldest one's reserved_at (stuck) or due_at (overdue).
	Oldest time.Time
	// After is the threshold it is over.
	After time.Duration
}

// PendingOver is a backlog of pending operations over the threshold.
type PendingOver struct {
	Count     int
	Threshold int
}

// SourceDown is a run of consecutive failed reads of an application.
type SourceDown struct {
	Failures int
	// Since is when the first of them happened.
	Since time.Time
	// LastError is the last read error, free of secrets.
	LastError string
}

// Problems is a snapshot judged once: its problems, keyed by Key, in the
// order Assess finds them: failed runs in the snapshot's order (newest
// first), exhausted deferred operations, the pending backlog, stuck runs
// (oldest first). The zero Problems judged nothing and holds none.
type Problems struct {
	// Snapshot is what was judged.
	Snapshot *Snapshot
	// Thresholds are the limits it was judged by.
	Thresholds Thresholds
	list       []Problem
	index      map[string]int
}

// Assess judges a snapshot against the thresholds:
//   - every discovery directory that does not exist is a problem
//     (UNKNOWN): the figures that come from the files are wrong;
//   - every failed run not followed by a completed run of its operation is
//     a problem (CRITICAL), one per run, because the daemon reports each
//     run once (check counts them by operation: see Verdict);
//   - every rolled-back run rolled back within RolledBackWindow, while it
//     is its operation's newest, is a problem (WARNING);
//   - every exhausted deferred operation is a problem (CRITICAL);
//   - deferred operations hanging in processing longer than
//     DeferredStuckAfter are one problem, and pending ones due longer ago
//     than DeferredOverdueAfter another (WARNING each);
//   - more than MaxPending pending operations is one problem (WARNING);
//   - every run in progress longer than StuckAfter is a problem (WARNING).
//     How long a run has been in progress is its RunningFor, or, when
//     that is unset, the time from its start to the snapshot's TakenAt;
//   - every Scheduled operation waiting longer than ScheduledStuckAfter
//     is a problem of the same kind (WARNING), measured the same way from
//     when it was queued.
//
// A value that cannot be read (Snapshot.Unreadable) is no problem of its
// own and changes the verdict of no other row: the row it is in is judged
// without it, and Verdict names it.
func Assess(s *Snapshot, th Thresholds) Problems {
	ps := Problems{Snapshot: s, Thresholds: th, index: map[string]int{}}
	for _, d := range s.MissingDirs {
		ps.add(Problem{Key: MissingDirKey(d.Path), Kind: event.SourceUnreachable, Status: Unknown, Missing: &d})
	}
	for _, f := range s.Failing {
		ps.add(Problem{Key: FailedKey(f.Name, f.ID), Kind: event.OperationFailed, Status: Critical, Failure: &f})
	}
	for _, r := range s.RolledBack {
		if RolledBackWithin(r.Attempt, s.TakenAt, th.RolledBackWindow) {
			ps.add(Problem{Key: RolledBackKey(r.Name, r.ID), Kind: event.OperationRolledBack, Status: Warning, RolledBack: &r})
		}
	}
	if s.Deferred != nil {
		for _, x := range s.Deferred.Exhausted {
			ps.add(Problem{Key: DeferredKey(x.ID), Kind: event.DeferredFailed, Status: Critical, Deferred: &x})
		}
	}
	if d := s.Deferred; DeferredStuck(d, s.TakenAt, th.DeferredStuckAfter) {
		ps.add(Problem{Key: DeferredStuckKey, Kind: event.DeferredStuck, Status: Warning,
			Late: &DeferredLate{Count: d.Processing, Oldest: *d.OldestReservedAt, After: th.DeferredStuckAfter}})
	}
	if d := s.Deferred; DeferredOverdue(d, s.TakenAt, th.DeferredOverdueAfter) {
		ps.add(Problem{Key: DeferredOverdueKey, Kind: event.DeferredOverdue, Status: Warning,
			Late: &DeferredLate{Count: d.Pending, Oldest: *d.OldestDueAt, After: th.DeferredOverdueAfter}})
	}
	if n := s.Counts.PendingOperations; th.MaxPending > 0 && n > th.MaxPending {
		ps.add(Problem{Key: PendingKey, Kind: event.PendingThreshold, Status: Warning, Pending: &PendingOver{Count: n, Threshold: th.MaxPending}})
	}
	if th.StuckAfter > 0 {
		for _, a := range s.InProgress {
			d := runningFor(s, a)
			if d <= th.StuckAfter {
				continue
			}
			a.RunningFor = Duration(d)
			ps.add(Problem{Key: StuckKey(a.Name, a.ID), Kind: event.OperationStuck, Status: Warning, Running: &a})
		}
	}
	if th.ScheduledStuckAfter > 0 {
		for _, a := range s.Scheduled {
			d := runningFor(s, a)
			if d <= th.ScheduledStuckAfter {
				continue
			}
			a.RunningFor = Duration(d)
			ps.add(Problem{Key: StuckKey(a.Name, a.ID), Kind: event.OperationStuck, Status: Warning, Waiting: &a})
		}
	}
	return ps
}

// runningFor is how long the run a has been in progress when s was taken:
// its RunningFor, or the time from its start to s.TakenAt when that is
// unset (a snapshot not made by Read). A run whose start could not be read
// (ExecutedAt zero, see Unreadable) has run for an unknown time: 0, so it
// is never judged stuck.
func runningFor(s *Snapshot, a Attempt) time.Duration {
	d := a.RunningFor.Std()
	if d == 0 && !s.TakenAt.IsZero() && !a.ExecutedAt.IsZero() {
		d = s.TakenAt.Sub(a.ExecutedAt)
	}
	return d
}

// Unreachable judges a run of failed reads: one source.unreachable
// problem once it reaches th.UnreachableAfter reads.
func Unreachable(down SourceDown, th Thresholds) (Problem, bool) {
	after := th.UnreachableAfter
	if after <= 0 {
		after = DefaultUnreachableAfter
	}
	if down.Failures < after {
		return Problem{}, false
	}
	return Problem{Key: SourceKey, Kind: event.SourceUnreachable, Status: Unknown, Source: &down}, true
}

// add keeps the first problem of each key.
func (ps *Problems) add(p Problem) {
	if _, ok := ps.index[p.Key]; ok {
		return
	}
	ps.index[p.Key] = len(ps.list)
	ps.list = append(ps.list, p)
}

// All returns every problem, in order.
func (ps Problems) All() []Problem { return append([]Problem(nil), ps.list...) }

// Get returns the problem of key.
func (ps Problems) Get(key string) (Problem, bool) {
	i, ok := ps.index[key]
	if !ok {
		return Problem{}, false
	}
	return ps.list[i], true
}

// Has reports whether key is a problem.
func (ps Problems) Has(key string) bool {
	_, ok := ps.index[key]
	return ok
}

// Of returns the problems of kind, in order.
func (ps Problems) Of(kind event.Kind) []Problem {
	var out []Problem
	for _, p := range ps.list {
		if p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// Len is the number of problems.
func (ps Problems) Len() int { return len(ps.list) }
