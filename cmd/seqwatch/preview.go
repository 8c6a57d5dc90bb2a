package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/notify"
)

const previewHelp = `Usage: seqwatch notify preview --config FILE [--channel NAME] [--event KIND | --current] [--name APP] [--raw]

Shows what each configured channel (or only NAME) would send, without
sending anything: each request it would make, with its method, where it
goes (credentials redacted), its headers (never Authorization) and its
body, as the channel's templates word it.

By default the message is about a sample event of KIND (operation.failed
unless --event says; seqwatch notify preview --event list names them) for
the configuration's application. With --current, seqwatch reads the
application and previews the events of its real current problems as the
daemon would send them with nothing reported yet, each channel getting
the events its routes give it.

The channels' secrets must be available, as for seqwatch run: the
channels are built as the daemon builds them. JSON bodies are indented;
--raw prints every body byte for byte.

Examples:
  seqwatch notify preview --config /etc/seqwatch/seqwatch.yaml
  seqwatch notify preview --config seqwatch.yaml --channel ops --event pending.threshold
  seqwatch notify preview --config seqwatch.yaml --current --name billing

Exit status: 0 the previews were shown; 1 the configuration is not valid, a
channel could not render, or the application could not be read; 2 usage.
`

// previewOptions are notify preview's flags.
type previewOptions struct {
	config, channel, event, name string
	current, raw                 bool
	timeout                      time.Duration
}

func runNotifyPreview(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("notify preview", e.stderr, previewHelp)
	var o previewOptions
	fs.StringVar(&o.config, "config", "", "seqwatch.yaml `FILE` (required)")
	fs.StringVar(&o.channel, "channel", "", "preview only the channel `NAME`")
	fs.StringVar(&o.event, "event", "", "a sample event of `KIND` (default operation.failed; list names the kinds)")
	fs.BoolVar(&o.current, "current", false, "the application's real current problems instead of a sample")
	fs.StringVar(&o.name, "name", "", "the application `APP` of a configuration with apps:")
	fs.BoolVar(&o.raw, "raw", false, "print bodies byte for byte, JSON not indented")
	fs.DurationVar(&o.timeout, "t", 60*time.Second, "with --current, give up reading the application after `DURATION`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.event == "list" {
		for _, k := range notify.SampleKinds() {
			fmt.Fprintln(e.stdout, k)
		}
		return nil
	}
	switch {
	case o.config == "":
		fmt.Fprintln(e.stderr, "seqwatch notify preview: --config FILE is required")
		return errUsage
	case o.current && o.event != "":
		fmt.Fprintln(e.stderr, "seqwatch notify preview: give --event KIND or --current, not both")
		return errUsage
	case o.event != "" && !slices.Contains(notify.SampleKinds(), notify.Kind(o.event)):
		fmt.Fprintf(e.stderr, "seqwatch notify preview: --event %q is not an event kind; seqwatch notify preview --event list names them\n", o.event)
		return errUsage
	}
	cfg, err := loadValidConfig(ctx, o.config)
	if err != nil {
		return err
	}
	ac, err := cfg.Application(o.name)
	if err != nil {
		return err
	}
	channels, _, err := ac.BuildChannels(notify.Deps{Client: notify.NewHTTPClient(), Now: e.now, Logger: discardLogger(), Stdout: io.Discard})
	if err != nil {
		return err
	}
	names, err := notify.Named(channels, o.channel, o.config)
	if err != nil {
		return err
	}
	events, err := previewSource(ctx, o, ac, e)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		fmt.Fprintf(e.stdout, "%s has no current problems: nothing would be sent (--event KIND previews a sample)\n", ac.DisplayName())
		return nil
	}
	p := notify.Preview{Channels: channels, Routes: ac.EffectiveRoutes(), Routed: o.current, Raw: o.raw, Secrets: ac.File().Secrets()}
	return p.Write(e.stdout, names, events)
}

// previewSource is the events to preview: a sample of the kind asked for,
// or the application's current problems as events.
func previewSource(ctx context.Context, o previewOptions, ac *config.App, e env) ([]notify.Event, error) {
	now := e.now()
	if !o.current {
		kind := notify.Kind(o.event)
		if kind == "" {
			kind = notify.OperationFailed
		}
		return []notify.Event{notify.SampleEvent(kind, ac.DisplayName(), ac.Environment, now)}, nil
	}
	sf := sourceFlags{config: o.config, name: o.name, timeout: o.timeout, maxPending: -1, stuckAfter: -1}
	src, th, err := sf.resolve(ctx, e)
	if err != nil {
		return nil, err
	}
	return daemon.CurrentEvents(ctx, src, th, ac.Policy(), now)
}
