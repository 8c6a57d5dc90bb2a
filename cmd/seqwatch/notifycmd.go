package main

import (
	"context"
	"fmt"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

const notifyHelp = `Usage: seqwatch notify test --config FILE [--channel NAME]
       seqwatch notify preview --config FILE [--channel NAME] [--event KIND | --current]

test sends a test alert through each configured channel (or only NAME)
and reports each result, so you can check the set-up before relying on
it. preview shows what each channel would send, sending nothing (see
seqwatch notify preview -h).

Exit status: 0 every channel accepted the test; 1 one or more did not.
`

func runNotify(ctx context.Context, args []string, e env) error {
	if len(args) > 0 && args[0] == "preview" {
		return runNotifyPreview(ctx, args[1:], e)
	}
	if len(args) == 0 || args[0] != "test" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(e.stderr, notifyHelp)
			return nil
		}
		fmt.Fprint(e.stderr, notifyHelp)
		return errUsage
	}
	fs := newFlagSet("notify test", e.stderr, notifyHelp)
	cfgPath := fs.String("config", "", "seqwatch.yaml `FILE` (required)")
	only := fs.String("channel", "", "test only the channel `NAME`")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *cfgPath == "" {
		fmt.Fprintln(e.stderr, "seqwatch notify test: --config FILE is required")
		return errUsage
	}
	cfg, err := loadValidConfig(ctx, *cfgPath)
	if err != nil {
		return err
	}
	channels, rates, err := cfg.TopLevel().BuildChannels(notify.Deps{Client: notify.NewHTTPClient(), Now: time.Now, Logger: discardLogger(), Stdout: e.stdout})
	if err != nil {
		return err
	}
	names, err := notify.Named(channels, *only, *cfgPath)
	if err != nil {
		return err
	}
	d := notify.NewDispatcher(channels, notify.DispatcherOptions{MaxAttempts: 2, Sleep: e.sleep, RatePerSecond: rates})
	ev := notify.TestEvent(cfg.Name, cfg.Environment, time.Now())
	return notify.TryEach(ctx, d, names, []notify.Event{ev}, e.stdout, cfg.Secrets())
}
