package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/robfig/cron/v3"

	"github.com/seqwatch/seqwatch/check"
)

// sourceFlags are the flags that say where the application is.
type sourceFlags struct {
	app, dsn, config, timezone string
	maxPending                 int
	stuckAfter                 time.Duration
}

func (f *sourceFlags) register(fs *flag.FlagSet, thresholds bool) {
	fs.StringVar(&f.app, "app", "", "Laravel application root `DIR` (reads DIR/.env)")
	fs.StringVar(&f.dsn, "dsn", "", "database `URL` (pgsql://, mysql://, mariadb://, sqlite:///path); default $SEQWATCH_DSN")
	fs.StringVar(&f.config, "config", "", "seqwatch.yaml `FILE`")
	fs.StringVar(&f.timezone, "timezone", "", "application time `ZONE` (default APP_TIMEZONE, else UTC)")
	if thresholds {
		fs.IntVar(&f.maxPending, "max-pending", -1, "warn when more than `N` operations are pending (default thresholds.max_pending, else off)")
		fs.DurationVar(&f.stuckAfter, "stuck-after", -1, "warn when an operation is in progress longer than `DURATION` (default thresholds.stuck_after, else off)")
	}
}

// resolve combines flags, configuration file and .env, in that order of
// precedence, into a source and thresholds.
func (f *sourceFlags) resolve(e env) (check.Source, check.Thresholds, error) {
	var cfg *Config
	var settings check.Settings
	if f.config != "" {
		var err error
		cfg, err = loadConfigForReading(f.config)
		if err != nil {
			return check.Source{}, check.Thresholds{}, err
		}
		// Only the parts that say where the application is matter here;
		// channel problems are for validate and run to report.
		settings = cfg.Settings()
	}
	if f.app != "" {
		settings.AppDir = f.app
	}
	dsn := f.dsn
	if dsn == "" && settings.URL == "" {
		dsn = e.getenv("SEQWATCH_DSN")
	}
	if dsn != "" {
		settings.URL = dsn
	}
	if f.timezone != "" {
		settings.Timezone = f.timezone
	}
	src, err := check.Resolve(settings)
	if err != nil {
		return check.Source{}, check.Thresholds{}, err
	}
	var th check.Thresholds
	if cfg != nil {
		th.MaxPending = cfg.Thresholds.MaxPending
		th.StuckAfter = time.Duration(cfg.Thresholds.StuckAfter)
	}
	if f.maxPending >= 0 {
		th.MaxPending = f.maxPending
	}
	if f.stuckAfter >= 0 {
		th.StuckAfter = f.stuckAfter
	}
	return src, th, nil
}

// parseFlags parses a command's flags; positional arguments are errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "seqwatch %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
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

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseSchedule accepts @every, the @hourly-style descriptors and 5-field
// cron expressions.
func parseSchedule(s string) (cron.Schedule, error) {
	return cron.ParseStandard(s)
}
