package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/email"
	"github.com/seqwatch/seqwatch/notify/slack"
	"github.com/seqwatch/seqwatch/notify/webhook"
	"github.com/seqwatch/seqwatch/state"
)

// store is what the daemon needs of the state store.
type store interface {
	Load() (*state.State, error)
	Save(*state.State) error
}

// daemon is one configured watcher: it reads snapshots, turns them into
// events against its state, and delivers them through the outbox.
type daemon struct {
	src        check.Source
	rules      state.Rules
	unreachAft int
	routes     notify.Routes
	dispatch   *notify.Dispatcher
	store      store
	st         *state.State
	logger     *slog.Logger
	now        func() time.Time
	// read takes a snapshot; the default opens src (keeping the
	// connection between ticks).
	read func(ctx context.Context) (*check.Snapshot, error)
	db   *check.DB
}

// buildChannels builds the configured notifiers.
// threads, when not nil, keeps a Slack bot's message ids so recoveries
// update the original alert.
func buildChannels(cfg *Config, stdout io.Writer, client *http.Client, now func() time.Time, logger *slog.Logger, threads func(channel string) slack.ThreadStore) (map[string]notify.Notifier, map[string]float64, error) {
	out := map[string]notify.Notifier{}
	rates := map[string]float64{}
	for _, ch := range cfg.Channels {
		var n notify.Notifier
		var err error
		switch {
		case ch.Slack != nil:
			var opts []slack.Option
			if threads != nil {
				opts = append(opts, slack.WithThreadStore(threads(ch.Name)))
			}
			n, err = slack.New(*ch.Slack, client, logger, opts...)
			rates[ch.Name] = 1 // Slack allows about one message a second per webhook
		case ch.Email != nil:
			n, err = email.New(*ch.Email, logger)
		case ch.Webhook != nil:
			n, err = webhook.New(*ch.Webhook, client, now, logger)
		case ch.Console != nil:
			n = notify.NewConsole(stdout)
		default:
			err = errors.New("no channel type given (slack:, email:, webhook: or console:)")
		}
		if err != nil {
			return nil, nil, fmt.Errorf("channel %q: %s", ch.Name, redactAll(err.Error(), cfg.secrets))
		}
		if ch.RatePerSecond > 0 {
			rates[ch.Name] = ch.RatePerSecond
		}
		out[ch.Name] = n
	}
	return out, rates, nil
}

func rulesFrom(cfg *Config) state.Rules {
	return state.Rules{
		MaxPending:  cfg.Thresholds.MaxPending,
		StuckAfter:  time.Duration(cfg.Thresholds.StuckAfter),
		RepeatAfter: time.Duration(cfg.RepeatAfter),
		FirstRun:    cfg.OnFirstRun,
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

// snapshot reads the application, reconnecting after a failure.
func (d *daemon) snapshot(ctx context.Context) (*check.Snapshot, error) {
	if d.read != nil {
		return d.read(ctx)
	}
	if d.db == nil {
		db, err := check.Open(ctx, d.src.Conn)
		if err != nil {
			return nil, err
		}
		d.db = db
	}
	snap, err := check.Read(ctx, d.db, d.src, d.now(), check.ReadOptions{})
	if err != nil {
		var se *check.SourceError
		if errors.As(err, &se) {
			d.db.Close()
			d.db = nil
		}
	}
	return snap, err
}

func (d *daemon) close() {
	if d.db != nil {
		d.db.Close()
		d.db = nil
	}
}

// tick is one round: read, evaluate, record the new events as due (saved
// before anything is sent), then deliver what is due, saving after each
// channel accepted a message. A crash at any point therefore loses nothing
// and repeats at most the one message in flight.
func (d *daemon) tick(ctx context.Context) error {
	now := d.now()
	snap, err := d.snapshot(ctx)
	var events []notify.Event
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.logger.Warn("cannot read the application", "error", err.Error(), "consecutive_failures", d.st.Source.Failures+1)
		events = state.SourceFailed(d.st, err, now, d.unreachAft, d.src.Name)
	} else {
		first := !d.st.Initialized
		evaluated, notes := state.EvaluateNotes(d.st, snap, now, d.rules)
		for _, n := range notes {
			d.logger.Info("closed without an alert", "why", n)
		}
		events = append(state.SourceOK(d.st, now, d.src.Name), evaluated...)
		if first {
			mode := d.rules.FirstRun
			if mode == "" {
				mode = state.FirstRunDigest
			}
			d.logger.Info("first check done: the application's history is recorded", "on_first_run", mode, "failing", snap.Counts.Failing, "pending", snap.Counts.PendingOperations)
		}
		d.logger.Debug("snapshot", "failing", snap.Counts.Failing, "pending", snap.Counts.PendingOperations, "in_progress", snap.Counts.InProgress)
	}
	for _, ev := range events {
		channels := d.routes.Channels(ev.Kind)
		d.logger.Info("event", "kind", string(ev.Kind), "key", ev.Key, "id", ev.ID, "channels", channels)
		d.st.Enqueue(ev, channels, now)
	}
	if err := d.store.Save(d.st); err != nil {
		return err
	}
	undelivered := d.deliver(ctx)
	if err != nil {
		return err
	}
	if undelivered > 0 {
		return fmt.Errorf("%d alert(s) not delivered yet; they stay in the outbox and are retried on the next tick", undelivered)
	}
	return nil
}

// deliver sends every due delivery, one message per channel, and returns
// how many are still waiting.
func (d *daemon) deliver(ctx context.Context) int {
	now := d.now()
	due := d.st.Due(now)
	byChannel := map[string][]notify.Event{}
	var order []string
	for _, dl := range due {
		if _, ok := byChannel[dl.Channel]; !ok {
			order = append(order, dl.Channel)
		}
		byChannel[dl.Channel] = append(byChannel[dl.Channel], dl.Event)
	}
	sort.Strings(order)
	for _, ch := range order {
		if ctx.Err() != nil {
			break
		}
		events := byChannel[ch]
		// A channel held by its peer's Retry-After is the dispatcher's to
		// honour: it waits for a short hold and returns RetryAt otherwise.
		out := d.dispatch.Send(ctx, ch, events)
		at := d.now()
		switch {
		case out.Delivered:
			for _, ev := range events {
				d.st.Delivered(ev.ID, ch, at)
			}
			d.logger.Info("delivered", "channel", ch, "events", len(events), "attempts", out.Attempts)
		case out.Permanent:
			for _, ev := range events {
				d.st.Failed(ev.ID, ch, out.Err.Error(), time.Time{}, true)
			}
			d.logger.Error("channel refused the alert for good; it is kept in the state's dead letters", "channel", ch, "events", len(events), "error", out.Err.Error())
		default:
			next := out.RetryAt
			if next.IsZero() {
				next = at // retried on the next tick
			}
			for i, ev := range events {
				if i < out.Sent {
					d.st.Delivered(ev.ID, ch, at)
					continue
				}
				d.st.Failed(ev.ID, ch, errText(out.Err), next, false)
			}
			d.logger.Warn("alert not delivered; kept in the outbox", "channel", ch, "events", len(events)-out.Sent, "retry_at", next, "error", errText(out.Err))
		}
		// Saved after each channel: a crash now repeats nothing already
		// accepted.
		if err := d.store.Save(d.st); err != nil {
			d.logger.Error("cannot save state after delivery", "error", err.Error())
		}
	}
	return len(d.st.Outbox)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
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
