package gate

import (
	"time"

	"github.com/seqwatch/seqwatch/check"
)

// Document is what `seqwatch wait --json` prints: the deploy's runs and
// the verdict. It is a promise to scripts, documented in docs/deploys.md:
// fields are added, never renamed or removed.
type Document struct {
	Since          time.Time `json:"since"`
	StartedAt      time.Time `json:"started_at"`
	FinishedAt     time.Time `json:"finished_at"`
	ElapsedSeconds int64     `json:"elapsed_seconds"`
	TimedOut       bool      `json:"timed_out"`
	Stopped        bool      `json:"stopped"`
	// SettledSeconds is how long nothing had changed when the wait ended
	// on its settle period; 0 when it ended without one.
	SettledSeconds int64 `json:"settled_seconds"`
	// Counts are the runs of each outcome (every outcome present, 0 or
	// not).
	Counts  map[Outcome]int     `json:"counts"`
	Runs    []RunDocument       `json:"runs"`
	NotRun  []check.PendingFile `json:"not_run"`
	Verdict check.Verdict       `json:"verdict"`
}

// RunDocument is one run of the deploy.
type RunDocument struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Type         string     `json:"type"`
	State        string     `json:"state"`
	ExecutedAt   time.Time  `json:"executed_at"`
	CompletedAt  *time.Time `json:"completed_at"`
	FailedAt     *time.Time `json:"failed_at"`
	SkippedAt    *time.Time `json:"skipped_at"`
	SkipReason   string     `json:"skip_reason,omitempty"`
	RolledBackAt *time.Time `json:"rolled_back_at"`
	// Outcome is what the run came to (running, waiting_for_retry,
	// scheduled, completed, recovered, failed, rolled_back, skipped,
	// superseded).
	Outcome Outcome `json:"outcome"`
	// Seconds is how long it took, or has been running.
	Seconds int64 `json:"seconds"`
	// RolledBackAfter names the failed run that caused the rollback.
	RolledBackAfter string              `json:"rolled_back_after,omitempty"`
	Errors          []check.ErrorRecord `json:"errors"`
}

// DocumentOf is the --json document of a wait's result.
func DocumentOf(res Result) Document {
	d := Document{
		Since: res.Since, StartedAt: res.Started, FinishedAt: res.Finished,
		ElapsedSeconds: int64(res.Elapsed().Round(time.Second) / time.Second),
		TimedOut:       res.TimedOut, Stopped: res.Stopped, SettledSeconds: int64(res.Settled / time.Second),
		Counts: map[Outcome]int{}, Runs: []RunDocument{}, NotRun: res.NotRun, Verdict: Verdict(res),
	}
	if d.NotRun == nil {
		d.NotRun = []check.PendingFile{}
	}
	for _, o := range []Outcome{Running, Retrying, Scheduled, Completed, Recovered, Failed, RolledBack, Skipped, Superseded} {
		d.Counts[o] = 0
	}
	for _, j := range res.Runs {
		d.Counts[j.Outcome]++
		r := RunDocument{
			ID: j.ID, Name: j.Name, Type: j.Type, State: j.State, ExecutedAt: j.ExecutedAt,
			CompletedAt: j.CompletedAt, FailedAt: j.FailedAt, SkippedAt: j.SkippedAt, SkipReason: j.SkipReason,
			RolledBackAt: j.RolledBackAt, Outcome: j.Outcome, Seconds: int64(j.For.Round(time.Second) / time.Second),
			Errors: j.Errors,
		}
		if r.Errors == nil {
			r.Errors = []check.ErrorRecord{}
		}
		if j.Cause != nil {
			r.RolledBackAfter = j.Cause.Name
		}
		d.Runs = append(d.Runs, r)
	}
	return d
}
