package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/seqwatch/seqwatch/internal/config"
)

const validateHelp = `Usage: seqwatch validate --config FILE [--env-file FILE]

Checks a configuration file: YAML syntax, unknown keys, unset ${VAR}
references, unreadable *_file secrets, channels, routes, schedule and
thresholds. Prints every problem with its line and how to fix it.

  --env-file FILE  read ${VAR} values from FILE first (NAME=value lines,
                   such as the unit's /etc/seqwatch/seqwatch.env), as the
                   daemon under systemd sees them; then the environment.
                   A bare *_file name is looked up in $CREDENTIALS_DIRECTORY
                   when that is set, as under LoadCredential=.

Exit status: 0 valid; 1 problems found; 2 bad usage.
`

func runValidate(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("validate", e.stderr, validateHelp)
	cfgPath := fs.String("config", "", "seqwatch.yaml `FILE` (required)")
	envFile := fs.String("env-file", "", "read ${VAR} values from `FILE` first, as the systemd unit's EnvironmentFile=")
	if err := parseFlags(fs, args); err != nil {
		return exitCode(e, err)
	}
	if *cfgPath == "" {
		fmt.Fprintln(e.stderr, "seqwatch validate: --config FILE is required")
		return 2
	}
	load := config.Load
	if *envFile != "" {
		load = func(ctx context.Context, path string) (*config.Config, error) {
			return config.LoadWithEnvFile(ctx, path, *envFile)
		}
	}
	cfg, err := load(ctx, *cfgPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "seqwatch: %v\n", err)
		return 1
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		fmt.Fprintf(e.stderr, "%s has %d problem(s):\n  %s\n", *cfgPath, len(problems), strings.Join(problems, "\n  "))
		return 1
	}
	fmt.Fprintf(e.stdout, "%s is valid: %d channel(s), schedule %s\n", *cfgPath, len(cfg.Channels), cfg.TopLevel().ScheduleSpec())
	return 0
}
