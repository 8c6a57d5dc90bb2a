// Package testkit holds the helpers seqwatch's tests share: golden files
// compared with a readable diff (Golden), waits that poll with a deadline
// (Eventually, Consistently), a clock that moves only when told (Clock),
// a log safe for goroutines (Logs), a free loopback address (FreeAddr), a
// real Prometheus scraping a listener (StartPrometheus, QueryPrometheus),
// and the real tools a test needs, which skip the test on a developer's
// machine and fail it under CI (RequireBinary, Missing).
//
// It is test support, not a promise: only tests and the test harness
// (internal/dbtest) import it, and it imports nothing of seqwatch. It keeps
// no state of its own: the -update switch is the test package's flag,
// passed in, since a flag registered here would be package-level state.
package testkit
