package main

import (
	"log/slog"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/state"
)

// appConfig turns one application's configuration into the daemon's:
// its source, rules, routes and channels (built anew, so that each
// application keeps its own Slack threads and rate limits). st returns the
// application's state, for the Slack threads.
func appConfig(ac *config.App, e env, logger *slog.Logger, st func() *state.State) (daemon.Config, error) {
	src, err := laravel.Resolve(ac.Settings())
	if err != nil {
		return daemon.Config{}, err
	}
	channels, rates, err := ac.BuildChannels(notify.Deps{Client: notify.NewHTTPClient(), Now: e.now, Logger: logger, Stdout: e.stdout,
		Threads: func(channel string) slack.ThreadStore { return state.NewThreadStore(st, channel) }})
	if err != nil {
		return daemon.Config{}, err
	}
	sched, err := ac.ParsedSchedule()
	if err != nil {
		return daemon.Config{}, err
	}
	timeout, err := ac.TickDeadline()
	if err != nil {
		return daemon.Config{}, err
	}
	windows, err := ac.File().Windows()
	if err != nil {
		return daemon.Config{}, err
	}
	return daemon.Config{
		Source: src, Thresholds: ac.Thresholds.Check(), Policy: ac.Policy(),
		Routes: ac.EffectiveRoutes(), Channels: channels, Rates: rates, ChannelHash: ac.ChannelHashes(),
		TickTimeout: timeout, Reconcile: time.Duration(ac.Reconcile),
		Windows:  func(now time.Time) []state.Mute { return config.WindowsAt(windows, now) },
		Schedule: sched, LeaseTTL: time.Duration(ac.State.LeaseTTL), ConfigPath: ac.File().Path(),
		// An application of apps: connects for each tick and disconnects
		// after it: fifty applications then hold no idle connection
		// between ticks, for the price of one connection per tick each.
		CloseAfterTick: ac.InList(),
	}, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
