// Package deploy is what `seqwatch deploy` does beside the gate's flow,
// on seqwatch's configuration: it picks the application deployed (App),
// mutes the daemon for it in the state the daemon reads (Muter, the
// gate's Muter, as `seqwatch mute` does), and tells the configured
// channels how the deploy ended (Reporter, the gate's Reporter), queueing
// in the state's outbox what a channel does not take. internal/gate runs
// the deploy itself and knows none of these: they are given to it as its
// small interfaces.
//
// It may import internal/gate, internal/config, internal/mutes,
// internal/statestore, state and the notify core; not internal/daemon,
// internal/render or cmd (internal/layering holds it to that). Its
// errors state facts; cmd/seqwatch adds the advice.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/gate"
	"github.com/seqwatch/seqwatch/internal/mutes"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// App is the application called name of cfg (the only one when name is
// empty), once the keys its mute depends on (mute_max, maintenance:) are
// found valid.
func App(cfg *config.Config, name string) (*config.App, error) {
	ac, err := cfg.Application(name)
	if err != nil {
		return nil, err
	}
	if problems := cfg.ValidateMutes(); len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s (run seqwatch validate --config %s)", cfg.Path(), strings.Join(problems, "; "), cfg.Path())
	}
	return ac, nil
}

// Muter is the deploy's mute of App, in the state the daemon reads (the
// state file, or state.postgres), made as seqwatch mute makes one, by
// "deploy".
type Muter struct {
	App *config.App
	// KeepUnreachable still sends source.unreachable while muted.
	KeepUnreachable bool
	Now             func() time.Time
}

var _ gate.Muter = (*Muter)(nil)

func (m *Muter) edit(ctx context.Context, fn func(*state.State) error) error {
	editor, err := statestore.OpenEditor(ctx, m.App)
	if err != nil {
		return err
	}
	defer editor.Close()
	return editor.EditMutes(ctx, func(st *state.State) error {
		st.ExpireMutes(m.Now())
		return fn(st)
	})
}

// Mute mutes App until until, within mute_max, and returns the mute's id.
func (m *Muter) Mute(ctx context.Context, reason string, until time.Time) (string, error) {
	now := m.Now()
	mu, err := mutes.New(m.App, m.App.File().Path(), mutes.Request{For: until.Sub(now), Reason: reason, KeepUnreachable: m.KeepUnreachable, By: "deploy"}, now)
	if err != nil {
		return "", err
	}
	err = m.edit(ctx, func(st *state.State) error {
		st.Mutes = append(st.Mutes, mu)
		return nil
	})
	return mu.ID, err
}

// Extend moves the end of the mute id to until, muting again under the
// same id if it ended meanwhile (a command that ran longer than the
// timeout), for the wait.
func (m *Muter) Extend(ctx context.Context, id, reason string, until time.Time) error {
	return m.edit(ctx, func(st *state.State) error {
		for i := range st.Mutes {
			if st.Mutes[i].ID == id {
				st.Mutes[i].End = until
				return nil
			}
		}
		st.Mutes = append(st.Mutes, state.Mute{ID: id, Reason: reason, Start: m.Now(), End: until, KeepUnreachable: m.KeepUnreachable, By: "deploy"})
		return nil
	})
}

// Unmute removes the mute id; one that has ended already is no error.
func (m *Muter) Unmute(ctx context.Context, id string) error {
	return m.edit(ctx, func(st *state.State) error {
		if _, err := st.Unmute([]string{id}, false); err != nil && !errors.Is(err, state.ErrNoMute) {
			return err
		}
		return nil
	})
}

// Reporter sends the deploy.finished event of a deploy of App through the
// channels its routes give that event to. What a channel does not take
// now waits in the state's outbox, for the daemon to deliver with its
// retries: a report is never lost, and never sent twice under two ids.
type Reporter struct {
	App *config.App
	// Stdout is the console channel's output.
	Stdout io.Writer
	Now    func() time.Time
	// Sleep waits between a channel's attempts; nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

var _ gate.Reporter = (*Reporter)(nil)

// Report sends d's event. Its error names each channel that did not take
// it and why, and says where the event waits.
func (r *Reporter) Report(ctx context.Context, d gate.DeployResult) error {
	ev := gate.Event(d, state.NewEventID(), r.App.DisplayName(), r.App.Environment)
	names := r.App.EffectiveRoutes().Channels(notify.DeployFinished)
	if len(names) == 0 {
		return nil
	}
	channels, rates, err := r.App.BuildChannels(notify.Deps{Client: notify.NewHTTPClient(), Now: r.Now, Logger: slog.New(slog.DiscardHandler), Stdout: r.Stdout})
	if err != nil {
		return err
	}
	disp := notify.NewDispatcher(channels, notify.DispatcherOptions{MaxAttempts: 3, Sleep: r.Sleep, RatePerSecond: rates})
	var failed, why []string
	disabled := r.disabled(ctx)
	for _, n := range names {
		if d, ok := disabled[n]; ok {
			// The daemon would only dead-letter it: its endpoint asked to
			// stop sending for good, and asking again changes nothing.
			why = append(why, fmt.Sprintf("%s: not sent: the channel is disabled since %s, when its endpoint answered 410 Gone (seqwatch outbox enable %s once it is back)", n, text.Stamp(d.Since), n))
			continue
		}
		if out := disp.Send(ctx, n, []notify.Event{ev}); !out.Delivered {
			failed = append(failed, n)
			msg := ""
			if out.Err != nil {
				msg = out.Err.Error()
			}
			why = append(why, n+": "+text.Redact(msg, r.App.File().Secrets()...))
		}
	}
	if len(failed) == 0 {
		if len(why) > 0 {
			return errors.New(strings.Join(why, "; "))
		}
		return nil
	}
	editor, err := statestore.OpenEditor(ctx, r.App)
	if err != nil {
		return err
	}
	defer editor.Close()
	if err := editor.Edit(ctx, func(st *state.State) error {
		st.Enqueue(ev, failed, r.Now())
		return nil
	}); err != nil {
		return fmt.Errorf("%s; and it could not be queued for the daemon: %w", strings.Join(why, "; "), err)
	}
	return fmt.Errorf("%s; it waits in the outbox for the daemon (seqwatch outbox list --config %s)", strings.Join(why, "; "), r.App.File().Path())
}

// disabled are the channels the state marks disabled (a 410 Gone) under
// their present configuration; none when there is no state yet.
func (r *Reporter) disabled(ctx context.Context) map[string]state.DisabledChannel {
	editor, err := statestore.OpenEditor(ctx, r.App)
	if err != nil {
		return nil
	}
	defer editor.Close()
	hashes := r.App.ChannelHashes()
	out := map[string]state.DisabledChannel{}
	_ = editor.Edit(ctx, func(st *state.State) error {
		for n, d := range st.Disabled {
			if st.DisabledUnder(n, hashes[n]) {
				out[n] = d
			}
		}
		return nil
	})
	return out
}
