package config

import (
	"fmt"
	"time"

	"github.com/seqwatch/seqwatch/internal/alerting"
	"github.com/seqwatch/seqwatch/internal/schedule"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/alertmanager"
)

// BuildChannels builds the application's channels, each with its
// templates, over base (the client, clock, logger, console output and
// Slack threads the caller gives), and returns them with the message
// rate each is held to (its type's, or rate_per_second). An error names
// the channel and quotes no secret.
func (a *App) BuildChannels(base notify.Deps) (map[string]notify.Notifier, map[string]float64, error) {
	out := map[string]notify.Notifier{}
	rates := map[string]float64{}
	deps := base
	deps.EndsAfter = a.endsAfter()
	for _, ch := range a.Channels() {
		var n notify.Notifier
		var err error
		if t, ok := ch.Type(); !ok {
			err = fmt.Errorf("no channel type given (%s)", ChannelTypes().Choices())
		} else {
			deps.Name = ch.Name
			tl := base.Logger
			if tl != nil {
				tl = tl.With("channel", ch.Name)
			}
			var errs []*notify.TemplateError
			deps.Templates, errs = ch.ParseTemplates(a.File().HTTP.URL, tl)
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
			return nil, nil, fmt.Errorf("channel %q: %s", ch.Name, text.Redact(err.Error(), a.File().Secrets()...))
		}
		if ch.RatePerSecond > 0 {
			rates[ch.Name] = ch.RatePerSecond
		}
		out[ch.Name] = n
	}
	return out, rates, nil
}

// endsAfter is how long Alertmanager keeps a problem firing after its
// last post when the channel does not say: four of the schedule's
// intervals, as Prometheus does with its evaluation interval, and at least
// alertmanager.DefaultEndsAfter.
func (a *App) endsAfter() time.Duration {
	sched, err := a.ParsedSchedule()
	if err != nil {
		return alertmanager.DefaultEndsAfter
	}
	return max(4*schedule.Interval(sched), alertmanager.DefaultEndsAfter)
}

// ChannelNames are the names of the configured channels, in the file's
// order.
func (a *App) ChannelNames() []string {
	names := make([]string, 0, len(a.Channels()))
	for _, ch := range a.Channels() {
		names = append(names, ch.Name)
	}
	return names
}

// ChannelHashes are the configured channels' hashes by name
// (Channel.ConfigHash): a channel disabled by 410 Gone stays so until its
// hash changes.
func (a *App) ChannelHashes() map[string]string {
	hashes := map[string]string{}
	for _, ch := range a.Channels() {
		hashes[ch.Name] = ch.ConfigHash()
	}
	return hashes
}

// EffectiveRoutes are the routes: those configured, else every event to
// every channel (notify.DefaultRoutes).
func (a *App) EffectiveRoutes() notify.Routes {
	if len(a.Routes) > 0 {
		return a.Routes
	}
	return notify.DefaultRoutes(a.ChannelNames())
}

// Policy is how the daemon tells about problems (what a problem is comes
// from the thresholds).
func (a *App) Policy() alerting.Policy {
	return alerting.Policy{
		RepeatAfter:   time.Duration(a.RepeatAfter),
		FirstRun:      a.File().OnFirstRun,
		SeenRetention: time.Duration(a.State.SeenRetention),
	}
}
