// Package check is seqwatch's model of a Laravel application that uses
// Sequencer, and its rules: the Snapshot that every command works from
// (also the `seqwatch status --json` schema), the read mark the daemon
// keeps between reads (Mark), the rules that judge a Snapshot once into
// keyed Problems (Assess, Thresholds, rules.go), the check verdict that
// summarises them (Judge, Verdict, Status), and the errors and Reasons
// (ConfigError, Reason) that the reader and the commands share.
//
// It holds pure data and pure judging: nothing here reads a database, a
// file or a clock. Reading the database is internal/reader's, resolving an
// application (.env, database URLs, files) is internal/laravel's, and
// drawing the status tables is internal/render's; each of them imports
// check, never the other way.
//
// Of seqwatch it imports only internal/event (the event kinds of the
// problem keys and the one headline rule, event.HeadlineError) and
// internal/text. It must not import internal/reader, internal/laravel,
// internal/render, state, the notify core or its channels (notify/...), internal/web, internal/heartbeat,
// internal/metrics or internal/dbtest outside tests, nor a database driver,
// database/sql or tablewriter (internal/layering holds it to that).
package check
