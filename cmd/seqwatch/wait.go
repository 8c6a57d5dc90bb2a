package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/gate"
)

const waitHelp = `Usage: seqwatch wait [--app DIR | --dsn URL | --config FILE [--name APP]] [--since TIME] [--timeout 15m]
                     [--settle 1m] [--async-retry-grace 2m] [--require-all] [-t 10s] [--json]

Waits until the work Sequencer was given is really done: every run that
started at or after --since has completed, failed, been skipped or rolled
back. "php artisan sequencer:process" returns as soon as it has dispatched
asynchronous and batched operations; run this after it, or alongside it
(started in the background or on another host), in a deploy script or a
CI job, and gate on the exit status. When seqwatch may run the command
itself, "seqwatch deploy" is the surer gate. A Scheduled operation waiting
for its time does not hold the wait (it is listed as scheduled). An
asynchronous run whose try failed is given --async-retry-grace for the
queue's retry before its failure counts (default: thresholds.async_retry_grace
of --config, as the daemon uses it, else 2m; 0 is at once).

No run in progress is not yet the end while sequencer:process may still be
at work: before it writes its first run, between two runs, during a
migration between two operations. So while operation files that were
pending when wait started have not all run, wait ends only once nothing
has changed for the settle period (--settle, default 1m), and then lists
them as not run. It does not settle once they have all run, or once a
synchronous run has failed (Sequencer stops there). A --settle you give
applies in every case; --settle 0 ends as soon as no run is in progress.

It prints one line per change, then a summary line in check's form:

  ✓ 2024_03_01_100000_ImportCustomers completed (12s)
  ✗ 2024_03_02_100000_ChargeCustomers failed: RuntimeException: card declined
  ↷ 2024_03_03_100000_NotifyCustomers skipped: nothing to notify
  ↺ 2024_03_01_100000_ImportCustomers rolled back (after 2024_03_02_100000_ChargeCustomers failed)
  SEQWATCH CRITICAL - 1 failed operation (...) -- ... | runs=3 completed=1 failed=1 ...

On a terminal it also keeps a status line with the counts and the time
waited (colour unless NO_COLOR is set). It reads the database every second
at first, and every 5 seconds once nothing changes, asking only for what
changed.

  --since TIME   the runs to watch: those started at or after TIME, an RFC
                 3339 time (2024-06-01T12:00:00Z) or a duration ago (10m);
                 default: when wait starts
  --timeout D    give up after D (default 15m)
  --settle D     end only once nothing has changed for D with no run in
                 progress (default: 1m while files pending at the start
                 have not run, else none); shorter than --timeout
  -t D           give up on one read of the database after D (default 10s)
  --require-all  operation files still pending that no run since --since
                 ran make it a WARNING (without it they are only listed);
                 use it when wait runs alongside sequencer:process
  --json         print the runs and the verdict as JSON (the lines and the
                 summary go to standard error)

Example, in a deploy script:
  start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  php artisan sequencer:process --isolated
  seqwatch wait --app /var/www/shop --since "$start" ||
    seqwatch status --app /var/www/shop --failed -v --since "$start"

Exit status (as seqwatch check's):
  0  everything that ran has completed (skipped counts as done)
  1  --timeout reached with work still running (each named with how long it
     has run), or files not run with --require-all (also after the settle)
  2  a run of this deploy failed, or was rolled back
  3  the application cannot be read, or bad flags
`

// waitFlags are the flags wait and deploy share.
type waitFlags struct {
	sf         sourceFlags
	since      string
	timeout    time.Duration
	grace      time.Duration
	requireAll bool
	// settle is wait's --settle (gate.AutoSettle unless given); deploy
	// has none, its command has ended when it waits.
	settle time.Duration
}

func (w *waitFlags) register(fs *flag.FlagSet, since bool) {
	w.sf.register(fs, false)
	fs.DurationVar(&w.sf.timeout, "t", 10*time.Second, "give up on one read of the database after `DURATION`")
	fs.DurationVar(&w.timeout, "timeout", gate.DefaultTimeout, "give up waiting after `DURATION`")
	fs.DurationVar(&w.grace, "async-retry-grace", -1, "give a failed try of an asynchronous run `DURATION` for the queue's retry, 0: at once (default thresholds.async_retry_grace, else 2m)")
	fs.BoolVar(&w.requireAll, "require-all", false, "warn about operation files that no run ran")
	if since {
		fs.DurationVar(&w.settle, "settle", gate.AutoSettle, "end only once nothing has changed for `DURATION` with no run in progress (default 1m while files pending at the start have not run, else 0)")
		fs.StringVar(&w.since, "since", "", "watch the runs started at or after `TIME` (RFC 3339, or a duration ago such as 10m; default now)")
	}
}

