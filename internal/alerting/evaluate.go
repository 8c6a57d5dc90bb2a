// Package alerting turns what the rules judged (check.Problems) into the
// events seqwatch's daemon sends. It diffs the problems of a read against
// those the state has open, as Alertmanager diffs firing alerts against
// resolved ones: a problem judged and not yet reported opens (an event), an
// open one no longer judged closes (a recovery, or a note when nothing is
// worth telling). The daemon's own rules apply to that diff: the first
// run's digest or silence, the pending hysteresis, reminders, and how long
// reported rows are remembered. It records what it decided in a
// state.State; it does no I/O and reads no clock.
//
// What is a problem is not decided here but by check's rules (check.Assess,
// check.Unreachable), so that check, the status page and the daemon agree.
// This package must not read the database, import a notify channel
// (notify/slack, notify/email, ...) or deliver anything: it makes
// event.Events and leaves them to the state's outbox.
package alerting

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/event"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/state"
)

// First-run behaviours (Policy.FirstRun).
const (
	// FirstRunDigest reports the failures found on the first run as one
	// Digest event. It is the default.
	FirstRunDigest = "digest"
	// FirstRunSilent records them as seen without reporting them.
	FirstRunSilent = "silent"
)

// Keys of the events that stand for other problems (the problems' own
// keys are check's: check.FailedKey, check.PendingKey, ...).
const (
	keyDigest   = "digest/first-run"
	keyReminder = "reminder"
)

// Policy is how the daemon tells people about problems; what a problem is
// comes from the thresholds the problems were judged by
// (check.Problems.Thresholds).
type Policy struct {
	// RepeatAfter sends a reminder for problems still open this long after
	// they were last sent (0 = off).
	RepeatAfter time.Duration
	// FirstRun is FirstRunDigest (the default when empty) or FirstRunSilent.
	FirstRun string
	// SeenRetention drops a State.Seen entry not seen in a snapshot for
	// this long (0 = DefaultSeenRetention; negative = keep for good).
	SeenRetention time.Duration
}

// Evaluate diffs the problems judged from a snapshot (check.Assess) against
// what st says was already reported, and returns the events to send now,
// in the order to send them, and notes worth logging about problems closed
// without a recovery to tell (a failed row deleted without the operation
// completing, a deferred operation reset or removed, max_pending turned
// off, a run still in progress no longer over stuck_after). Each of those
// closes still makes a problem.closed event, which the daemon sends only
// to the channels that keep incidents (closeQuietly). It records the events in
// st (as open problems and seen keys), so evaluating the same problems
// again returns nothing. Each event gets a random id (state.NewEventID).
// The zero Problems judged nothing: Evaluate returns nothing and leaves st
// alone.
func Evaluate(st *state.State, ps check.Problems, now time.Time, p Policy) ([]event.Event, []string) {
	if ps.Snapshot == nil {
		return nil, nil
	}
	st.Ensure()
	e := &evaluator{st: st, ps: ps, snap: ps.Snapshot, now: now, policy: p}
	first := !st.Initialized

	// Failures and exhausted deferred operations are what a first run
	// turns into a digest (or silence); everything else is sent as usual.
	reportable := e.failures()
	reportable = append(reportable, e.rolledBack()...)
	reportable = append(reportable, e.deferred()...)
	switch {
	case !first:
		for _, ev := range reportable {
			e.open(ev)
			e.out = append(e.out, ev)
		}
	case p.FirstRun == FirstRunSilent:
		for _, ev := range reportable {
			st.Seen[ev.Key] = now
		}
	case len(reportable) > 0:
		for _, ev := range reportable {
			e.open(ev)
		}
		e.out = append(e.out, e.digest(reportable))
	}

	e.missingDirs()
	e.deferredLate()
	e.recoveries()
	e.stuck()
	e.pending()
	e.reminders()
	e.retain()
	st.Initialized = true
	return e.out, e.notes
}

type evaluator struct {
	st *state.State
	// ps are the problems judged; snap is the snapshot they were judged
	// from, for what the diff needs beyond them (completed runs, the rows
	// still in progress, the pending files).
	ps     check.Problems
	snap   *check.Snapshot
	now    time.Time
	policy Policy
	out    []event.Event
	notes  []string
	// touched holds the keys opened or closed by this evaluation, which a
	// reminder must not list.
	touched map[string]bool
}

