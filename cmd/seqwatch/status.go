package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/render"
	"github.com/seqwatch/seqwatch/internal/text"
)

const statusHelp = `Usage: seqwatch status [--app DIR | --dsn URL | --config FILE] [--pending|--completed|--failed] [-v] [--json]

Shows what "php artisan sequencer:status" shows, read straight from the
database and the application's files: pending migrations and operations,
completed operations, failed operations with their errors (stack traces
with -v), in the order sequencer:status lists them; plus operations in
progress, Scheduled operations waiting for their time, and markers: on
failures that later completed (or that the queue's retry completed in
place), on queued operations the next sequencer:process runs again, on
completed runs that Sequencer rolled back, and the last skip of a pending
operation. "Total: N failed operation(s)" counts the operations with a
failure not since completed (check's failed=), and is printed even when N
is 0. Without -v, a line under each error table says that a stack trace
was recorded. Warnings (a directory of operation or migration files that
does not exist) go to standard error.

--json prints the snapshot as JSON (schema in docs/status-and-check.md).

--since TIME shows only the runs that started at or after TIME (an RFC
3339 time such as 2024-06-01T12:00:00Z, or a duration ago such as 10m): a
deploy's completed, failed and in-progress runs, with the totals of that
window; the pending sections, which are files, stay whole. After
"seqwatch wait" or "seqwatch deploy":
  seqwatch status --app /var/www/shop --failed -v --since "$start"

Each section reads only what it shows, and the completed and failed lists
are written as they are read, however long the history: -t/--timeout
(default 60s) bounds the whole command, the writing included, so give a
longer one to page a long history through less.

Exit status: 0 printed; 1 the application could not be read; 2 bad usage.
`

func runStatus(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("status", e.stderr, statusHelp)
	var sf sourceFlags
	sf.register(fs, false)
	sf.registerTimeout(fs, reader.DefaultTimeout)
	var o render.StatusOptions
	var asJSON bool
	fs.BoolVar(&o.Pending, "pending", false, "show only pending migrations and operations")
	fs.BoolVar(&o.Completed, "completed", false, "show only completed operations")
	fs.BoolVar(&o.Failed, "failed", false, "show only failed operations")
	fs.BoolVar(&o.Verbose, "v", false, "show stack traces of failed operations")
	fs.BoolVar(&o.Verbose, "verbose", false, "same as -v")
	fs.BoolVar(&asJSON, "json", false, "print the snapshot as JSON")
	sinceFlag := fs.String("since", "", "show only the runs started at or after `TIME` (RFC 3339, or a duration ago such as 10m)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var since time.Time
	if *sinceFlag != "" {
		var err error
		if since, err = parseSince(*sinceFlag, e.now()); err != nil {
			fmt.Fprintf(e.stderr, "seqwatch status: %s\n", err)
			return errUsage
		}
	}
	src, th, err := sf.resolve(ctx, e)
	if err != nil {
		return err
	}
	if !asJSON {
		o.Color = useColor(e)
	}
	o.Now, o.RetryGrace = e.now(), th.AsyncRetryGrace
	o.HasFile = hasFile(src.OperationPaths)
	// A million completed rows are a million lines: written through a
	// buffer, not a system call each.
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	snap, err := printStatus(ctx, out, src, e.now(), since, o, asJSON)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if snap != nil {
		// Said on standard error, so that scripts reading the tables or
		// the JSON are not disturbed, and people still see it.
		printWarnings(e.stderr, snap, sf.fileOnly())
	}
	return err
}

// hasFile says whether an operation's file is in one of dirs, looking
// each name up once: the failed list may name an operation many times.
func hasFile(dirs []string) func(name string) bool {
	known := map[string]bool{}
	return func(name string) bool {
		has, ok := known[name]
		if !ok {
			has = laravel.OperationFile(dirs, name) != ""
			known[name] = has
		}
		return has
	}
}

// printWarnings writes the snapshot's warnings, one line each; a missing
// discovery directory with what to do about it.
func printWarnings(w io.Writer, snap *check.Snapshot, file bool) {
	for _, msg := range snap.Warnings {
		for _, d := range snap.MissingDirs {
			if msg == d.String() {
				msg += missingDirAdvice(d, file)
			}
		}
		fmt.Fprintf(w, "seqwatch status: warning: %s\n", text.Line(msg, 1000))
	}
}

// printStatus connects and writes status (or status --json) to w,
// reading only what the sections in o need: the pending files for
// --pending, the history alone for --completed and --failed. The history is
// streamed from the database to w as it is read, so the whole of it is
// never in memory; src.Conn.Timeout (default reader.DefaultTimeout) bounds
// everything, the writing included. A since that is not zero leaves out
// the runs that started before it. It returns the snapshot it read, if
// it read one.
func printStatus(ctx context.Context, w io.Writer, src laravel.Source, now, since time.Time, o render.StatusOptions, asJSON bool) (*check.Snapshot, error) {
	ctx, db, done, err := reader.OpenWithin(ctx, src)
	if err != nil {
		return nil, err
	}
	defer done()
	all := !o.Pending && !o.Completed && !o.Failed
	var snap *check.Snapshot
	var h *reader.History
	// In progress is shown only with every section; --json prints the
	// whole snapshot.
	opt := reader.ReadOptions{SkipProblems: !asJSON && !all, LastSkips: true}
	switch needSnap, needHistory := asJSON || all || o.Pending, asJSON || all || o.Completed || o.Failed; {
	case needSnap && needHistory:
		// One transaction: the sections show the database at one moment.
		snap, h, err = reader.ReadWithHistory(ctx, db, src, now, opt)
	case needSnap:
		snap, err = reader.Read(ctx, db, src, now, opt)
	default:
		h, err = reader.OpenHistory(ctx, db, src)
	}
	if err != nil {
		return nil, err
	}
	if h != nil {
		defer h.Close()
		if !since.IsZero() {
			h.From(since)
		}
	}
	if snap != nil && !since.IsZero() {
		snap.KeepSince(since)
	}
	if asJSON {
		err = render.StreamStatusJSON(ctx, w, snap, h)
	} else {
		err = render.StreamStatus(ctx, w, snap, h, o)
	}
	if err != nil {
		return nil, err
	}
	if h != nil {
		if err := h.Close(); err != nil {
			return nil, err
		}
	}
	return snap, nil
}
