package main

import (
	"context"
	"io"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/demo"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/render"
)

const demoHelp = `Usage: seqwatch demo [--keep DIR]

Builds a throwaway Laravel application with Sequencer's tables in SQLite
(no server needed) holding a realistic mix of completed, failed,
failed-then-recovered, in-progress and pending operations, then runs
"seqwatch status", "seqwatch check" and one alerting tick (printed on the
console) against it, then a short "seqwatch wait" during which a queue
worker (played by the demo) finishes an asynchronous operation, and says
how to point seqwatch at a real application.

--keep DIR writes the sample application into DIR and keeps it, so you can
run the other commands against it yourself.

Exit status: 0 the demo ran; 1 it could not.
`

func runDemo(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("demo", e.stderr, demoHelp)
	keep := fs.String("keep", "", "write the sample application into `DIR` and keep it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	color := useColor(e)
	return demo.Tour{Dir: *keep, Now: e.now().UTC().Truncate(time.Second), Out: e.stdout, Color: color, StatusLine: statusLine(e), Sleep: e.sleep,
		Status: func(ctx context.Context, w io.Writer, src laravel.Source, now time.Time) (*check.Snapshot, error) {
			return printStatus(ctx, w, src, now, time.Time{}, render.StatusOptions{Verbose: true, Color: color}, false)
		}}.Run(ctx)
}
