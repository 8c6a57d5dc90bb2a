package gate

import (
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/event"
	"github.com/seqwatch/seqwatch/internal/text"
)

// Event is the deploy.finished event of a deploy: what ran, what failed
// with its exception, what was rolled back or skipped, how long it took.
// Its Summary is the verdict's summary, which every channel shows; the
// details are in Event.Deploy (the webhook's "deploy" object). id is the
// event's id (state.NewEventID); app and env name the application.
func Event(d DeployResult, id, app, env string) event.Event {
	v := DeployVerdict(d)
	rep := &event.Deploy{
		Command: text.Line(d.Command.String(), 500), ExitCode: d.Exit.Code, Signal: d.Exit.Signal,
		Status: v.Status.String(), Seconds: int64(d.Elapsed().Round(time.Second) / time.Second),
		Completed: []string{}, Failed: []event.DeployFailed{}, RolledBack: []string{}, Skipped: []event.DeploySkip{},
		Running: []string{}, Scheduled: []string{}, NotRun: []string{},
	}
	for _, j := range d.Wait.Runs {
		switch j.Outcome {
		case Completed, Recovered:
			rep.Completed = append(rep.Completed, j.Name)
		case Failed:
			f := event.DeployFailed{Name: j.Name}
			if e, ok := check.HeadlineError(j.Errors, check.ErrorRecord.CreatedTime); ok {
				f.Exception, f.Message = e.Exception, text.CutBytes(e.Message, 2<<10)
			}
			rep.Failed = append(rep.Failed, f)
		case RolledBack:
			rep.RolledBack = append(rep.RolledBack, j.Name)
		case Skipped:
			rep.Skipped = append(rep.Skipped, event.DeploySkip{Name: j.Name, Reason: text.CutBytes(j.SkipReason, 1<<10)})
		case Running, Retrying:
			rep.Running = append(rep.Running, j.Name)
		case Scheduled:
			rep.Scheduled = append(rep.Scheduled, j.Name)
		}
	}
	for _, f := range d.Wait.NotRun {
		rep.NotRun = append(rep.NotRun, f.Name)
	}
	return event.Event{
		ID: id, Kind: event.DeployFinished, Key: string(event.DeployFinished) + "/" + id,
		App: app, Environment: env, OccurredAt: d.Finished,
		Summary: "deploy finished, " + v.Status.String() + ": " + v.Summary,
		Deploy:  rep,
	}
}
