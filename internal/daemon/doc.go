// Package daemon is seqwatch's alerting loop: a worker per application
// (App) that reads, judges (check.Assess), diffs against its state
// (internal/alerting) and records what is new in the outbox; its delivery
// stage (deliverer) that sends the outbox through the channels, each
// channel in its own goroutine, and records each outcome (state.Record);
// and the loop (Daemon) that runs each
// application's ticks on its cron schedule, at most a few at once, each
// under its own deadlines, feeds the service manager's watchdog only while
// ticks make progress, reloads, and shuts down.
//
// With a shared state store (a state.Leaser, such as internal/pgstate's),
// one instance per application leads: it renews its lease at every tick, and
// the store's fence refuses the writes of an instance that lost it, so a
// paused old leader can neither record nor start a delivery.
//
// Its dependencies are passed in (store, clock, sleep, logger, observer,
// scheduler), so it is tested without the binary and without sleeping.
// It must not import cmd/seqwatch or a notify channel package (channels
// come built, as notify.Notifier values; internal/layering holds it to
// that), and it reaches the database only through internal/reader.
package daemon
