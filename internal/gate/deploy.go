package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/text"
)

// Muter mutes the alerting daemon for the application being deployed
// (the state's mutes, as `seqwatch mute` makes them).
type Muter interface {
	// Mute mutes until until and returns the mute's id.
	Mute(ctx context.Context, reason string, until time.Time) (id string, err error)
	// Extend makes the mute id last until until, making it again (with
	// the same id) if it has ended meanwhile.
	Extend(ctx context.Context, id, reason string, until time.Time) error
	// Unmute removes the mute; problems still open are then sent once,
	// at the daemon's next tick.
	Unmute(ctx context.Context, id string) error
}

// Reporter tells people how the deploy ended (--notify: one
// deploy.finished event through the configured channels).
type Reporter interface {
	Report(ctx context.Context, d DeployResult) error
}

// DefaultMargin is how much longer than the wait's timeout the deploy's
// mute lasts: time for the command's end to be seen, the unmute to be
// written and a daemon tick. If `seqwatch deploy` is killed (kill -9),
// the mute ends by itself this long after the timeout.
const DefaultMargin = 2 * time.Minute

// DeployOptions say what Deploy does.
type DeployOptions struct {
	Command Command
	// Wait tunes the wait after the command (Since is set by Deploy: the
	// moment before the command started).
	Wait Options
	// Margin is added to Wait.Timeout for the mute; 0 is DefaultMargin.
	Margin time.Duration
	// Muter and Reporter are optional.
	Muter    Muter
	Reporter Reporter
	// Warn receives one sentence about what went wrong beside the deploy
	// (a mute that could not be made, a report not sent); nil drops it.
	Warn func(string)
}

// DeployResult is how a deploy ended.
type DeployResult struct {
	Command Command
	Exit    Exit
	// Waited is false when a signal stopped the deploy before the wait.
	Waited bool
	Wait   Result
	// MuteID is the mute made for the deploy ("" when none).
	MuteID   string
	Started  time.Time
	Finished time.Time
}

// Elapsed is how long the whole deploy took.
func (d DeployResult) Elapsed() time.Duration { return d.Finished.Sub(d.Started) }

// Deploy runs a deploy step and waits for the work it gave Sequencer:
//  1. it mutes the daemon (reason "deploy: <the command>") until the
//     timeout plus the margin, so that nobody is paged for what the
//     person deploying is watching;
//  2. it runs the command (Run), and once it has ended, moves the mute's
//     end to the timeout plus the margin from then;
//  3. it waits as Wait does, for the runs started since the moment before
//     the command started (not when a signal was forwarded to the
//     command: the person deploying asked it to stop);
//  4. it unmutes, so that the problems still open are sent once;
//  5. it reports (Reporter), and returns. DeployVerdict judges the result.
func Deploy(ctx context.Context, src Source, opt DeployOptions, obs Observer) DeployResult {
	now := opt.Wait.Now
	if now == nil {
		now = time.Now
	}
	warn := opt.Warn
	if warn == nil {
		warn = func(string) {}
	}
	if opt.Wait.Timeout <= 0 {
		opt.Wait.Timeout = DefaultTimeout
	}
	margin := opt.Margin
	if margin <= 0 {
		margin = DefaultMargin
	}
	d := DeployResult{Command: opt.Command, Started: now()}
	reason := MuteReason(opt.Command)
	// The side jobs (mute, unmute, report) must happen even after a
	// signal, and each within a bound of its own.
	side := func(f func(context.Context) error) error {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return f(c)
	}
	if opt.Muter != nil {
		err := side(func(c context.Context) error {
			var err error
			d.MuteID, err = opt.Muter.Mute(c, reason, d.Started.Add(opt.Wait.Timeout+margin))
			return err
		})
		if err != nil {
			warn(fmt.Sprintf("could not mute the daemon for the deploy (%v): it may alert during the deploy", err))
		}
	}

	d.Exit = Run(opt.Command, now)
	if o, ok := obs.(interface{ CommandEnded(Command, Exit) }); ok {
		o.CommandEnded(opt.Command, d.Exit)
	}
	if d.MuteID != "" {
		if err := side(func(c context.Context) error {
			return opt.Muter.Extend(c, d.MuteID, reason, now().Add(opt.Wait.Timeout+margin))
		}); err != nil {
			warn(fmt.Sprintf("could not extend the deploy's mute %s (%v): it ends as first set", d.MuteID, err))
		}
	}
	if len(d.Exit.Forwarded) == 0 && ctx.Err() == nil {
		w := opt.Wait
		w.Since = d.Started
		d.Wait = Wait(ctx, src, w, obs)
		d.Waited = true
	}

	if d.MuteID != "" {
		if err := side(func(c context.Context) error { return opt.Muter.Unmute(c, d.MuteID) }); err != nil {
			warn(fmt.Sprintf("could not end the deploy's mute %s (%v): it ends by itself at the timeout plus %s", d.MuteID, err, check.HumanDuration(margin)))
		}
	}
	d.Finished = now()
	if opt.Reporter != nil {
		if err := side(func(c context.Context) error { return opt.Reporter.Report(c, d) }); err != nil {
			warn(fmt.Sprintf("could not report the deploy: %v", err))
		}
	}
	return d
}

// MuteReason is the reason of a deploy's mute: "deploy: " and the
// command, within the 500 characters a mute's reason may have.
func MuteReason(c Command) string {
	return text.Line("deploy: "+c.String(), 500)
}

// DeployVerdict judges a deploy: the worst (CRITICAL, then UNKNOWN, then
// WARNING) of the command's own failure (CRITICAL) and the wait's
// verdict. The summary starts with the command when it failed.
func DeployVerdict(d DeployResult) check.Verdict {
	var v check.Verdict
	if d.Waited {
		v = Verdict(d.Wait)
	} else {
		// Nothing was waited for: never OK, even when the command, told
		// to stop, still exited 0.
		v = check.Verdict{Status: check.Warning, Summary: "stopped by a signal before the wait", Problems: []string{"stopped by a signal before the wait"},
			Stuck: []check.Attempt{}, Failing: []check.Failure{}, Perf: []check.Perf{}}
	}
	if d.Exit.Failed() {
		p := "the command " + d.Exit.Describe() + ": " + text.Line(d.Command.String(), 200)
		v.Problems = append([]string{p}, v.Problems...)
		v.Summary = p + check.ProblemSeparator + v.Summary
		v.Status = Worst(v.Status, check.Critical)
	}
	v.Code = int(v.Status)
	v.Perf = append(v.Perf, check.Perf{Label: "exit_status", Value: d.Exit.Code})
	return v
}

// Worst is the worse of two statuses, in the order of `seqwatch check`
// over several applications: CRITICAL, UNKNOWN, WARNING, OK.
func Worst(a, b check.Status) check.Status {
	rank := func(s check.Status) int {
		switch s {
		case check.Critical:
			return 3
		case check.Unknown:
			return 2
		case check.Warning:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}
