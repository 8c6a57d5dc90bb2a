package check

import "time"

// MarkVersion is the format of Mark; a mark of another version is dropped
// and the next read is a full one.
const MarkVersion = 2

// Mark is what an incremental read (internal/reader's ReadSince) remembers
// between two reads of one application, so that the next read asks only
// for what can have changed. It is a plain value kept in the daemon's
// state file (state.State.Read, so `run --once` benefits too), which is
// why it lives here with the model and not with the reader: state must
// not import the reader or a database driver. It holds the problems and
// the pending files, never the history: its size follows what is wrong.
type Mark struct {
	Version int `json:"version"`
	// Source identifies the database, tables and paths the mark was taken
	// from; a mark of another source is not used.
	Source string `json:"source"`
	// Watermark is the newest executed_at seen, as wall-clock text in the
	// application's zone ("" for an empty table).
	Watermark string `json:"watermark"`
	// Reconciled is when the last full read was made.
	Reconciled time.Time `json:"reconciled"`
	// Dirs is a signature of the discovery directories (their
	// modification times): files are listed again only when it changes.
	Dirs string `json:"dirs"`

	Failing           []Failure       `json:"failing"`
	InProgress        []Attempt       `json:"in_progress"`
	Scheduled         []Attempt       `json:"scheduled,omitempty"`
	RolledBack        []RolledBackRun `json:"rolled_back,omitempty"`
	PendingOperations []PendingFile   `json:"pending_operations"`
	PendingMigrations []PendingFile   `json:"pending_migrations"`
	// Completed is Counts.Completed: operation files with a completed run.
	Completed int      `json:"completed"`
	Warnings  []string `json:"warnings,omitempty"`
	// Unreadable are the snapshot's unreadable values: those of the
	// errors of known failures, which the next read does not read again,
	// are named from here.
	Unreadable  []Unreadable `json:"unreadable,omitempty"`
	MissingDirs []MissingDir `json:"missing_dirs,omitempty"`
}
