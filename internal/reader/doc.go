// Package reader reads a Laravel application's Sequencer tables (its
// operations, operation_errors, deferred_operations and migrations tables)
// and its operation and migration files into a check.Snapshot.
//
// It holds connecting (Open, DB: the drivers, the server-side time limits,
// the count of queries and rows), the SQL of each dialect, Read (what is
// wrong, in one read-only transaction), ReadSince (the daemon's
// incremental read from a check.Mark) and History (the whole history that
// `seqwatch status` streams a row at a time). Its errors (SourceError with
// a check.Reason, SchemaError) state what went wrong, never the password
// and never which flag, configuration key or .env variable to change:
// cmd/seqwatch adds that.
//
// Of seqwatch it imports check (the model it fills), internal/laravel (the
// Source it reads, file discovery) and internal/text. It must not import
// state, notify, internal/render, internal/daemon or cmd/seqwatch: what is
// read is judged, rendered and alerted on elsewhere.
package reader