// event returns a new event with a fresh ID and the snapshot's application.
func (e *evaluator) event(kind event.Kind, key string, at time.Time, summary string) event.Event {
	return e.st.NewEvent(kind, key, e.snap.App, e.snap.Environment, at, summary)
}

// known reports whether key was reported (or deliberately not) before.
func (e *evaluator) known(key string) bool {
	if _, ok := e.st.Open[key]; ok {
		return true
	}
	_, ok := e.st.Seen[key]
	return ok
}

func (e *evaluator) open(ev event.Event) {
	e.st.Seen[ev.Key] = e.now
	e.touch(ev.Key)
	if ev.Kind == event.OperationRolledBack && !e.ps.Has(ev.Key) {
		// News once, but not a problem (out of rolled_back_window, or
		// the window is 0): nothing to keep open, remind of or resolve.
		return
	}
	e.st.Open[ev.Key] = state.OpenProblem{Kind: ev.Kind, Key: ev.Key, Event: brief(ev), OpenedAt: e.now}
}

func (e *evaluator) close(key string) {
	delete(e.st.Open, key)
	e.touch(key)
}

// closeQuietly closes the open problem key without a recovery to tell
// people (why says why, in a note), and returns a problem.closed event for
// the channels that keep an incident open per problem (the daemon sends
// it only to those), so that a pager's incident does not stay open
// forever. It is an event of the outbox like any other, with its own id:
// a restart neither loses nor repeats it.
func (e *evaluator) closeQuietly(key, why string) {
	p, ok := e.st.Open[key]
	e.close(key)
	e.st.ForgetThreads(key)
	e.notes = append(e.notes, fmt.Sprintf("closed %s without a recovery: %s", key, why))
	if !ok {
		return
	}
	ev := e.event(event.ProblemClosed, key, e.now, "closed without a recovery: "+why)
	if op := p.Event.Operation; op != nil {
		o := *op
		ev.Operation = &o
	}
	e.out = append(e.out, ev)
}

func (e *evaluator) touch(key string) {
	if e.touched == nil {
		e.touched = map[string]bool{}
	}
	e.touched[key] = true
}

// brief is the copy of an event kept in an open problem: without error
// traces, which can be hundreds of KB and are not needed to close it.
func brief(ev event.Event) event.Event {
	if len(ev.Errors) > 0 {
		errs := slices.Clone(ev.Errors)
		for i := range errs {
			errs[i].Trace = ""
		}
		ev.Errors = errs
	}
	ev.Items = nil
	return ev
}

// failures returns an operation.failed event for each failed run not seen
// before, oldest first (the problems list them newest first). A failed run
// of a queued operation waits thresholds.async_retry_grace
// (check.InRetryGrace): the queue's next try may still complete it, and a
// run that completes within the grace is never sent, as a problem that
// opens and closes inside a mute.
func (e *evaluator) failures() []event.Event {
	var evs []event.Event
	failed := e.ps.Of(event.OperationFailed)
	for i := len(failed) - 1; i >= 0; i-- {
		f, key := *failed[i].Failure, failed[i].Key
		if e.known(key) || check.InRetryGrace(f.Attempt, e.now, e.ps.Thresholds.AsyncRetryGrace) {
			continue
		}
		at := f.ExecutedAt
		if f.FailedAt != nil {
			at = *f.FailedAt
		}
		if at.IsZero() {
			// Neither time can be read (check.Unreadable): it failed by
			// the time it was found.
			at = e.now
		}
		summary := failedSummary(f)
		if check.RunsAgain(f.Attempt, e.isPending(f.Name), e.now, e.ps.Thresholds.AsyncRetryGrace) {
			// The queue gave up on it, and nobody asked for the rerun
			// that the next deploy will make.
			summary += " (the queue gave up on it; it " + check.RunsAgainNote + ")"
		}
		ev := e.event(event.OperationFailed, key, at, summary)
		ev.Operation = operation(f.Attempt)
		for _, er := range f.Errors {
			ev.Errors = append(ev.Errors, event.Error{
				Exception: er.Exception,
				Message:   er.Message,
				Trace:     er.Trace,
				Context:   er.Context,
				CreatedAt: er.CreatedTime(),
				// Counted here, before boundErrors cuts the trace, so
				// that "and N more frames" is true of the whole trace.
				TraceFrames: event.CountFrames(er.Trace),
				TraceBytes:  len(er.Trace),
			})
		}
		evs = append(evs, boundErrors(ev, eventTrace))
	}
	return evs
}

