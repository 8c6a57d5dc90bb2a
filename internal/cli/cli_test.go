package cli_test

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/cli"
)

// Each mistake is one sentence that says what to do, and nothing is
// printed for it; -h prints the help; good flags parse.
func TestParseTurnsEachMistakeIntoOneSentence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // "" parses; "help" is -h
	}{
		{"good flags", []string{"--app", "/srv/shop", "--max-pending", "3", "-t", "5s", "--json"}, ""},
		{"unknown flag", []string{"--max-pendin", "10"}, "unknown flag -max-pendin (seqwatch check -h lists the flags)"},
		{"missing value", []string{"--app"}, "flag -app needs a value (seqwatch check -h lists the flags)"},
		{"word for a number", []string{"--max-pending", "ten"}, `flag -max-pending must be a whole number (got "ten")`},
		{"not a duration", []string{"-t", "soon"}, `flag -t must be a duration such as 30s, 10m or 1h (got "soon")`},
		{"not a boolean", []string{"--json=maybe"}, `flag -json must be true or false (got "maybe")`},
		{"a value of no kind it knows", []string{"--level", "x"}, `flag -level must be a valid value (got "x")`},
		{"extra argument", []string{"--app", "/srv/shop", "now"}, `unexpected argument "now": seqwatch check takes only flags (seqwatch check -h lists them)`},
		{"help", []string{"-h"}, "help"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			fs := flag.NewFlagSet("check", flag.ContinueOnError)
			fs.SetOutput(&out)
			fs.Usage = func() { out.WriteString("Usage: seqwatch check\n") }
			fs.String("app", "", "")
			fs.Int("max-pending", -1, "")
			fs.Duration("t", 10*time.Second, "")
			fs.Bool("json", false, "")
			fs.Func("level", "", func(string) error { return errors.New("no") })
			err := cli.Parse(fs, tc.args)
			var m *cli.Mistake
			switch {
			case tc.want == "":
				if err != nil || out.Len() > 0 {
					t.Errorf("error %v, printed %q", err, out.String())
				}
			case tc.want == "help":
				if !errors.Is(err, flag.ErrHelp) || out.String() != "Usage: seqwatch check\n" {
					t.Errorf("error %v, printed %q; want flag.ErrHelp and the usage", err, out.String())
				}
			case !errors.As(err, &m) || m.Msg != tc.want || strings.Contains(m.Msg, "\n"):
				t.Errorf("error %v, want the mistake %q", err, tc.want)
			case out.Len() > 0:
				t.Errorf("printed %q for a mistake", out.String())
			}
		})
	}
}
