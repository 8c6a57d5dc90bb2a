package notify

import (
	"time"

	"github.com/seqwatch/seqwatch/internal/event"
	"github.com/seqwatch/seqwatch/internal/secret"
)

// The event vocabulary lives in internal/event, beneath every stage; these
// names re-export it for the channel packages and for programs outside this
// module (a webhook receiver, a renderer of its own), which cannot import
// internal packages.

// Kind is the stable name of an event (event.Kind).
type Kind = event.Kind

// Event is one thing worth telling people about (event.Event).
type Event = event.Event

// Operation is the operation an event is about (event.Operation).
type Operation = event.Operation

// Error is one recorded exception (event.Error).
type Error = event.Error

// PendingCount is the pending-operations backlog (event.PendingCount).
type PendingCount = event.PendingCount

// DeferredError is a deferred operation that exhausted its attempts
// (event.DeferredError).
type DeferredError = event.DeferredError

// Deploy is how a deploy ended (event.Deploy), carried by deploy.finished.
type Deploy = event.Deploy

// DeployFailed is a failed run of a deploy (event.DeployFailed).
type DeployFailed = event.DeployFailed

// DeploySkip is a skipped run of a deploy (event.DeploySkip).
type DeploySkip = event.DeploySkip

// Secret is a configuration value that must never be printed
// (secret.Secret).
type Secret = secret.Secret

// The event kinds (see internal/event). Their names are part of seqwatch's
// interface: never rename one.
const (
	OperationFailed     = event.OperationFailed
	OperationRecovered  = event.OperationRecovered
	OperationStuck      = event.OperationStuck
	OperationUnstuck    = event.OperationUnstuck
	PendingThreshold    = event.PendingThreshold
	PendingCleared      = event.PendingCleared
	OperationRolledBack = event.OperationRolledBack
	DeferredFailed      = event.DeferredFailed
	DeferredStuck       = event.DeferredStuck
	DeferredOverdue     = event.DeferredOverdue
	SourceUnreachable   = event.SourceUnreachable
	SourceRecovered     = event.SourceRecovered
	ProblemClosed       = event.ProblemClosed
	Digest              = event.Digest
	Reminder            = event.Reminder
	Test                = event.Test
	DeployFinished      = event.DeployFinished
)

// FilesKeyPrefix begins the key of a source problem about the
// application's files, not its database (event.FilesKeyPrefix).
const FilesKeyPrefix = event.FilesKeyPrefix

// Informational reports whether events of kind k tell something and open
// no problem: a test alert, a deploy's report (event.Informational).
func Informational(k Kind) bool { return event.Informational(k) }

// HeadlineError chooses the error a failure is summarised by
// (event.HeadlineError).
func HeadlineError[E any](errs []E, createdAt func(E) time.Time) (E, bool) {
	return event.HeadlineError(errs, createdAt)
}

// CountFrames returns the number of frames of a PHP trace
// (event.CountFrames).
func CountFrames(trace string) int { return event.CountFrames(trace) }
