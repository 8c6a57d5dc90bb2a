// Package cli is how seqwatch's commands read their command lines with
// the standard flag package: quietly, since a monitoring system reads a
// plugin's standard output and Icinga 2 would add standard error to it,
// with each mistake as one sentence that says what to do, and only flags.
// What each flag means and which values it takes are the commands'.
//
// It imports nothing of seqwatch (internal/layering holds it to that).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Mistake is a command-line mistake, as one sentence.
type Mistake struct{ Msg string }

func (m *Mistake) Error() string { return m.Msg }

// Parse parses args into fs and prints nothing for a mistake: it returns
// it as a *Mistake, the flag package's message rewritten as a sentence
// that says what to do. A positional argument is a mistake. -h prints
// fs's usage and returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		return &Mistake{Msg: sentence(fs, err)}
	case fs.NArg() > 0:
		return &Mistake{Msg: fmt.Sprintf("unexpected argument %q: seqwatch %s takes only flags (seqwatch %s -h lists them)", fs.Arg(0), fs.Name(), fs.Name())}
	}
	return nil
}

// sentence rewrites the flag package's error as a sentence that says
// what to do.
func sentence(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	help := fmt.Sprintf("(seqwatch %s -h lists the flags)", fs.Name())
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Sprintf("unknown flag %s %s", name, help)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Sprintf("flag %s needs a value %s", name, help)
	}
	// invalid boolean value "maybe" for -json: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if value, after, ok := strings.Cut(rest, " for -"); ok {
			name, _, _ := strings.Cut(after, ":")
			return fmt.Sprintf("flag -%s must be true or false (got %s)", name, value)
		}
	}
	// invalid value "ten" for flag -max-pending: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if value, after, ok := strings.Cut(rest, " for flag -"); ok {
			name, _, _ := strings.Cut(after, ":")
			want := "a valid value"
			// A flag.Func has no Getter: it says what it wants itself.
			if g, ok := lookupGetter(fs, name); ok {
				switch g.Get().(type) {
				case time.Duration:
					want = "a duration such as 30s, 10m or 1h"
				case int, int64, uint, uint64:
					want = "a whole number"
				}
			}
			return fmt.Sprintf("flag -%s must be %s (got %s)", name, want, value)
		}
	}
	return msg + " " + help
}

func lookupGetter(fs *flag.FlagSet, name string) (flag.Getter, bool) {
	fl := fs.Lookup(name)
	if fl == nil {
		return nil, false
	}
	g, ok := fl.Value.(flag.Getter)
	return g, ok
}
