package main

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/state"
)

// advise returns err's message followed by what the user can do about it,
// for the errors whose remedy seqwatch knows. The library packages only
// say what is wrong (check.ConfigError and reader.SourceError with their
// Reason, reader.SchemaError, state's ErrLocked, ErrCorrupt,
// ErrNewerVersion and OwnerError, web.ListenError); which flag, .env
// variable or configuration key to change depends on how seqwatch was run,
// and that is known here. An error marked by fromFile gets the
// configuration file's keys instead of flags.
func advise(err error) string {
	if err == nil {
		return ""
	}
	return err.Error() + adviceFor(err, errors.As(err, new(*fileContext)))
}

// adviceFor is the remedy for err, written to follow its message (with its
// own separator), or "" when there is none to give.
func adviceFor(err error, file bool) string {
	var (
		ce     *check.ConfigError
		se     *reader.SourceError
		schema *reader.SchemaError
		owner  *state.OwnerError
		listen *web.ListenError
	)
	var undelivered *daemon.UndeliveredError
	switch {
	case errors.As(err, &undelivered):
		cfg := undelivered.ConfigPath
		if cfg == "" {
			cfg = "FILE"
		}
		if undelivered.Dead > 0 {
			return fmt.Sprintf(": see them with seqwatch outbox list --config %s, then retry or drop them", cfg)
		}
		return fmt.Sprintf(" (seqwatch outbox list --config %s shows why)", cfg)
	case errors.Is(err, pgstate.ErrSchemaNewer):
		return ": upgrade seqwatch on every server sharing it"
	case errors.As(err, &ce):
		return configAdvice(ce.Reason, file)
	case errors.As(err, &se):
		return sourceAdvice(se.Reason, se.FromURL)
	case errors.As(err, &schema):
		return ": has Sequencer been installed and have its migrations run (php artisan migrate)? If the tables have other names, set SEQUENCER_*_TABLE in .env or tables: in seqwatch.yaml"
	case errors.Is(err, state.ErrLocked):
		return "; stop it first or use another state.path"
	case errors.Is(err, state.ErrNewerVersion):
		return "; upgrade seqwatch or move the file away"
	case errors.Is(err, state.ErrCorrupt):
		return "; it records what was already reported, so seqwatch will not start without it: " +
			"restore it from backup, or move it away to start fresh (past failures will then be reported again as one digest)"
	case errors.As(err, &owner):
		return "; run seqwatch as that user (or as root) to change it"
	case errors.As(err, &listen) && errors.Is(err, syscall.EADDRINUSE):
		return ": stop it, or choose another address with --listen or http.listen"
	case errors.As(err, &listen) && errors.Is(err, syscall.EACCES):
		return ": use a port above 1023"
	case errors.As(err, &listen) && errors.Is(err, syscall.EADDRNOTAVAIL):
		return ": use 127.0.0.1 or one of the host's addresses"
	}
	return ""
}

// configAdvice says what to change for a configuration mistake: flags when
// the command was told where the application is by flags (the first of
// each pair), the keys of the configuration file when by the file.
func configAdvice(r check.Reason, file bool) string {
	const tz = ": use an IANA name such as UTC or Europe/Berlin"
	advice := map[check.Reason][2]string{
		check.NoEnvFile: {": point --app at the Laravel application root (the directory holding .env), or give the database with --dsn",
			": point app in the configuration file at the Laravel application root (the directory holding .env), or set database.url"},
		check.NoApplication: {": use --app DIR (a Laravel application root), --dsn URL, or --config FILE",
			": set app (the Laravel application root) or database.url in the configuration file"},
		check.UnknownTimezone: {" (from APP_TIMEZONE or --timezone)" + tz, " (from APP_TIMEZONE or database.timezone)" + tz},
	}
	switch r {
	case check.NoDriver:
		return ": set DB_CONNECTION in .env or give a URL such as pgsql://user:pass@host:5432/db"
	case check.UnreadableFiles:
		return " (seqwatch needs read access to the application's operation and migration files)"
	}
	return advice[r][btoi(file)]
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withDirAdvice adds to the problem of each discovery directory that does
// not exist what to do about it (the rules state only the fact).
func withDirAdvice(v check.Verdict, missing []check.MissingDir, file bool) check.Verdict {
	if len(missing) == 0 {
		return v
	}
	for i, p := range v.Problems {
		for _, d := range missing {
			if p == text.Line(d.String(), 400) {
				v.Problems[i] = p + missingDirAdvice(d, file)
			}
		}
	}
	v.Summary = strings.Join(v.Problems, check.ProblemSeparator)
	return v
}

// missingDirAdvice says what to do about a discovery directory that does
// not exist: check the application root, or name the directory.
func missingDirAdvice(d check.MissingDir, file bool) string {
	key := "paths.operations"
	if d.Of == "migration" {
		key = "paths.migrations"
	}
	if file {
		return fmt.Sprintf(": is app in the configuration file the Laravel application root? If the %s files are elsewhere, set %s (relative to app)", d.Of, key)
	}
	return fmt.Sprintf(": is --app the Laravel application root? If the %s files are elsewhere, set %s in seqwatch.yaml (relative to the application root)", d.Of, key)
}

// sourceAdvice says what to check when the database cannot be reached or
// read: the DB_* variables of .env (the first of each pair), or the parts
// of the database URL when the connection was given as one.
func sourceAdvice(r check.Reason, fromURL bool) string {
	switch r {
	case check.NotAnswering:
		return ": check that the server is up, reachable and not overloaded"
	case check.StartupParameterRefused:
		return ": if this is PgBouncer, add statement_timeout and lock_timeout to its ignore_startup_parameters"
	case check.LoginRefused:
		// A URL without a user or password takes them from DB_USERNAME
		// and DB_PASSWORD, as Laravel does.
		return "; check DB_USERNAME and DB_PASSWORD (or the URL's user and password)"
	}
	advice := map[check.Reason][2]string{
		check.NoSuchDatabase: {"; check DB_DATABASE", "; check the database name in the database URL"},
		check.ConnectionRefused: {"; is the server running, and are DB_HOST and DB_PORT right?",
			"; is the server running, and are the database URL's host and port right?"},
		check.HostNotFound:   {"; check DB_HOST", "; check the host in the database URL"},
		check.ConnectTimeout: {"; check DB_HOST, DB_PORT and any firewall", "; check the host and port in the database URL, and any firewall"},
		check.NoSQLiteFile:   {": check DB_DATABASE (relative paths are taken from the application root)", ": check the path in the database URL"},
	}
	return advice[r][btoi(fromURL)]
}

// fromFile marks err as met by a command that was told where the
// application is by a configuration file alone (seqwatch run, or --config
// without --app, --dsn or --timezone), so that advise names the file's
// keys rather than flags. It keeps matching what err matches.
func fromFile(err error) error {
	if err == nil {
		return nil
	}
	return &fileContext{err: err}
}

type fileContext struct{ err error }

func (e *fileContext) Error() string { return e.err.Error() }
func (e *fileContext) Unwrap() error { return e.err }

// advised is err with advise's message, for callers that need an error
// (check.UnknownVerdict): it still matches what err matches.
func advised(err error) error {
	if err == nil {
		return nil
	}
	return &advisedError{msg: advise(err), err: err}
}

type advisedError struct {
	msg string
	err error
}

func (e *advisedError) Error() string { return e.msg }
func (e *advisedError) Unwrap() error { return e.err }
