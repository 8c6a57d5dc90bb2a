package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/schedule"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/alertmanager"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/state"
)

// buildChannels builds the configured notifiers.
// threads, when not nil, keeps a Slack bot's message ids so recoveries
// update the original alert.
func buildChannels(ac *config.App, stdout io.Writer, client *http.Client, now func() time.Time, logger *slog.Logger, threads func(channel string) slack.ThreadStore) (map[string]notify.Notifier, map[string]float64, error) {
	out := map[string]notify.Notifier{}
	rates := map[string]float64{}
	deps := notify.Deps{Client: client, Now: now, Logger: logger, Stdout: stdout, Threads: threads, EndsAfter: endsAfterOf(ac)}
	for _, ch := range ac.Channels() {
		var n notify.Notifier
		var err error
		if t, ok := ch.Type(); !ok {
			err = fmt.Errorf("no channel type given (%s)", config.ChannelTypes().Choices())
		} else {
			deps.Name = ch.Name
			tl := logger
			if tl != nil {
				tl = tl.With("channel", ch.Name)
			}
			var errs []*notify.TemplateError
			deps.Templates, errs = ch.ParseTemplates(ac.File().HTTP.URL, tl)
			if errs != nil {
				err = fmt.Errorf("templates.%w", errs[0]) // validate names every one
			} else {
				n, err = t.New(ch.Config(), deps)
			}
			if t.RatePerSecond > 0 {
				rates[ch.Name] = t.RatePerSecond
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("channel %q: %s", ch.Name, text.Redact(err.Error(), ac.File().Secrets()...))
		}
		if ch.RatePerSecond > 0 {
			rates[ch.Name] = ch.RatePerSecond
		}
		out[ch.Name] = n
	}
	return out, rates, nil
}

// policyFrom is how the daemon tells about problems, from the configuration
// (what a problem is comes from the thresholds).
func policyFrom(ac *config.App) alerting.Policy {
	return alerting.Policy{
		RepeatAfter:   time.Duration(ac.RepeatAfter),
		FirstRun:      ac.File().OnFirstRun,
		SeenRetention: time.Duration(ac.State.SeenRetention),
	}
}

func routesFrom(ac *config.App) notify.Routes {
	if len(ac.Routes) > 0 {
		return ac.Routes
	}
	return notify.DefaultRoutes(channelNames(ac))
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
func endsAfterOf(ac *config.App) time.Duration {
	sched, err := ac.ParsedSchedule()
	if err != nil {
		return alertmanager.DefaultEndsAfter
	}
	return max(4*schedule.Interval(sched), alertmanager.DefaultEndsAfter)
}

// appConfig turns one application's configuration into the daemon's:
// its source, rules, routes and channels (built anew, so that each
// application keeps its own Slack threads and rate limits). st returns the
// application's state, for the Slack threads.
func appConfig(ac *config.App, e env, logger *slog.Logger, st func() *state.State) (daemon.Config, error) {
	src, err := laravel.Resolve(ac.Settings())
	if err != nil {
		return daemon.Config{}, err
	}
	channels, rates, err := buildChannels(ac, e.stdout, alertHTTPClient(), e.now, logger, func(channel string) slack.ThreadStore {
		return state.NewThreadStore(st, channel)
	})
	if err != nil {
		return daemon.Config{}, err
	}
	hashes := map[string]string{}
	for _, ch := range ac.Channels() {
		hashes[ch.Name] = ch.ConfigHash()
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
		Source: src, Thresholds: ac.Thresholds.Check(), Policy: policyFrom(ac),
		Routes: routesFrom(ac), Channels: channels, Rates: rates, ChannelHash: hashes,
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
