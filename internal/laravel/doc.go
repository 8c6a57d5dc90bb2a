// Package laravel resolves a Laravel application that uses Sequencer into
// a Source: what to read and where. It holds Settings (what a user says,
// from flags or the configuration file), reading the application's .env
// as Laravel does, parsing database URLs (ParseURL, Conn), Sequencer's
// table names (Tables), and finding the operation and migration files
// (Discover, StripPHP).
//
// Its errors are check.ConfigErrors with a check.Reason: they state what
// is wrong and what a valid value looks like, never which flag,
// configuration key or .env variable to change (cmd/seqwatch adds that),
// and never a password.
//
// Of seqwatch it imports check (PendingFile, ConfigError, Reason) and
// internal/text. It must not import internal/reader, internal/render,
// state, notify or cmd/seqwatch, nor any database driver: it connects to
// nothing.
package laravel
