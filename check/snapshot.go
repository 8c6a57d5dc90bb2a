package check

import (
	"fmt"
	"strconv"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
)

// Snapshot is one reading of an application. It is a plain value: status
// renders it, Assess judges it into Problems, and the daemon diffs those
// against what it has already reported.
//
// Snapshot is also the schema of the document `seqwatch status --json`
// prints (internal/render.StreamStatusJSON writes it): its json tags, and
// those of the types it holds, are the fields docs/status-and-check.md documents
// under "--json", a promise to scripts. Fields are added, never renamed or
// removed; TestSnapshotIsTheStatusJSONSchema spells them out.
type Snapshot struct {
	// App is the application's display name (configured, or the base name
	// of its directory, or the database name).
	App string `json:"app"`
	// Environment is APP_ENV from the application's .env, if any.
	Environment string `json:"environment,omitempty"`
	// Driver is the database driver: "pgsql", "mysql", "mariadb" or "sqlite".
	Driver string `json:"driver"`
	// Timezone is the application's time zone; every time below is in it.
	Timezone string `json:"timezone"`
	// TakenAt is when the snapshot was read.
	TakenAt time.Time `json:"taken_at"`

	PendingMigrations []PendingFile `json:"pending_migrations"`
	PendingOperations []PendingFile `json:"pending_operations"`
	// InProgress are rows that started and have neither completed, failed,
	// been skipped nor been rolled back, oldest first.
	InProgress []Attempt `json:"in_progress"`
	// Scheduled are Scheduled operations that sequencer:scheduled queued
	// and that wait for their time (check.Scheduled), oldest first; their
	// RunningFor is how long they have waited.
	Scheduled []Attempt `json:"scheduled"`
	// RolledBack are rolled-back runs (check.RolledBack) that are still
	// their operation's newest run, newest rollback first: Sequencer will
	// not run them again, although their effect was undone. Read for runs
	// started within the read's look-back (Thresholds.RolledBackLookback).
	RolledBack []RolledBackRun `json:"rolled_back"`
	// Failing are failed rows of operations that have not completed since
	// (no completed row that started after them), newest first, with their
	// error records.
	Failing []Failure `json:"failing"`

	// Completed and Failed are the full history lists that `status` shows
	// (status --json writes them from a History stream, a row at a time;
	// Read never fills them: check and the daemon do not need them).
	Completed []Attempt `json:"completed,omitempty"`
	Failed    []Failure `json:"failed,omitempty"`
	Deferred  *Deferred `json:"deferred,omitempty"`
	Counts    Counts    `json:"counts"`
	// Warnings are things worth knowing that are not failures, such as a
	// discovery directory that does not exist.
	Warnings []string `json:"warnings,omitempty"`
	// Unreadable names the values of the rows read that cannot be read
	// as what their column holds (a time stamp that is empty, garbage,
	// MySQL's zero date, a number, PostgreSQL's infinity), once each: the
	// rows themselves are reported without those values. At most
	// MaxUnreadable are named; Counts.UnreadableRows counts their rows.
	Unreadable []Unreadable `json:"unreadable,omitempty"`
	// MissingDirs are the discovery directories that do not exist: while
	// one is missing, every figure that comes from the files (pending
	// operations and migrations, completed) is wrong, and the rules make
	// it a source problem (UNKNOWN).
	MissingDirs []MissingDir `json:"missing_dirs,omitempty"`

	// LastCompleted maps an operation name (".php" stripped) to the start
	// time of its newest completed row. The daemon uses it to tell that an
	// operation it reported as failed has recovered.
	LastCompleted map[string]time.Time `json:"-"`
}

// MissingDir is a discovery directory that does not exist.
type MissingDir struct {
	// Of is what the directory holds: "operation" or "migration" files.
	Of   string `json:"of"`
	Path string `json:"path"`
}

// String says what is missing, as the rules and the warnings say it.
func (d MissingDir) String() string {
	return fmt.Sprintf("%s directory %s does not exist", d.Of, d.Path)
}

