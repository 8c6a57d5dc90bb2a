package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/cli"
	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// sourceFlags are the flags that say where the application is.
type sourceFlags struct {
	app, dsn, config, timezone string
	// name picks one application of a configuration with apps:.
	name string
	// picked, when set, is that application, already loaded: check over
	// every application of apps: parses the file once, not once per
	// application (with a thousand applications, a thousand parses of a
	// thousand entries).
	picked     *config.App
	maxPending int
	stuckAfter time.Duration
	// scheduledStuckAfter is --scheduled-stuck-after; -1 when not given.
	scheduledStuckAfter time.Duration
	// timeout bounds the whole read (connect and queries); 0 keeps
	// reader.ReadOnce's default.
	timeout time.Duration
}

// registerTimeout adds -t/--timeout with the command's default: 10s for
// check (the monitoring-plugins convention, well under Nagios's own 60s
// service timeout), 60s for status.
func (f *sourceFlags) registerTimeout(fs *flag.FlagSet, def time.Duration) {
	fs.DurationVar(&f.timeout, "t", def, "give up reading the application after `DURATION`")
	fs.DurationVar(&f.timeout, "timeout", def, "same as -t")
}

func (f *sourceFlags) register(fs *flag.FlagSet, thresholds bool) {
	fs.StringVar(&f.app, "app", "", "Laravel application root `DIR` (reads DIR/.env)")
	fs.StringVar(&f.dsn, "dsn", "", "database `URL` (pgsql://, mysql://, mariadb://, sqlite:///path); default $SEQWATCH_DSN")
	fs.StringVar(&f.config, "config", "", "seqwatch.yaml `FILE`")
	fs.StringVar(&f.name, "name", "", "with --config, the application called `APP` (of those under apps:)")
	fs.StringVar(&f.timezone, "timezone", "", "application time `ZONE` (default APP_TIMEZONE, else UTC)")
	if thresholds {
		fs.IntVar(&f.maxPending, "max-pending", -1, "warn when more than `N` operations are pending (default thresholds.max_pending, else off)")
		fs.DurationVar(&f.stuckAfter, "stuck-after", -1, "warn when an operation is in progress longer than `DURATION` (default thresholds.stuck_after, else off)")
		fs.DurationVar(&f.scheduledStuckAfter, "scheduled-stuck-after", -1, "warn when a Scheduled operation has waited for its time longer than `DURATION` (default thresholds.scheduled_stuck_after, else 48h; 0 is off)")
	}
}

// resolve combines flags, configuration file and .env, in that order of
// precedence, into a source and thresholds (config.Resolve). The
// configuration is read within -t/--timeout.
func (f *sourceFlags) resolve(ctx context.Context, e env) (laravel.Source, check.Thresholds, error) {
	if f.name != "" && f.config == "" {
		return laravel.Source{}, check.Thresholds{}, &usageError{msg: "--name picks an application of a configuration: give --config FILE too"}
	}
	ac := f.picked
	if ac == nil && f.config != "" {
		var err error
		if ac, err = config.LoadAppForReading(ctx, f.config, f.name, f.timeout); err != nil {
			return laravel.Source{}, check.Thresholds{}, err
		}
	}
	src, th, err := config.Resolve(ac, config.Overrides{AppDir: f.app, DSN: f.dsn, Timezone: f.timezone, MaxPending: f.maxPending, StuckAfter: f.stuckAfter, ScheduledStuckAfter: f.scheduledStuckAfter}, e.getenv)
	if err != nil {
		if f.fileOnly() {
			// The file alone said where the application is: advice names its keys.
			err = fromFile(err)
		}
		return laravel.Source{}, check.Thresholds{}, err
	}
	src.Conn.Timeout = f.timeout
	return src, th, nil
}

// fileOnly reports whether the configuration file alone said where the
// application is, so that advice names its keys rather than flags.
func (f *sourceFlags) fileOnly() bool {
	return f.config != "" && f.app == "" && f.dsn == "" && f.timezone == ""
}

// parseSince reads --since (of wait and status): an RFC 3339 time, or a
// duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, &usageError{msg: fmt.Sprintf("--since %s: give a duration ago as a positive one, such as 10m", s)}
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, &usageError{msg: fmt.Sprintf("--since %q is neither an RFC 3339 time (2024-06-01T12:00:00Z) nor a duration ago (10m)", s)}
}

// parseFlags parses a command's flags; positional arguments and
// non-positive -t/--timeout values are errors. A mistake is printed on the
// flag set's output, with the command's help, and returned as errUsage;
// -h prints the help and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := parseFlagsQuietly(fs, args)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(fs.Output(), "seqwatch %s: %s\n", fs.Name(), ue.msg)
		fs.Usage()
	}
	return err
}

// usageError is a command-line mistake, as one sentence.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == errUsage }

// parseFlagsQuietly is parseFlags for check, whose output is read by
// monitoring systems: it prints nothing for a mistake (cli.Parse; Nagios
// would take anything after a '|' in the help for performance data) and
// returns it as a *usageError holding one sentence, with the values no
// command takes: a non-positive -t/--timeout, a negative --stuck-after or
// --max-pending. -h still prints the help.
func parseFlagsQuietly(fs *flag.FlagSet, args []string) error {
	var m *cli.Mistake
	if err := cli.Parse(fs, args); errors.As(err, &m) {
		return &usageError{msg: m.Msg}
	} else if err != nil {
		return err
	}
	var bad error
	fs.Visit(func(fl *flag.Flag) {
		if bad != nil {
			return
		}
		g, ok := fl.Value.(flag.Getter)
		if !ok {
			return
		}
		switch v := g.Get().(type) {
		case time.Duration:
			if (fl.Name == "t" || fl.Name == "timeout") && v <= 0 {
				bad = &usageError{msg: fmt.Sprintf("-%s must be a positive duration such as 10s (got %s)", fl.Name, fl.Value)}
			} else if fl.Name == "stuck-after" && v < 0 {
				// -1 is the default that means "not given": given, it is
				// as wrong as in the configuration.
				bad = &usageError{msg: fmt.Sprintf("--stuck-after must be 0 (off) or a positive duration such as 30m (got %s)", v)}
			}
		case int:
			if fl.Name == "max-pending" && v < 0 {
				bad = &usageError{msg: fmt.Sprintf("--max-pending must be 0 (off) or more (got %d)", v)}
			}
		}
	})
	return bad
}

func newFlagSet(name string, out io.Writer, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, help)
		fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

func stdoutIsTerminal() bool {
	fd := os.Stdout.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

// useColor honours NO_COLOR (https://no-color.org) and TERM=dumb.
func useColor(e env) bool {
	return e.isTerminal && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

// discardLogger is the logger of a command that sends through channels
// but keeps no log.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
