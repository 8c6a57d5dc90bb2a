package runner

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/mutes"
	"github.com/seqwatch/seqwatch/internal/observe"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/internal/web"
)

// Options are what `seqwatch run` decides from its flags and surroundings.
type Options struct {
	Deps
	// Once runs one tick of every application and returns, as run --once.
	Once bool
	// Listen is where to serve the page, the API and the metrics (--listen);
	// "" takes http.listen. run --once serves nothing.
	Listen string
	// Version is the binary's, for the page and the start-up log line.
	Version string
	// Secrets scrub the logs; the reload sets them to the new
	// configuration's.
	Secrets *text.SecretSet
	// Load reads the configuration again on a reload (and validates it).
	Load func(ctx context.Context) (*config.Config, error)
	// Notify tells the service manager (systemd) the daemon's state; nil:
	// nothing.
	Notify func(state string)
	// Watchdog is the service manager's watchdog interval (0: none).
	Watchdog time.Duration
}

// Run runs the daemon of cfg until ctx ends (or for one tick, with Once):
// it opens the states (waiting for a state database that is not up yet),
// starts the observer, makes a worker per application and runs them,
// reloading the configuration each time hup receives (a signal that comes
// while a reload is pending is merged into it).
func Run(ctx context.Context, cfg *config.Config, o Options, hup <-chan os.Signal) error {
	stores, err := statestore.Open(ctx, cfg, !o.Once, o.Sleep, o.Logger)
	if err != nil {
		return err
	}
	defer stores.Close()
	listen := o.Listen
	if listen == "" {
		listen = cfg.HTTP.Listen
	}
	if o.Once {
		listen = "" // no time to be scraped
	}
	obs, err := NewObserver(cfg, listen, o.Version, o.Now, o.Logger, o.Secrets)
	if err != nil {
		return err
	}
	defer obs.Close()
	var apps []*daemon.App
	for _, ac := range cfg.Applications() {
		app, err := NewApp(ac, stores.ForApp(ac), o.Deps, func(d *daemon.Deps) { d.Observer = ObserverFor(obs, ac) })
		if err != nil {
			return err
		}
		defer app.Close()
		apps = append(apps, app)
		o.Logger.Info("seqwatch started", "version", o.Version, "app", app.Name(), "where", app.Where(), "state", stores.Where(ac), "schedule", ac.ScheduleSpec(), "channels", len(ac.Channels()))
	}
	obs.StateLoaded()
	opts := daemon.Options{Now: o.Now, Logger: o.Logger, MaxConcurrent: cfg.Concurrency, Notify: o.Notify}
	if opts.Notify == nil {
		opts.Notify = func(string) {}
	}
	if o.Once {
		return daemon.New(apps, opts).Once(ctx)
	}
	opts.Watchdog = o.Watchdog
	var next *config.Config
	opts.Reload = func() (map[string]daemon.Config, error) {
		newCfg, out, err := reloaded(ctx, apps, o)
		if err != nil {
			return nil, err
		}
		next = newCfg
		return out, nil
	}
	// Before the next tick can log through the new channels.
	opts.Reloaded = func() { o.Secrets.Set(next.Secrets()) }
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	return daemon.New(apps, opts).Run(ctx, reload)
}

// reloaded loads the configuration again and makes the daemon's
// configuration of each application from it; an application it did not
// have at start is an error.
func reloaded(ctx context.Context, apps []*daemon.App, o Options) (*config.Config, map[string]daemon.Config, error) {
	cfg, err := o.Load(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]daemon.Config{}
	for _, ac := range cfg.Applications() {
		i := slices.IndexFunc(apps, func(a *daemon.App) bool { return a.Name() == ac.DisplayName() })
		if i < 0 {
			return nil, nil, fmt.Errorf("application %q is new: adding applications needs a restart", ac.DisplayName())
		}
		app := apps[i]
		dc, err := AppConfig(ac, o.Deps, o.Logger.With("app", app.Name()), app.State)
		if err != nil {
			return nil, nil, err
		}
		out[dc.Source.Name] = dc
	}
	return cfg, out, nil
}

// NewObserver builds what the configuration asks for (internal/observe):
// the listener when listen is set, the heartbeat when heartbeat.url is.
// It is named after the first application.
func NewObserver(cfg *config.Config, listen, version string, now func() time.Time, logger *slog.Logger, secrets *text.SecretSet) (*observe.Observer, error) {
	board := web.NewBoard(now)
	top := cfg.TopLevel()
	return observe.New(observe.Options{
		Version: version, Listen: listen, HTTP: cfg.HTTP, Heartbeat: cfg.Heartbeat,
		Mutes: &mutes.API{Config: cfg, Now: now, Board: board, Logger: logger},
		Board: board,
		// "[redacted]" rather than the logs' "<redacted>": this text ends
		// up in HTML, where it should read as text and not as a tag.
		Scrub: func(s string) string { return secrets.RedactAs(s, "[redacted]") }, Now: now, Logger: logger,
		App: cfg.Applications()[0].DisplayName(), Environment: cfg.Environment, Channels: top.ChannelNames(),
	})
}

// ObserverFor is the observer of one application of the configuration.
func ObserverFor(obs *observe.Observer, ac *config.App) *observe.Observer {
	return obs.ForApp(ac.DisplayName(), ac.Environment, ac.ChannelNames())
}

// NewLogger is the daemon's logger, writing text or JSON to w at level;
// every string it writes passes through the secret scrubber.
func NewLogger(w io.Writer, asJSON bool, level slog.Level, secrets *text.SecretSet) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		switch a.Value.Kind() {
		case slog.KindString:
			a.Value = slog.StringValue(secrets.Redact(a.Value.String()))
		case slog.KindAny:
			if err, ok := a.Value.Any().(error); ok {
				a.Value = slog.StringValue(secrets.Redact(err.Error()))
			} else {
				a.Value = slog.StringValue(secrets.Redact(fmt.Sprint(a.Value.Any())))
			}
		}
		return a
	}}
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