// PendingFile is a migration or operation file that has not run
// successfully.
type PendingFile struct {
	// Timestamp is the YYYY_MM_DD_HHMMSS prefix of the file name.
	Timestamp string `json:"timestamp"`
	// Name is the base name without ".php", e.g. 2024_01_15_130000_NotifyUsers.
	Name string `json:"name"`
	// File is the file name as found on disk (with ".php").
	File string `json:"file"`
	// Path is the full path of the file.
	Path string `json:"path"`
	// SkippedAt and SkipReason are of the operation's newest skipped run
	// (OperationSkippedException), when it has one: status reads them,
	// check and the daemon do not.
	SkippedAt  *time.Time `json:"skipped_at,omitempty"`
	SkipReason string     `json:"skip_reason,omitempty"`
}

// Attempt is one row of the operations table.
type Attempt struct {
	ID string `json:"id"`
	// Name is the operation name with ".php" stripped.
	Name  string `json:"name"`
	Type  string `json:"type"`
	State string `json:"state"`
	// ExecutedAt is zero, and left out of the JSON, when it cannot be
	// read (see Snapshot.Unreadable).
	ExecutedAt  time.Time  `json:"executed_at,omitzero"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
	// SkippedAt and SkipReason are set when the run threw
	// OperationSkippedException: it did not complete, so the operation
	// is still pending.
	SkippedAt  *time.Time `json:"skipped_at,omitempty"`
	SkipReason string     `json:"skip_reason,omitempty"`
	// RolledBackAt is set when Sequencer rolled the run back because a
	// later operation of the same run failed (null otherwise; present on
	// every run, as recovered is on every failure).
	RolledBackAt *time.Time `json:"rolled_back_at"`
	// RunningFor is set for in-progress rows: TakenAt - ExecutedAt.
	RunningFor Duration `json:"running_for_seconds,omitempty"`
}

// RolledBackRun is a rolled-back run and what caused its rollback.
type RolledBackRun struct {
	Attempt
	// Cause is the failed run of the same sequencer:process run that made
	// Sequencer roll this one back (check.RollbackCause), when found.
	Cause *Attempt `json:"cause,omitempty"`
}

// Failure is a failed row of the operations table with its error records.
type Failure struct {
	Attempt
	// Recovered is true when a run of the same operation that started at
	// or after it completed (Recovered): a later row, or the row itself
	// when the queue's retry completed it in place (failed_at and
	// completed_at both set).
	Recovered bool `json:"recovered"`
	// RecoveredAt is the start of the completed row that recovered it (its
	// own start when it recovered in place).
	RecoveredAt *time.Time    `json:"recovered_at,omitempty"`
	Errors      []ErrorRecord `json:"errors"`
	// OperationCompleted says that some run of the operation completed,
	// before or after this one (History.Failed fills it): without one the
	// operation is pending while its file exists.
	OperationCompleted bool `json:"-"`
}

// ErrorRecord is one row of operation_errors.
type ErrorRecord struct {
	ID        string `json:"id"`
	Exception string `json:"exception"`
	Message   string `json:"message"`
	Trace     string `json:"trace"`
	// TraceNotRead says the row has a stack trace that was not read
	// (status without -v reads none): Trace is then empty.
	TraceNotRead bool `json:"-"`
	// Context is the raw JSON of the context column, or empty.
	Context string `json:"context,omitempty"`
	// CreatedAt is nil (null) when the column is NULL or cannot be read.
	CreatedAt *time.Time `json:"created_at"`
}

// CreatedTime is CreatedAt, or the zero time when it is not known.
func (e ErrorRecord) CreatedTime() time.Time {
	if e.CreatedAt == nil {
		return time.Time{}
	}
	return *e.CreatedAt
}

// Deferred summarises the optional deferred_operations table.
type Deferred struct {
	// Pending counts the pending rows already due (due_at at or before
	// the snapshot): the ones sequencer:deferred-process should have
	// taken. Rows waiting for a later time are not read.
	Pending int `json:"pending"`
	// Processing counts the rows in processing.
	Processing int `json:"processing"`
	// OldestDueAt is the earliest due_at of the pending rows, and
	// OldestReservedAt the earliest reserved_at of the processing rows
	// (nil when there are none): what DeferredOverdue and DeferredStuck
	// judge.
	OldestDueAt      *time.Time `json:"oldest_due_at,omitempty"`
	OldestReservedAt *time.Time `json:"oldest_reserved_at,omitempty"`
	// Exhausted are rows with status failed whose attempts reached
	// max_attempts.
	Exhausted []DeferredFailure `json:"exhausted"`
}

// DeferredFailure is a deferred operation that used up its attempts.
type DeferredFailure struct {
	ID          string     `json:"id"`
	Operation   string     `json:"operation"`
	Attempts    int        `json:"attempts"`
	MaxAttempts int        `json:"max_attempts"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
	LastError   string     `json:"last_error"`
}

