package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/seqwatch/seqwatch/check"
)

const statusHelp = `Usage: seqwatch status [--app DIR | --dsn URL | --config FILE] [--pending|--completed|--failed] [-v] [--json]

Shows what "php artisan sequencer:status" shows, read straight from the
database and the application's files: pending migrations and operations,
completed operations, failed operations with their errors (stack traces
with -v), plus operations in progress and a marker on failures that later
completed. "Total: N failed operation(s)" counts failures not since
completed, and is printed even when N is 0.

--json prints the snapshot as JSON (schema in the README).

Exit status: 0 printed; 1 the application could not be read; 2 bad usage.
`

func runStatus(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("status", e.stderr, statusHelp)
	var sf sourceFlags
	sf.register(fs, false)
	sf.registerTimeout(fs, defaultReadTimeout)
	var o check.StatusOptions
	var asJSON bool
	fs.BoolVar(&o.Pending, "pending", false, "show only pending migrations and operations")
	fs.BoolVar(&o.Completed, "completed", false, "show only completed operations")
	fs.BoolVar(&o.Failed, "failed", false, "show only failed operations")
	fs.BoolVar(&o.Verbose, "v", false, "show stack traces of failed operations")
	fs.BoolVar(&o.Verbose, "verbose", false, "same as -v")
	fs.BoolVar(&asJSON, "json", false, "print the snapshot as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	src, _, err := sf.resolve(e)
	if err != nil {
		return err
	}
	snap, err := readSnapshot(ctx, src, e.now(), check.ReadOptions{History: true, SkipHistoryTraces: !o.Verbose && !asJSON})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(snap)
	}
	o.Color = useColor(e)
	return check.RenderStatus(e.stdout, snap, o)
}

// defaultReadTimeout bounds a read when no -t/--timeout says otherwise.
const defaultReadTimeout = 60 * time.Second

// readSnapshot connects, reads one snapshot and disconnects, within
// src.Conn.Timeout (default defaultReadTimeout): the database server is
// asked to give up slightly sooner, so that the error says what was waited
// on (a locked table, a slow statement, a server that does not answer).
func readSnapshot(ctx context.Context, src check.Source, now time.Time, opt check.ReadOptions) (*check.Snapshot, error) {
	if src.Conn.Timeout <= 0 {
		src.Conn.Timeout = defaultReadTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, src.Conn.Timeout)
	defer cancel()
	db, err := check.Open(ctx, src.Conn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return check.Read(ctx, db, src, now, opt)
}
