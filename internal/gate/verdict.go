package gate

import (
	"fmt"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/text"
)

// Tally counts the runs of each outcome.
type Tally map[Outcome]int

// TallyOf counts runs by outcome.
func TallyOf(runs []Judged) Tally {
	t := Tally{}
	for _, j := range runs {
		t[j.Outcome]++
	}
	return t
}

// Verdict judges the end of a wait in check's form, with check's exit
// codes:
//   - CRITICAL (2): a run of the deploy failed, or was rolled back;
//   - WARNING (1): the timeout came (or a signal) with runs still holding
//     the wait, each named with how long it has run; or, with RequireAll,
//     operation files that no run of the deploy ran (also when the wait
//     ended on its settle period, or the timeout, waiting for them);
//   - UNKNOWN (3): the application could not be read;
//   - OK (0): everything that ran has completed (skipped counts as done).
//
// The summary names the failures with their exception (as check does),
// then what was rolled back, what still runs, what was skipped or waits
// for its time, and the files that did not run.
func Verdict(res Result) check.Verdict {
	if res.Err != nil {
		return check.UnknownVerdict(res.Err)
	}
	var failed, rolled, running, skipped, scheduled []Judged
	for _, j := range res.Runs {
		switch j.Outcome {
		case Failed:
			failed = append(failed, j)
		case RolledBack:
			rolled = append(rolled, j)
		case Running, Retrying:
			running = append(running, j)
		case Skipped:
			skipped = append(skipped, j)
		case Scheduled:
			scheduled = append(scheduled, j)
		}
	}
	v := check.Verdict{Status: check.OK, Problems: []string{}, Stuck: []check.Attempt{}, Failing: []check.Failure{}}
	worse := func(s check.Status) { v.Status = max(v.Status, s) }
	if n := len(failed); n > 0 {
		worse(check.Critical)
		v.Problems = append(v.Problems, fmt.Sprintf("%d failed %s (%s)", n, plural(n, "operation"), list(failed, 3, func(j Judged) string {
			return text.Line(j.Name, 255) + ": " + failure(j.Run).Headline()
		})))
		for _, j := range failed {
			v.Failing = append(v.Failing, failure(j.Run))
		}
	}
	if n := len(rolled); n > 0 {
		worse(check.Critical)
		why := ""
		if c := rolled[0].Cause; c != nil {
			why = " after " + text.Line(c.Name, 255) + " failed"
		}
		v.Problems = append(v.Problems, fmt.Sprintf("%d rolled back%s, which Sequencer will not run again (%s)", n, why, list(rolled, 3, name)))
	}
	if n := len(running); n > 0 && (res.TimedOut || res.Stopped) {
		worse(check.Warning)
		what := fmt.Sprintf("timed out after %s", check.HumanDuration(res.Timeout))
		if res.Stopped {
			what = "stopped"
		}
		v.Problems = append(v.Problems, fmt.Sprintf("%s with %d %s still running (%s)", what, n, plural(n, "operation"), list(running, 3, func(j Judged) string {
			s := text.Line(j.Name, 255) + " " + j.Type + " running for " + check.HumanDuration(j.For)
			if j.Outcome == Retrying {
				s += ", waiting for the queue's retry"
			}
			return s
		})))
		for _, j := range running {
			a := j.Attempt
			a.RunningFor = check.Duration(j.For)
			v.Stuck = append(v.Stuck, a)
		}
	}
	if len(res.NotRun) > 0 && res.RequireAll {
		worse(check.Warning)
		v.Problems = append(v.Problems, notRunNote(res))
	}
	t := TallyOf(res.Runs)
	done := fmt.Sprintf("%d completed", t[Completed]+t[Recovered])
	if len(res.Runs) == 0 {
		done = "nothing ran since " + res.Since.Format(time.DateTime)
	}
	var notes []string
	if len(v.Problems) == 0 {
		notes = append(notes, "done in "+check.HumanDuration(res.Elapsed())+": "+done)
	}
	if n := len(skipped); n > 0 {
		notes = append(notes, fmt.Sprintf("%d skipped (%s)", n, list(skipped, 3, func(j Judged) string {
			s := text.Line(j.Name, 255)
			if r := text.Line(j.SkipReason, 120); r != "" {
				s += ": " + r
			}
			return s
		})))
	}
	if n := len(scheduled); n > 0 {
		notes = append(notes, fmt.Sprintf("%d scheduled for later (%s)", n, list(scheduled, 3, name)))
	}
	if len(res.NotRun) > 0 && !res.RequireAll {
		notes = append(notes, notRunNote(res))
	}
	v.Summary = strings.Join(append(append([]string{}, v.Problems...), notes...), check.ProblemSeparator)
	v.Code = int(v.Status)
	v.Counts.InProgress = len(running)
	v.Counts.Failing = len(failed)
	v.Perf = []check.Perf{
		{Label: "runs", Value: len(res.Runs)},
		{Label: "completed", Value: t[Completed] + t[Recovered]},
		{Label: "failed", Value: len(failed)},
		{Label: "rolled_back", Value: len(rolled)},
		{Label: "skipped", Value: len(skipped)},
		{Label: "in_progress", Value: len(running)},
		{Label: "scheduled", Value: len(scheduled)},
		{Label: "not_run", Value: len(res.NotRun)},
		{Label: "seconds", Value: int(res.Elapsed().Round(time.Second) / time.Second)},
	}
	return v
}

func name(j Judged) string { return text.Line(j.Name, 255) }

// list names up to n runs, then how many more.
func list(js []Judged, n int, f func(Judged) string) string {
	var parts []string
	for i, j := range js {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(js)-n))
			break
		}
		parts = append(parts, f(j))
	}
	return strings.Join(parts, check.ItemSeparator)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// notRunNote names the operation files that no run of the deploy ran.
func notRunNote(res Result) string {
	n := len(res.NotRun)
	var names []string
	for i, f := range res.NotRun {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", n-3))
			break
		}
		names = append(names, text.Line(f.Name, 255))
	}
	note := fmt.Sprintf("%d operation %s not run (%s)", n, plural(n, "file"), strings.Join(names, check.ItemSeparator))
	if res.Settled > 0 {
		// The wait ended on its settle: say that it gave up on
		// them, not that Sequencer is done with them.
		note += fmt.Sprintf(" after %s with no change", check.HumanDuration(res.Settled))
	}
	return note
}
