package main

import (
	"log/slog"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/mutes"
	"github.com/seqwatch/seqwatch/internal/observe"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/internal/web"
)

// newObserver builds what the configuration asks for (internal/observe):
// the listener when listen (--listen, else http.listen) is set, the
// heartbeat when heartbeat.url is; nil when neither is. serveHTTP is false
// for run --once, which has no time to be scraped. app names the first
// application.
func newObserver(cfg *config.Config, listen string, serveHTTP bool, app string, e env, logger *slog.Logger, secrets *text.SecretSet) (*observe.Observer, error) {
	if listen == "" {
		listen = cfg.HTTP.Listen
	}
	if !serveHTTP {
		listen = ""
	}
	board := web.NewBoard(e.now)
	return observe.New(observe.Options{
		Version: version, Listen: listen, HTTP: cfg.HTTP, Heartbeat: cfg.Heartbeat,
		Mutes: &mutes.API{Config: cfg, Now: e.now, Board: board, Logger: logger},
		Board: board,
		// "[redacted]" rather than the logs' "<redacted>": this text ends
		// up in HTML, where it should read as text and not as a tag.
		Scrub: func(s string) string { return secrets.RedactAs(s, "[redacted]") }, Now: e.now, Logger: logger,
		App: app, Environment: cfg.Environment, Channels: cfg.TopLevel().ChannelNames(),
	})
}

// observerFor is the observer of one application of the configuration.
func observerFor(obs *observe.Observer, ac *config.App) *observe.Observer {
	return obs.ForApp(ac.DisplayName(), ac.Environment, ac.ChannelNames())
}
