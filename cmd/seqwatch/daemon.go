package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/alertmanager"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/state"
)

// buildChannels builds the configured notifiers.
// threads, when not nil, keeps a Slack bot's message ids so recoveries
// update the original alert.
func buildChannels(cfg *Config, stdout io.Writer, client *http.Client, now func() time.Time, logger *slog.Logger, threads func(channel string) slack.ThreadStore) (map[string]notify.Notifier, map[string]float64, error) {
	out := map[string]notify.Notifier{}
	rates := map[string]float64{}
	deps := notify.Deps{Client: client, Now: now, Logger: logger, Stdout: stdout, Threads: threads, EndsAfter: endsAfterOf(cfg)}
	for _, ch := range cfg.Channels {
		var n notify.Notifier
		var err error
		if len(ch.given) == 0 {
			err = fmt.Errorf("no channel type given (%s)", channelTypes().Choices())
		} else {
			t := ch.given[0].typ
			deps.Name = ch.Name
			n, err = t.New(ch.given[0].cfg, deps)
			if t.RatePerSecond > 0 {
				rates[ch.Name] = t.RatePerSecond
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("channel %q: %s", ch.Name, text.Redact(err.Error(), cfg.secrets...))
		}
		if ch.RatePerSecond > 0 {
			rates[ch.Name] = ch.RatePerSecond
		}
		out[ch.Name] = n
	}
	return out, rates, nil
}

// policyFrom is how the daemon tells about problems, from the configuration
// (what a problem is comes from cfg.thresholds).
func policyFrom(cfg *Config) alerting.Policy {
	return alerting.Policy{
		RepeatAfter:   time.Duration(cfg.RepeatAfter),
		FirstRun:      cfg.OnFirstRun,
		SeenRetention: time.Duration(cfg.State.SeenRetention),
	}
}

func routesFrom(cfg *Config) notify.Routes {
	if len(cfg.Routes) > 0 {
		return cfg.Routes
	}
	names := make([]string, 0, len(cfg.Channels))
	for _, ch := range cfg.Channels {
		names = append(names, ch.Name)
	}
	return notify.DefaultRoutes(names)
}

// alertHTTPClient is the client the HTTP channels send with.
func alertHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		// A webhook that redirects is misconfigured; do not re-send the
		// body and headers somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// endsAfterOf is how long Alertmanager keeps a problem firing after its
// last post when the channel does not say: four of the schedule's
// intervals, as Prometheus does with its evaluation interval, and at least
// alertmanager.DefaultEndsAfter.
func endsAfterOf(cfg *Config) time.Duration {
	sched, err := parseSchedule(scheduleOf(cfg))
	if err != nil {
		return alertmanager.DefaultEndsAfter
	}
	return max(4*scheduleInterval(sched), alertmanager.DefaultEndsAfter)
}

// appConfig turns one application's configuration into the daemon's:
// its source, rules, routes and channels (built anew, so that each
// application keeps its own Slack threads and rate limits). st returns the
// application's state, for the Slack threads.
func appConfig(cfg *Config, e env, logger *slog.Logger, st func() *state.State) (daemon.Config, error) {
	src, err := laravel.Resolve(cfg.Settings())
	if err != nil {
		return daemon.Config{}, err
	}
	channels, rates, err := buildChannels(cfg, e.stdout, alertHTTPClient(), e.now, logger, func(channel string) slack.ThreadStore {
		return state.NewThreadStore(st, channel)
	})
	if err != nil {
		return daemon.Config{}, err
	}
	hashes := map[string]string{}
	for _, ch := range cfg.Channels {
		hashes[ch.Name] = ch.configHash()
	}
	sched, err := parseSchedule(scheduleOf(cfg))
	if err != nil {
		return daemon.Config{}, fmt.Errorf("schedule %q: %w", cfg.Schedule, err)
	}
	timeout, err := tickTimeoutOf(cfg)
	if err != nil {
		return daemon.Config{}, err
	}
	windows, err := windowsOf(cfg)
	if err != nil {
		return daemon.Config{}, err
	}
	return daemon.Config{
		Source: src, Thresholds: cfg.thresholds(), Policy: policyFrom(cfg),
		Routes: routesFrom(cfg), Channels: channels, Rates: rates, ChannelHash: hashes,
		TickTimeout: timeout, Reconcile: time.Duration(cfg.Reconcile),
		Windows:  func(now time.Time) []state.Mute { return windowsAt(windows, now) },
		Schedule: sched, LeaseTTL: time.Duration(cfg.State.LeaseTTL), ConfigPath: cfg.path,
		// An application of apps: connects for each tick and disconnects
		// after it: fifty applications then hold no idle connection
		// between ticks, for the price of one connection per tick each.
		CloseAfterTick: cfg.appIndex > 0,
	}, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
