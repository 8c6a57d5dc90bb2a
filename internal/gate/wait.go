package gate

import (
	"context"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/pause"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// Source is what the wait reads: the deploy's runs, incrementally, and the
// application's operation files.
type Source interface {
	// Runs returns every run that started at or after since, reading
	// again the runs of recheck whatever else changed.
	Runs(ctx context.Context, since time.Time, recheck []string) ([]reader.Run, error)
	// Pending returns the operation files that have no completed run.
	Pending(ctx context.Context) ([]check.PendingFile, error)
	// WaitsForTime reports whether the operation's file implements
	// Sequencer's Scheduled contract.
	WaitsForTime(name string) bool
}

// Options tune Wait.
type Options struct {
	// Since is the moment the deploy's runs start from.
	Since time.Time
	// Timeout bounds the wait; 0 is DefaultTimeout.
	Timeout time.Duration
	// AsyncRetryGrace: see Rules.
	AsyncRetryGrace time.Duration
	// RequireAll makes operation files that no run since Since ran a
	// WARNING.
	RequireAll bool
	// Settle is how long nothing may change, with no run holding the
	// wait, before it ends: the gap between two runs of a
	// sequencer:process that runs alongside the wait (the next run not yet
	// written, a migration in between) is not the end of its work. 0: no
	// settle, the wait ends as soon as no run holds it (Deploy, whose
	// command has ended by then). AutoSettle: DefaultSettle while
	// operation files that were pending when the wait began have no run
	// since Since and no synchronous run has failed (Sequencer stops at
	// one); none once they all have.
	Settle time.Duration
	// ReadTimeout bounds each poll; 0 is 10 s.
	ReadTimeout time.Duration
	// Location is the application's time zone, that times are shown in;
	// nil: UTC.
	Location *time.Location
	// Now and Sleep are the clock; nil: time.Now and a timer. Tests pass
	// a clock that Sleep advances.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultTimeout is how long Wait waits unless told otherwise.
const DefaultTimeout = 15 * time.Minute

// AutoSettle, as Options.Settle, settles only while files pending at the
// start have not run; DefaultSettle is how long it then settles.
const (
	AutoSettle    time.Duration = -1
	DefaultSettle               = time.Minute
)

// The poll interval: MinInterval after a change, one second longer at
// each poll that sees none, up to MaxInterval.
const (
	MinInterval = time.Second
	MaxInterval = 5 * time.Second
)

// readFailures is how many polls in a row may fail before the wait gives
// up (check's unreachable_after default); the first poll may not fail.
const readFailures = check.DefaultUnreachableAfter

// Observer hears what the wait sees as it sees it.
type Observer interface {
	// Changed is called for each run whose outcome changed (from "" when
	// it is new).
	Changed(j Judged, was Outcome)
	// Polled is called after each poll with every run so far and the time
	// waited.
	Polled(runs []Judged, elapsed time.Duration)
	// ReadFailed is called when a poll fails and the wait goes on.
	ReadFailed(err error, failures int)
}

// Result is the end of a wait.
type Result struct {
	Since    time.Time
	Started  time.Time
	Finished time.Time
	// Runs are the deploy's runs as last judged, in the order they
	// started.
	Runs []Judged
	// NotRun are the operation files still pending that no run since
	// Since ran.
	NotRun []check.PendingFile
	// TimedOut: the timeout came with runs still holding the wait.
	TimedOut bool
	// Settled is how long nothing had changed when the wait ended on its
	// settle period, with operation files pending at the start still not
	// run (AutoSettle), or with any settle given; 0 when it ended
	// without one.
	Settled time.Duration
	// Stopped: a signal ended the wait early.
	Stopped bool
	// Err is why the application could not be read (the verdict is then
	// UNKNOWN).
	Err error
	// RequireAll and Timeout are the options the wait ran with.
	RequireAll bool
	Timeout    time.Duration
}

// Elapsed is how long the wait took.
func (r Result) Elapsed() time.Duration { return r.Finished.Sub(r.Started) }

// Wait polls src until none of the runs that started since opt.Since holds
// it (running, or an async failure waiting for the queue's retry), the
// timeout comes, ctx ends or the application cannot be read. It tells obs
// each change. It never returns an error: Result.Err says what could not
// be read.
func Wait(ctx context.Context, src Source, opt Options, obs Observer) Result {
	now, sleep := opt.Now, opt.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = pause.For
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.ReadTimeout <= 0 {
		opt.ReadTimeout = 10 * time.Second
	}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	rules := Rules{AsyncRetryGrace: opt.AsyncRetryGrace, WaitsForTime: src.WaitsForTime}
	res := Result{Since: opt.Since.In(loc), Started: now().In(loc), RequireAll: opt.RequireAll, Timeout: opt.Timeout}
	deadline := res.Started.Add(opt.Timeout)
	// What the wait expects to run: the files pending now (read once, a
	// probe per file), for AutoSettle only.
	var expected []check.PendingFile
	if opt.Settle == AutoSettle {
		pctx, cancel := context.WithTimeout(ctx, opt.ReadTimeout)
		pending, err := src.Pending(pctx)
		cancel()
		if err != nil {
			res.Err, res.Finished = err, now().In(loc)
			return res
		}
		expected = pending
	}
	lastChange := res.Started
	was := map[string]Outcome{}
	var recheck []string
	interval := MinInterval
	failures := 0
	for polls := 0; ; polls++ {
		runs, err := pollOnce(ctx, src, opt, recheck)
		t := now()
		switch {
		case err != nil && ctx.Err() != nil:
			res.Stopped = true
		case err != nil && (polls == 0 || failures+1 >= readFailures):
			res.Err = err
		case err != nil:
			failures++
			obs.ReadFailed(err, failures)
		default:
			failures = 0
			res.Runs = Judge(runs, t, rules)
			recheck = recheck[:0]
			changed := false
			for _, j := range res.Runs {
				if j.Outcome == Retrying {
					recheck = append(recheck, j.ID)
				}
				if was[j.ID] != j.Outcome {
					obs.Changed(j, was[j.ID])
					was[j.ID] = j.Outcome
					changed = true
				}
			}
			if changed {
				interval = MinInterval
				lastChange = t
			}
			obs.Polled(res.Runs, t.Sub(res.Started))
		}
		if res.Stopped || res.Err != nil {
			break
		}
		settle := time.Duration(0)
		if err == nil && !holding(res.Runs) {
			settle = settleFor(opt.Settle, expected, res.Runs)
			quiet := t.Sub(lastChange)
			if quiet >= settle {
				if settle > 0 {
					res.Settled = quiet
				}
				break
			}
		}
		if !t.Before(deadline) {
			res.TimedOut = holding(res.Runs) || err != nil
			if !res.TimedOut {
				// The timeout cut the settle short: nothing holds.
				res.Settled = t.Sub(lastChange)
			}
			break
		}
		next := min(interval, deadline.Sub(t))
		if settle > 0 {
			next = min(next, settle-t.Sub(lastChange))
		}
		if err := sleep(ctx, next); err != nil || ctx.Err() != nil {
			res.Stopped = true
			break
		}
		interval = min(interval+time.Second, MaxInterval)
	}
	res.Finished = now().In(loc)
	if res.Err == nil {
		// What did not run: read once, at the end (a probe per file).
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opt.ReadTimeout)
		pending, err := src.Pending(pctx)
		cancel()
		if err != nil {
			res.Err = err
		} else {
			res.NotRun = notRun(pending, res.Runs)
		}
	}
	return res
}

// pollOnce is one poll within the read timeout.
func pollOnce(ctx context.Context, src Source, opt Options, recheck []string) ([]reader.Run, error) {
	ctx, cancel := context.WithTimeout(ctx, opt.ReadTimeout)
	defer cancel()
	return src.Runs(ctx, opt.Since, recheck)
}

// settleFor is how long nothing may change, with no run holding, before
// the wait ends: given, or for AutoSettle DefaultSettle while some
// expected file has no run and no synchronous run has failed (after one
// Sequencer rolls back and stops: what has not run will not).
func settleFor(given time.Duration, expected []check.PendingFile, runs []Judged) time.Duration {
	if given != AutoSettle {
		return max(given, 0)
	}
	for _, j := range runs {
		if j.Type == "sync" && j.Outcome == Failed {
			return 0
		}
	}
	if len(notRun(expected, runs)) == 0 {
		return 0
	}
	return DefaultSettle
}

// holding reports whether a run still holds the wait.
func holding(runs []Judged) bool {
	for _, j := range runs {
		if j.Outcome.holds() {
			return true
		}
	}
	return false
}

// notRun are the pending files with no run among runs.
func notRun(pending []check.PendingFile, runs []Judged) []check.PendingFile {
	ran := map[string]bool{}
	for _, j := range runs {
		ran[j.Name] = true
	}
	out := []check.PendingFile{}
	for _, f := range pending {
		if !ran[f.Name] {
			out = append(out, f)
		}
	}
	return out
}
