// Package config is seqwatch.yaml: its types, how a file is loaded
// (strict YAML, ${VAR} references, *_file secrets, the size limits), how
// it is validated (every problem at once, each with its key and line),
// and the per-application view (App) that the commands and the daemon
// take, with the inheritance of apps: from the top level. It also holds
// the maintenance windows, the registry of channel types a channel entry
// may name (ChannelTypes), and what an application's entries build: its
// channels (App.BuildChannels), routes and alerting policy.
//
// It says what the file means; it reads no database and sends nothing.
// Opening the state is internal/statestore's, running the daemon
// cmd/seqwatch's. It may import check, state, internal/alerting (the
// policy), internal/laravel (the application's tables and settings), the
// notify core and its channels (for their configuration types),
// internal/web and internal/heartbeat (theirs) and internal/schedule; not
// internal/reader, internal/daemon, a database driver or cmd
// (internal/layering holds it to that).
package config
