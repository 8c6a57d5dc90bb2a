// Package statestore is where the daemon's state is kept and what the
// commands do with it: a state file per application (state.path) or one
// PostgreSQL database shared by several seqwatch (state.postgres), chosen
// from the configuration. It opens each application's store for the
// daemon (Open, retrying a state database that is not up yet), edits the
// outbox and the mutes beside a running daemon (Editor, for seqwatch
// outbox and seqwatch mute: Retry, Drop, Enable), inspects the states before an upgrade
// without changing them (Inspect, for seqwatch state check), and lists
// the outbox and the dead letters (ListOutbox).
//
// It may import internal/config, state, internal/pgstate and
// internal/text; not internal/reader, internal/daemon or cmd
// (internal/layering holds it to that). Its errors state facts; cmd/seqwatch adds the advice.
package statestore