// parse parses the flags and refuses values that cannot be meant.
func (w *waitFlags) parse(fs *flag.FlagSet, args []string) error {
	if err := parseFlagsQuietly(fs, args); err != nil {
		return err
	}
	switch {
	case w.timeout <= 0:
		return &usageError{msg: fmt.Sprintf("--timeout must be a positive duration such as 15m (got %s)", w.timeout)}
	case w.grace < 0 && w.grace != -1:
		return &usageError{msg: fmt.Sprintf("--async-retry-grace must be 0 or a positive duration such as 2m (got %s)", w.grace)}
	case w.settle < 0 && w.settle != gate.AutoSettle:
		return &usageError{msg: fmt.Sprintf("--settle must be 0 or a positive duration such as 1m (got %s)", w.settle)}
	case w.settle >= w.timeout:
		return &usageError{msg: fmt.Sprintf("--settle (%s) must be shorter than --timeout (%s), or the wait could never settle", w.settle, w.timeout)}
	}
	return nil
}

// open resolves the application, takes from the configuration what the
// flags leave to it (thresholds.async_retry_grace, the daemon's, for the
// same reason), and connects for the whole wait, whose options it
// returns.
func (w *waitFlags) open(ctx context.Context, since time.Time, e env) (*gate.DBSource, gate.Options, error) {
	src, th, err := w.sf.resolve(ctx, e)
	if err != nil {
		return nil, gate.Options{}, err
	}
	if w.grace < 0 {
		w.grace = th.AsyncRetryGrace
	}
	db, err := gate.Open(ctx, src, e.now)
	if err != nil {
		return nil, gate.Options{}, err
	}
	return db, gate.Options{Since: since, Timeout: w.timeout, AsyncRetryGrace: w.grace, RequireAll: w.requireAll,
		Settle: w.settle, ReadTimeout: w.sf.timeout, Location: src.Location, Now: e.now, Sleep: e.sleep}, nil
}

func runWait(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("wait", e.stderr, waitHelp)
	var w waitFlags
	w.register(fs, true)
	var asJSON bool
	fs.BoolVar(&asJSON, "json", false, "print the runs and the verdict as JSON")
	unknown := func(err error) int {
		// As check: one line on standard output, or the JSON document.
		if asJSON {
			now := e.now()
			_ = printJSON(e.stdout, gate.DocumentOf(gate.Result{Err: err, Started: now, Finished: now}))
			return int(check.Unknown)
		}
		fmt.Fprintln(e.stdout, check.UnknownVerdict(err).Line())
		return int(check.Unknown)
	}
	err := w.parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var since time.Time
	if err == nil {
		since, err = parseSince(w.since, e.now())
	}
	if err != nil {
		return unknown(fmt.Errorf("usage: %w", err))
	}
	db, opt, err := w.open(ctx, since, e)
	if err != nil {
		return unknown(advised(err))
	}
	defer db.Close()
	out, obs := waitObserver(e, asJSON, w.grace)
	res := gate.Wait(ctx, db, opt, obs)
	if res.Err != nil {
		res.Err = advised(res.Err)
	}
	v := gate.Verdict(res)
	out.Finish(res, v)
	if asJSON {
		if err := printJSON(e.stdout, gate.DocumentOf(res)); err != nil {
			return int(check.Unknown)
		}
	}
	return v.Code
}

// waitObserver prints the lines of a wait: on standard output, with a
// status line on a terminal; with --json on standard error, plain.
func waitObserver(e env, asJSON bool, grace time.Duration) (*gate.Printer, gate.Observer) {
	var w io.Writer = e.stdout
	color, status := useColor(e), statusLine(e)
	if asJSON {
		w, color, status = e.stderr, false, false
	}
	p := gate.NewPrinter(w, color, status, grace)
	return p, p
}

// statusLine says whether a wait keeps a status line: on a terminal that
// can redraw one.
func statusLine(e env) bool { return e.isTerminal && e.getenv("TERM") != "dumb" }