// isPending reports whether the snapshot lists the operation as pending.
func (e *evaluator) isPending(name string) bool {
	return slices.ContainsFunc(e.snap.PendingOperations, func(p check.PendingFile) bool { return p.Name == name })
}

func failedSummary(f check.Failure) string {
	// The same error as `seqwatch check` names for this failure.
	last, ok := check.HeadlineError(f.Errors, check.ErrorRecord.CreatedTime)
	if !ok {
		return f.Name + " failed (no error recorded)"
	}
	s := f.Name + " failed: " + last.Exception
	if m := oneLine(last.Message); m != "" {
		s += ": " + m
	}
	return s
}

func operation(a check.Attempt) *event.Operation {
	return &event.Operation{
		ID:           a.ID,
		Name:         a.Name,
		Type:         a.Type,
		ExecutedAt:   a.ExecutedAt,
		FailedAt:     a.FailedAt,
		CompletedAt:  a.CompletedAt,
		RunningFor:   time.Duration(a.RunningFor),
		RolledBackAt: a.RolledBackAt,
	}
}

// rolledBack returns an operation.rolled_back event for each rolled-back
// run not reported before, oldest rollback first: the snapshot holds the
// runs that check.RolledBack says were rolled back and that are still
// their operation's newest. Each is news once, whatever
// rolled_back_window says; it stays open (for reminders and Alertmanager)
// only while the rules judge it a problem, and is closed without an event
// once they no longer do (out of the window, or run again).
func (e *evaluator) rolledBack() []event.Event {
	var evs []event.Event
	for i := len(e.snap.RolledBack) - 1; i >= 0; i-- {
		r := e.snap.RolledBack[i]
		key := check.RolledBackKey(r.Name, r.ID)
		if !check.RolledBack(r.Attempt) || e.known(key) {
			continue
		}
		s := fmt.Sprintf("%s was rolled back at %s", r.Name, r.RolledBackAt.Format(time.DateTime))
		if r.Cause != nil {
			s += " after " + r.Cause.Name + " failed"
		}
		s += ": Sequencer counts it as run and will not run it again, though its effect was undone"
		ev := e.event(event.OperationRolledBack, key, *r.RolledBackAt, s)
		ev.Operation = operation(r.Attempt)
		if r.Cause != nil {
			ev.Cause = operation(*r.Cause)
		}
		evs = append(evs, ev)
	}
	for _, p := range e.sortedOpen(event.OperationRolledBack) {
		if !e.ps.Has(p.Key) {
			e.closeQuietly(p.Key, "no longer within rolled_back_window, or its operation ran again")
		}
	}
	return evs
}

// recoveries closes open failures that are no longer problems: with an
// operation.recovered event when a run of the operation that started at or
// after the failed one completed (check.Recovered: a later run, or the
// failed row itself on a later try of the queue), silently when the row
// just disappeared.
func (e *evaluator) recoveries() {
	for _, p := range e.sortedOpen(event.OperationFailed) {
		if e.ps.Has(p.Key) || p.Event.Operation == nil {
			continue
		}
		op := p.Event.Operation
		var newest *time.Time
		if done, ok := e.snap.LastCompleted[op.Name]; ok {
			newest = &done
		}
		done, ok := check.Recovered(check.Attempt{ID: op.ID, Name: op.Name, ExecutedAt: op.ExecutedAt}, newest)
		if !ok {
			e.closeQuietly(p.Key, fmt.Sprintf("the failed row is gone and no later run of %s completed", op.Name))
			continue
		}
		summary := fmt.Sprintf("%s recovered: a run started %s completed", op.Name, done.Format(time.DateTime))
		if done.Equal(op.ExecutedAt) {
			// Names and start times are unique: the failed row itself
			// completed, on a later try of the queue.
			summary = fmt.Sprintf("%s recovered: the queue retried the run started %s and it completed", op.Name, done.Format(time.DateTime))
		}
		ev := e.event(event.OperationRecovered, p.Key, done, summary)
		o := *op
		// The snapshot knows when the completing run started, not when
		// it ended; that start is the best completed_at there is.
		o.CompletedAt = &done
		ev.Operation = &o
		e.close(p.Key)
		e.out = append(e.out, ev)
	}
}

