package state

import "github.com/seqwatch/seqwatch/check"

// The problem keys stored in State.Open and State.Seen are check's
// (check.FailedKey and the others), where the rules that make the problems
// live. These are kept for code that speaks of the keys it finds in a
// state.

// FailedKey is check.FailedKey: the key of a failed run.
func FailedKey(name, rowID string) string { return check.FailedKey(name, rowID) }

// StuckKey is check.StuckKey: the key of a run in progress too long.
func StuckKey(name, rowID string) string { return check.StuckKey(name, rowID) }

// DeferredKey is check.DeferredKey: the key of an exhausted deferred
// operation.
func DeferredKey(id string) string { return check.DeferredKey(id) }
