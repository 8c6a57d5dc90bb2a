// Package config is seqwatch.yaml: its types, how a file is loaded
// (strict YAML, ${VAR} references, *_file secrets, the size limits), how
// it is validated (every problem at once, each with its key and line),
// and the per-application view (App) that the commands and the daemon
// take, with the inheritance of apps: from the top level. It also holds
// the maintenance windows and the registry of channel types a channel
// entry may name (ChannelTypes).
//
// It says what the file means; it reads no database and sends nothing.
// Building the channels, opening the state and running the daemon are
// cmd/seqwatch's. It may import check, state, internal/laravel (the
// application's tables and settings), the notify core and its channels
// (for their configuration types), internal/web and internal/heartbeat
// (theirs) and internal/schedule; not internal/reader, internal/daemon,
// a database driver or cmd (internal/layering holds it to that).
package config