// missingDirs opens a source problem, with a source.unreachable event, for
// each discovery directory that does not exist (check judges it UNKNOWN:
// the figures from the files are wrong), and closes it with
// source.recovered once the directory is back. Each directory is a
// problem of its own, apart from the database's source.unreachable.
func (e *evaluator) missingDirs() {
	for _, p := range e.ps.Of(event.SourceUnreachable) {
		if p.Missing == nil {
			continue
		}
		if _, open := e.st.Open[p.Key]; open {
			continue
		}
		ev := e.event(event.SourceUnreachable, p.Key, e.now,
			fmt.Sprintf("cannot read the files of %s: %s, so its pending operations and migrations are not known", e.snap.App, p.Missing))
		ev.Source = p.Missing.String()
		e.open(ev)
		e.out = append(e.out, ev)
	}
	prefix := check.MissingDirKey("")
	for _, p := range e.sortedOpen(event.SourceUnreachable) {
		if !strings.HasPrefix(p.Key, prefix) || e.ps.Has(p.Key) {
			continue
		}
		dir := strings.TrimPrefix(p.Key, prefix)
		ev := e.event(event.SourceRecovered, p.Key, e.now, fmt.Sprintf("the files of %s can be read again: %s exists", e.snap.App, dir))
		e.close(p.Key)
		// It can go missing again, and that is news again.
		delete(e.st.Seen, p.Key)
		e.out = append(e.out, ev)
	}
}

// deferredLate opens deferred.stuck and deferred.overdue, once each while
// the rules judge them, and closes them without an event once they no
// longer do (the rows were reclaimed, processed or removed).
func (e *evaluator) deferredLate() {
	for _, kind := range []event.Kind{event.DeferredStuck, event.DeferredOverdue} {
		for _, p := range e.ps.Of(kind) {
			if _, open := e.st.Open[p.Key]; open {
				continue
			}
			l := p.Late
			var s string
			if kind == event.DeferredStuck {
				s = fmt.Sprintf("%d deferred operations in processing, the oldest reserved %s (deferred_stuck_after %s): its worker died, and nothing reclaims it",
					l.Count, l.Oldest.Format(time.DateTime), l.After)
			} else {
				s = fmt.Sprintf("%d deferred operations pending, the oldest due %s (deferred_overdue_after %s): is sequencer:deferred-process scheduled?",
					l.Count, l.Oldest.Format(time.DateTime), l.After)
			}
			ev := e.event(kind, p.Key, l.Oldest, s)
			e.open(ev)
			// Not once-only: it is news again when it comes back.
			delete(e.st.Seen, p.Key)
			e.out = append(e.out, ev)
		}
		for _, p := range e.sortedOpen(kind) {
			if !e.ps.Has(p.Key) {
				e.closeQuietly(p.Key, fmt.Sprintf("no deferred operation is %s any more",
					map[event.Kind]string{event.DeferredStuck: "stuck in processing", event.DeferredOverdue: "overdue"}[kind]))
			}
		}
	}
}

