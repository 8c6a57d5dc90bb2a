// Package gate is the deploy gate: `seqwatch wait` and `seqwatch deploy`.
// It knows when the work a deploy gave Sequencer is really done, which
// `php artisan sequencer:process` cannot say: it returns as soon as it has
// dispatched asynchronous and batched operations, a Scheduled operation
// runs at its time, and a failed sync run rolls back what the same run did.
//
// It holds the wait (Wait: a poll loop on an injected clock over the runs
// that started since a moment, read incrementally through
// internal/reader's ReadRuns; each run judged by check's rules into an
// Outcome; the verdict in check's form), its output for people and for
// programs (Printer, Document), the wrapped command (Run: output passed
// through untouched, signals forwarded, exit status kept) and the deploy
// around them (Deploy: mute, run, wait, unmute, report).
//
// Of seqwatch it imports check (the model and the rules), internal/reader
// and internal/laravel (to read the application), internal/event (the
// deploy.finished event) and internal/text. It must not import state, the
// notify core or its channels, internal/render, internal/alerting,
// internal/daemon or cmd/seqwatch: muting and notifying are given to it as
// small interfaces (Muter, Reporter), built by the command.
package gate