// Counts are the totals.
type Counts struct {
	PendingMigrations int `json:"pending_migrations"`
	PendingOperations int `json:"pending_operations"`
	InProgress        int `json:"in_progress"`
	// Scheduled is the number of Scheduled operations waiting for their
	// time (not counted in InProgress).
	Scheduled int `json:"scheduled"`
	// RolledBack is len(RolledBack): rolled-back runs still their
	// operation's newest.
	RolledBack int `json:"rolled_back"`
	// Failing is the number of distinct operations whose newest failed row
	// has not been followed by a completed row.
	Failing int `json:"failing"`
	// FailedRows, CompletedRows and Rows count the whole history; they are
	// only filled when the snapshot was read with History (status), since
	// counting them means reading every row.
	//
	// FailedRows is the number of failed rows in the whole history.
	FailedRows int `json:"failed_rows"`
	// Completed is the number of distinct operations with a completed row.
	Completed int `json:"completed"`
	// CompletedRows is the number of completed rows in the whole history.
	CompletedRows int `json:"completed_rows"`
	// Rows is the number of rows in the operations table.
	Rows int `json:"rows"`
	// DeferredExhausted is the number of deferred operations that used up
	// their attempts (0 when the table is absent).
	DeferredExhausted int `json:"deferred_exhausted"`
	// UnreadableRows is the number of rows read with a value that cannot
	// be read (see Snapshot.Unreadable).
	UnreadableRows int `json:"unreadable_rows"`
}

// MaxUnreadable is how many unreadable values a snapshot names; the rest
// are only counted (Counts.UnreadableRows).
const MaxUnreadable = 100

// Unreadable is one value of one row that cannot be read as what its
// column holds. A row with such a value is still reported, without it: a
// failed row whose failed_at cannot be read is still failing (it failed;
// when is unknown), and a run whose executed_at cannot be read is in
// progress but never judged stuck (how long it has run is unknown).
type Unreadable struct {
	// Table is the table of the row and ID its id, as text.
	Table string `json:"table"`
	ID    string `json:"id"`
	// OperationID is, for a row of the errors table, the id of the
	// operation row the error belongs to.
	OperationID string `json:"operation_id,omitempty"`
	// Column is the column whose value cannot be read.
	Column string `json:"column"`
	// Value is the value as the database returned it, cleaned and cut
	// short (text.Line, UnreadableValueLen runes).
	Value string `json:"value"`
}

// UnreadableValueLen is how many runes of an unreadable value are kept.
const UnreadableValueLen = 40

// String names the value in one line: "operations row 42: executed_at
// \"garbage\" is not a time stamp".
func (u Unreadable) String() string {
	of := ""
	if u.OperationID != "" {
		of = " (of operation row " + text.Line(u.OperationID, 64) + ")"
	}
	return text.Line(u.Table, 64) + " row " + text.Line(u.ID, 64) + of + ": " + text.Line(u.Column, 64) + ` "` + text.Line(u.Value, UnreadableValueLen) + `" is not a time stamp`
}

// Duration is a time.Duration that marshals to JSON as seconds.
type Duration time.Duration

// MarshalJSON writes the duration as whole seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatInt(int64(time.Duration(d)/time.Second), 10)), nil
}

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