// sortedOpen returns the open problems of kind, oldest event first.
func (e *evaluator) sortedOpen(kind event.Kind) []state.OpenProblem {
	var ps []state.OpenProblem
	for _, p := range e.st.Open {
		if kind == "" || p.Kind == kind {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b state.OpenProblem) int {
		if c := a.Event.OccurredAt.Compare(b.Event.OccurredAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return ps
}

// deferred returns a deferred.failed event for each exhausted deferred
// operation not seen before, and forgets the ones no longer exhausted.
func (e *evaluator) deferred() []event.Event {
	if e.snap.Deferred == nil {
		// The table is absent (or was not read): nothing was judged, so
		// nothing is gone either.
		return nil
	}
	var evs []event.Event
	for _, p := range e.ps.Of(event.DeferredFailed) {
		x, key := *p.Deferred, p.Key
		if e.known(key) {
			continue
		}
		at := e.now
		if x.FailedAt != nil {
			at = *x.FailedAt
		}
		s := fmt.Sprintf("deferred %s failed after %d of %d attempts", x.Operation, x.Attempts, x.MaxAttempts)
		if m := oneLine(x.LastError); m != "" {
			s += ": " + m
		}
		ev := e.event(event.DeferredFailed, key, at, s)
		ev.Deferred = &event.DeferredError{
			ID: x.ID, Operation: x.Operation, Attempts: x.Attempts, MaxAttempts: x.MaxAttempts, LastError: x.LastError,
		}
		evs = append(evs, ev)
	}
	// A deferred row can leave the exhausted state (reset for another try)
	// and come back to it: forget it when it leaves so its next exhaustion
	// is reported.
	prefix := string(event.DeferredFailed) + "/"
	for _, key := range slices.Sorted(maps.Keys(e.st.Seen)) {
		if strings.HasPrefix(key, prefix) && !e.ps.Has(key) {
			if _, ok := e.st.Open[key]; ok {
				e.closeQuietly(key, "the deferred operation is no longer exhausted")
			}
			delete(e.st.Seen, key)
		}
	}
	return evs
}

// digest stands for the failures found on a first run.
func (e *evaluator) digest(items []event.Event) event.Event {
	noun := "failures"
	if len(items) == 1 {
		noun = "failure"
	}
	ev := e.event(event.Digest, keyDigest, e.now,
		fmt.Sprintf("%d past %s found on the first check of %s", len(items), noun, e.snap.App))
	ev.Items = make([]event.Event, len(items))
	for i, it := range items {
		ev.Items[i] = boundErrors(it, digestTrace)
	}
	return ev
}

// eventTrace and digestTrace bound the traces (and eventMessage the
// messages) an event carries: every event sits in the state file's outbox
// until each channel has taken it, and a trace can be megabytes. The
// channels show the first frames anyway; a cut trace keeps whole frames and
// the event's TraceFrames and TraceBytes say how long it was; a cut message
// is marked. A first run can find thousands of failures, so digest items
// carry less.
const (
	eventTrace   = 16 << 10
	eventMessage = 8 << 10
	digestTrace  = 4 << 10
)

// boundErrors cuts each error's trace to at most traceLimit bytes (see
// cutTrace) and its message to eventMessage bytes, on a rune boundary,
// saying how much was left out.
func boundErrors(ev event.Event, traceLimit int) event.Event {
	errs := slices.Clone(ev.Errors)
	for i := range errs {
		errs[i].Trace = cutTrace(errs[i].Trace, traceLimit)
		errs[i].Message = cut(errs[i].Message, eventMessage)
	}
	ev.Errors = errs
	return ev
}

// cutTrace keeps the first frames of a trace that fit in limit bytes: it
// cuts after the last line break within the limit (within a rune boundary
// when the first frame alone is longer). The result is a prefix of the
// trace with no marker, so every line in it is a frame of the recorded
// trace; the event's TraceBytes and TraceFrames tell that it was cut.
func cutTrace(s string, limit int) string { return text.CutLines(s, limit) }

func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	kept := text.CutBytes(s, limit)
	return kept + fmt.Sprintf("\n… (%d more bytes)", len(s)-len(kept))
}

// stuck reports each stuck run once, and operation.unstuck when such a run
// is no longer in progress. A run still in progress that is no longer
// judged stuck (stuck_after turned off or raised) is closed without an
// event, as check no longer counts it either.
func (e *evaluator) stuck() {
	for _, p := range e.ps.Of(event.OperationStuck) {
		key := p.Key
		if e.known(key) {
			continue
		}
		var a check.Attempt
		var summary string
		switch {
		case p.Running != nil:
			a = *p.Running
			summary = fmt.Sprintf("%s has been running for %s (started %s)", a.Name, a.RunningFor.Std().Round(time.Second), a.ExecutedAt.Format(time.DateTime))
		case p.Waiting != nil:
			a = *p.Waiting
			summary = fmt.Sprintf("%s, a Scheduled operation queued %s, has waited %s for its time (scheduled_stuck_after %s): is its queued job lost, or no worker on its queue?",
				a.Name, a.ExecutedAt.Format(time.DateTime), a.RunningFor.Std().Round(time.Second), e.ps.Thresholds.ScheduledStuckAfter)
		default:
			continue
		}
		ev := e.event(event.OperationStuck, key, e.now, summary)
		ev.Operation = operation(a)
		e.open(ev)
		e.out = append(e.out, ev)
	}
	running := map[string]bool{}
	for _, a := range e.snap.InProgress {
		running[check.StuckKey(a.Name, a.ID)] = true
	}
	waiting := map[string]bool{}
	for _, a := range e.snap.Scheduled {
		waiting[check.StuckKey(a.Name, a.ID)] = true
	}
	for _, p := range e.sortedOpen(event.OperationStuck) {
		if e.ps.Has(p.Key) || p.Event.Operation == nil {
			continue
		}
		if running[p.Key] {
			limit := "off"
			if th := e.ps.Thresholds.StuckAfter; th > 0 {
				limit = th.String()
			}
			e.closeQuietly(p.Key, fmt.Sprintf("%s is still in progress but no longer over stuck_after (now %s)", p.Event.Operation.Name, limit))
			continue
		}
		if waiting[p.Key] {
			e.closeQuietly(p.Key, fmt.Sprintf("%s is still waiting for its time but no longer over scheduled_stuck_after (now %s)", p.Event.Operation.Name, e.ps.Thresholds.ScheduledStuckAfter))
			continue
		}
		op := *p.Event.Operation
		ev := e.event(event.OperationUnstuck, p.Key, e.now, op.Name+" is no longer running: "+e.outcome(op))
		ev.Operation = &op
		e.close(p.Key)
		e.out = append(e.out, ev)
	}
}

// outcome says how a formerly stuck row ended, as far as the snapshot
// tells.
func (e *evaluator) outcome(op event.Operation) string {
	for _, f := range e.snap.Failing {
		if f.ID == op.ID && f.Name == op.Name {
			return "it failed"
		}
	}
	if done, ok := e.snap.LastCompleted[op.Name]; ok && !done.Before(op.ExecutedAt) {
		return "it completed"
	}
	return "it finished, was skipped, rolled back or removed"
}

// pending alerts once when the backlog becomes a problem (over MaxPending)
// and clears once when it falls to ClearAt: the hysteresis keeps the alert
// open while the count is between the two, though check no longer counts
// it as a problem there.
func (e *evaluator) pending() {
	st, th := e.st, e.ps.Thresholds
	count := e.snap.Counts.PendingOperations
	over, isOver := e.ps.Get(check.PendingKey)
	switch {
	case th.MaxPending <= 0:
		if st.PendingAlerted {
			// Turned off in the configuration: nothing left to watch.
			e.closeQuietly(check.PendingKey, "max_pending is off")
			st.PendingAlerted = false
		}
	case !st.PendingAlerted && isOver:
		p := over.Pending
		ev := e.event(event.PendingThreshold, over.Key, e.now,
			fmt.Sprintf("%d operations pending (threshold %d)", p.Count, p.Threshold))
		ev.Pending = &event.PendingCount{Count: p.Count, Threshold: p.Threshold, Names: e.pendingNames()}
		e.open(ev)
		delete(st.Seen, over.Key) // not a once-only key
		st.PendingAlerted = true
		e.out = append(e.out, ev)
	case st.PendingAlerted && count <= th.ClearAt():
		ev := e.event(event.PendingCleared, check.PendingKey, e.now,
			fmt.Sprintf("%d operations pending, back at or below %d (threshold %d)", count, th.ClearAt(), th.MaxPending))
		ev.Pending = &event.PendingCount{Count: count, Threshold: th.MaxPending, Names: e.pendingNames()}
		e.close(check.PendingKey)
		st.PendingAlerted = false
		e.out = append(e.out, ev)
	}
}

// maxNames bounds the pending names carried by an event.
const maxNames = 50

func (e *evaluator) pendingNames() []string {
	var names []string
	for _, p := range e.snap.PendingOperations {
		if len(names) == maxNames {
			break
		}
		names = append(names, p.Name)
	}
	return names
}

// reminders sends one Reminder listing the open problems last sent
// RepeatAfter ago or more. Problems whose event was never delivered are
// left alone: their event is still in the outbox, or dead.
func (e *evaluator) reminders() {
	if e.policy.RepeatAfter <= 0 {
		return
	}
	var items []event.Event
	for _, p := range e.sortedOpen("") {
		if e.touched[p.Key] || p.LastSentAt.IsZero() || e.now.Sub(p.LastSentAt) < e.policy.RepeatAfter {
			continue
		}
		items = append(items, e.current(p.Event))
		p.LastSentAt = e.now
		e.st.Open[p.Key] = p
	}
	if len(items) == 0 {
		return
	}
	s := fmt.Sprintf("%d problems still open: %s", len(items), items[0].Summary)
	if len(items) == 1 {
		s = "still open: " + items[0].Summary
	} else if len(items) > 2 {
		s += fmt.Sprintf(" and %d more", len(items)-1)
	} else {
		s += "; " + items[1].Summary
	}
	ev := e.event(event.Reminder, keyReminder, e.now, s)
	ev.Items = items
	e.out = append(e.out, ev)
}

// current refreshes the figures of a reminded event that change while it
// stays open (the backlog, how long a row has run), without storing them.
func (e *evaluator) current(ev event.Event) event.Event {
	switch ev.Kind {
	case event.PendingThreshold:
		if ev.Pending != nil {
			p := *ev.Pending
			p.Count = e.snap.Counts.PendingOperations
			ev.Pending = &p
			ev.Summary = fmt.Sprintf("%d operations pending (threshold %d)", p.Count, p.Threshold)
		}
	case event.OperationStuck:
		if ev.Operation != nil && !e.snap.TakenAt.IsZero() {
			op := *ev.Operation
			op.RunningFor = e.snap.TakenAt.Sub(op.ExecutedAt)
			ev.Operation = &op
			ev.Summary = fmt.Sprintf("%s has been running for %s (started %s)", op.Name, op.RunningFor.Round(time.Second), op.ExecutedAt.Format(time.DateTime))
			if slices.ContainsFunc(e.snap.Scheduled, func(a check.Attempt) bool { return a.ID == op.ID }) {
				ev.Summary = fmt.Sprintf("%s, a Scheduled operation queued %s, has waited %s for its time", op.Name, op.ExecutedAt.Format(time.DateTime), op.RunningFor.Round(time.Second))
			}
		}
	}
	return ev
}

// SourceFailed records a failed read of the application and returns a
// source.unreachable event once the failures in a row make it unreachable
// (check.Unreachable: th.UnreachableAfter), once per outage. err must
// already be free of secrets (connection strings carry passwords).
func SourceFailed(st *state.State, err error, now time.Time, th check.Thresholds, app string) []event.Event {
	st.Ensure()
	src := &st.Source
	if src.Failures == 0 {
		src.Since = now
	}
	src.Failures++
	if err != nil {
		src.LastError = err.Error()
	}
	p, down := check.Unreachable(check.SourceDown{Failures: src.Failures, Since: src.Since, LastError: src.LastError}, th)
	if src.Alerted || !down {
		return nil
	}
	s := fmt.Sprintf("cannot read %s: %d failed checks in a row since %s", app, src.Failures, src.Since.Format(time.DateTime))
	if m := oneLine(src.LastError); m != "" {
		s += ": " + m
	}
	ev := st.NewEvent(p.Kind, p.Key, app, "", src.Since, s)
	ev.Source = src.LastError
	st.Open[p.Key] = state.OpenProblem{Kind: ev.Kind, Key: p.Key, Event: ev, OpenedAt: now}
	src.Alerted = true
	return []event.Event{ev}
}

// SourceOK records a successful read of the application. It returns a
// source.recovered event when an unreachable alert had been sent, and
// resets the failure count either way.
func SourceOK(st *state.State, now time.Time, app string) []event.Event {
	st.Ensure()
	src := st.Source
	st.Source = state.Source{}
	if !src.Alerted {
		return nil
	}
	delete(st.Open, check.SourceKey)
	ev := st.NewEvent(event.SourceRecovered, check.SourceKey, app, "", now,
		fmt.Sprintf("%s readable again after %d failed checks (unreachable since %s)", app, src.Failures, src.Since.Format(time.DateTime)))
	return []event.Event{ev}
}

// maxSummary bounds the part of a summary taken from an error message.
const maxSummary = 200

// oneLine returns the first non-empty line of s, shortened to maxSummary
// characters.
func oneLine(s string) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if utf8.RuneCountInString(line) > maxSummary {
			r := []rune(line)
			line = string(r[:maxSummary]) + "…"
		}
		return line
	}
	return ""
}
