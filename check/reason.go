package check

// Reason says what is wrong in a ConfigError or a SourceError (of
// internal/reader), when seqwatch recognised it, so that a command can say
// what to do about it. The errors themselves state only what is wrong:
// which flag, variable or key to change depends on how the user runs
// seqwatch, which only the command knows. It is one small enum for both
// errors, kept here where internal/laravel, internal/reader and
// cmd/seqwatch can all import it.
type Reason int

// Reasons of a ConfigError.
const (
	// OtherReason: the message says all there is.
	OtherReason Reason = iota
	// NoApplication: neither an application directory nor a database URL
	// was given.
	NoApplication
	// NoEnvFile: the application directory has no .env, and no database
	// URL was given.
	NoEnvFile
	// NoDriver: a database URL or connection names no driver.
	NoDriver
	// UnknownTimezone: the application's time zone is not an IANA zone
	// name (from APP_TIMEZONE or from Settings.Timezone).
	UnknownTimezone
	// UnreadableFiles: a directory of operation or migration files cannot
	// be read.
	UnreadableFiles
)

// Reasons of a SourceError.
const (
	// NotAnswering: the server did not answer within the read's limit.
	NotAnswering Reason = iota + 100
	// StartupParameterRefused: the server (or a pooler such as PgBouncer
	// in front of it) refused a startup parameter seqwatch sends.
	StartupParameterRefused
	// LoginRefused: wrong user name or password.
	LoginRefused
	// NoSuchDatabase: the server has no database of that name.
	NoSuchDatabase
	// ConnectionRefused: nothing listens at the host and port.
	ConnectionRefused
	// HostNotFound: the host name does not resolve.
	HostNotFound
	// ConnectTimeout: connecting to the host and port timed out.
	ConnectTimeout
	// NoSQLiteFile: the SQLite database file does not exist.
	NoSQLiteFile
)

// ConfigError is a problem with what the user configured (as opposed to a
// problem reaching or reading the database: internal/reader's
// SourceError). `seqwatch check` maps both to UNKNOWN, but the daemon
// treats only the latter as an outage. Its message says what is wrong;
// Reason, when not OtherReason, lets a command add what to change.
//
// internal/laravel makes them. The type lives here, beside the Reasons,
// because the rules read it (UnknownVerdict prefixes "configuration: ").
type ConfigError struct {
	Reason Reason
	Err    error
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }
