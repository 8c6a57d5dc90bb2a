package runner

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/state"
)

// Deps are what a worker takes from its surroundings.
type Deps struct {
	// Now is the clock.
	Now func() time.Time
	// Sleep waits between delivery retries; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Stdout is where the console channel writes.
	Stdout io.Writer
	Logger *slog.Logger
	// Advise adds what to do to a failed read's error (nil: the error as
	// it is).
	Advise func(error) error
}

// NewApp makes the worker of one application, its state loaded from st,
// with its dependencies adjusted by opts (tests replace the read or the
// observer).
func NewApp(ac *config.App, st state.Store, deps Deps, opts ...func(*daemon.Deps)) (*daemon.App, error) {
	var app *daemon.App
	logger := deps.Logger.With("app", ac.DisplayName())
	dc, err := AppConfig(ac, deps, logger, func() *state.State {
		if app == nil {
			return nil
		}
		return app.State()
	})
	if err != nil {
		return nil, err
	}
	dd := daemon.Deps{Store: st, Now: deps.Now, Sleep: deps.Sleep, Logger: logger, Advise: deps.Advise}
	for _, o := range opts {
		o(&dd)
	}
	app, err = daemon.NewApp(dc, dd)
	return app, err
}

// AppConfig turns one application's configuration into the daemon's:
// its source, rules, routes and channels (built anew, so that each
// application keeps its own Slack threads and rate limits). st returns the
// application's state, for the Slack threads.
func AppConfig(ac *config.App, deps Deps, logger *slog.Logger, st func() *state.State) (daemon.Config, error) {
	src, err := laravel.Resolve(ac.Settings())
	if err != nil {
		return daemon.Config{}, err
	}
	channels, rates, err := ac.BuildChannels(notify.Deps{Client: notify.NewHTTPClient(), Now: deps.Now, Logger: logger, Stdout: deps.Stdout,
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
