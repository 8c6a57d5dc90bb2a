package gate_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/gate"
	"github.com/seqwatch/seqwatch/internal/reader"
)

func at(s int) *time.Time {
	t := base.Add(time.Duration(s) * time.Second)
	return &t
}

func run(id, name, typ string, exec int) reader.Run {
	return reader.Run{Attempt: check.Attempt{ID: id, Name: name, Type: typ, State: "pending", ExecutedAt: *at(exec)}}
}

// Each row shape comes to the outcome check's rules give it.
func TestJudgeGivesEachRunItsOutcome(t *testing.T) {
	t.Parallel()
	now := *at(100)
	failedAt := func(r reader.Run, s int) reader.Run { r.FailedAt, r.State = at(s), "failed"; return r }
	completedAt := func(r reader.Run, s int) reader.Run { r.CompletedAt, r.State = at(s), "completed"; return r }
	tests := []struct {
		name  string
		runs  []reader.Run
		grace time.Duration
		want  []gate.Outcome
	}{
		{"open", []reader.Run{run("1", opA, "async", 0)}, 0, []gate.Outcome{gate.Running}},
		{"completed", []reader.Run{completedAt(run("1", opA, "sync", 0), 3)}, 0, []gate.Outcome{gate.Completed}},
		{"sync failure is final at once", []reader.Run{failedAt(run("1", opA, "sync", 0), 99)}, time.Hour, []gate.Outcome{gate.Failed}},
		{"async failure within the grace", []reader.Run{failedAt(run("1", opA, "async", 0), 50)}, 51 * time.Second, []gate.Outcome{gate.Retrying}},
		{"async failure at the end of the grace", []reader.Run{failedAt(run("1", opA, "async", 0), 50)}, 50 * time.Second, []gate.Outcome{gate.Failed}},
		{"async retry completed in place", []reader.Run{completedAt(failedAt(run("1", opA, "async", 0), 5), 40)}, time.Minute, []gate.Outcome{gate.Completed}},
		{"a later run recovers a failure", []reader.Run{failedAt(run("1", opA, "sync", 0), 1), completedAt(run("2", opA, "sync", 10), 11)}, 0,
			[]gate.Outcome{gate.Recovered, gate.Completed}},
		{"an open run older than a completed one is abandoned", []reader.Run{run("1", opA, "async", 0), completedAt(run("2", opA, "async", 10), 11)}, 0,
			[]gate.Outcome{gate.Superseded, gate.Completed}},
		{"skipped", []reader.Run{func() reader.Run { r := run("1", opA, "sync", 0); r.SkippedAt, r.SkipReason = at(1), "later"; return r }()}, 0,
			[]gate.Outcome{gate.Skipped}},
		{"rolled back after a failure of the same run", []reader.Run{
			func() reader.Run { r := completedAt(run("1", opA, "sync", 0), 2); r.RolledBackAt = at(5); return r }(),
			failedAt(run("2", opB, "sync", 2), 4)}, 0,
			[]gate.Outcome{gate.RolledBack, gate.Failed}},
		{"scheduled, its file says so", []reader.Run{run("1", opA, "scheduled", 0)}, 0, []gate.Outcome{gate.Scheduled}},
		{"type scheduled, its file not Scheduled: queued work", []reader.Run{run("1", opB, "scheduled", 0)}, 0, []gate.Outcome{gate.Running}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gate.Judge(tt.runs, now, gate.Rules{AsyncRetryGrace: tt.grace, WaitsForTime: func(name string) bool { return name == opA }})
			var outs []gate.Outcome
			for _, j := range got {
				outs = append(outs, j.Outcome)
			}
			if len(outs) != len(tt.want) {
				t.Fatalf("outcomes %v, want %v", outs, tt.want)
			}
			for i := range outs {
				if outs[i] != tt.want[i] {
					t.Errorf("outcomes %v, want %v", outs, tt.want)
				}
			}
			if tt.want[0] == gate.RolledBack && (got[0].Cause == nil || got[0].Cause.Name != opB) {
				t.Errorf("the rollback's cause: %+v, want %s", got[0].Cause, opB)
			}
		})
	}
}

// On a terminal the printer keeps one status line, redrawn in place and
// cleared before each line; colour only when asked (a terminal without
// NO_COLOR); elsewhere plain lines and no status line.
func TestPrinterStatusLineAndColour(t *testing.T) {
	t.Parallel()
	j := gate.Judge([]reader.Run{run("1", opA, "async", 0)}, *at(5), gate.Rules{})
	var tty, plain bytes.Buffer
	p := gate.NewPrinter(&tty, true, true, 0)
	p.Changed(j[0], "")
	p.Polled(j, 5*time.Second)
	p.Polled(j, 6*time.Second)
	p.Finish(gate.Result{Runs: j}, check.Verdict{Summary: "x"})
	got := tty.String()
	if strings.Count(got, "\r\x1b[2K") != 2 || !strings.Contains(got, "waiting: 1 running · 6s") || !strings.Contains(got, "\x1b[2m▸\x1b[0m "+opA) {
		t.Errorf("terminal output %q", got)
	}
	q := gate.NewPrinter(&plain, false, false, 0)
	q.Changed(j[0], "")
	q.Polled(j, 5*time.Second)
	if got := plain.String(); got != "▸ "+opA+" started (async)\n" {
		t.Errorf("plain output %q", got)
	}
}

// A deploy exits with the worst of the command's own failure (CRITICAL)
// and the wait's verdict, in check's order over several applications
// (CRITICAL, UNKNOWN, WARNING); a deploy stopped before the wait is never OK.
func TestDeployVerdictIsTheWorstOfTheCommandAndTheWait(t *testing.T) {
	t.Parallel()
	done := []gate.Judged{{Run: run("1", opA, "sync", 0), Outcome: gate.Completed}}
	running := []gate.Judged{{Run: run("1", opA, "async", 0), Outcome: gate.Running, For: time.Minute}}
	tests := []struct {
		name string
		d    gate.DeployResult
		want check.Status
		sum  string
	}{
		{"all good", gate.DeployResult{Waited: true, Wait: gate.Result{Runs: done}}, check.OK, "done in"},
		{"the command failed", gate.DeployResult{Exit: gate.Exit{Code: 3}, Waited: true, Wait: gate.Result{Runs: done}}, check.Critical,
			"the command failed (exit status 3): php artisan sequencer:process -- done in"},
		{"killed by a signal", gate.DeployResult{Exit: gate.Exit{Code: -1, Signal: "killed"}, Waited: true}, check.Critical, "the command was killed by a signal (killed)"},
		{"timed out", gate.DeployResult{Waited: true, Wait: gate.Result{Runs: running, TimedOut: true, Timeout: time.Minute}}, check.Warning,
			"timed out after 1m00s with 1 operation still running (" + opA + " async running for 1m00s)"},
		{"the command failed and the wait could not read", gate.DeployResult{Exit: gate.Exit{Code: 1}, Waited: true, Wait: gate.Result{Err: errTest}}, check.Critical, "the command failed (exit status 1)"},
		{"stopped before the wait, the command exited 0", gate.DeployResult{}, check.Warning, "stopped by a signal before the wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.Command = gate.Command{Argv: []string{"php", "artisan", "sequencer:process"}}
			v := gate.DeployVerdict(tt.d)
			if v.Status != tt.want || v.Code != int(tt.want) || !strings.Contains(v.Summary, tt.sum) {
				t.Errorf("%s (%d): %s; want %s and %q", v.Status, v.Code, v.Summary, tt.want, tt.sum)
			}
		})
	}
}

var errTest = errors.New("cannot connect to 127.0.0.1:5432")
