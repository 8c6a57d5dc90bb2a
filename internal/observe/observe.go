// Package observe makes seqwatch's daemon visible: Prometheus metrics, the
// status page and its JSON API, /healthz and /readyz (served by the HTTP
// listener when one is configured), and the heartbeat. The daemon tells
// it about each tick through the daemon.Observer methods.
//
// It must not import cmd/seqwatch or a notify channel package
// (internal/layering holds it to that); it imports internal/reader only
// for the error types that name a failed read.
package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/heartbeat"
	"github.com/seqwatch/seqwatch/internal/metrics"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/state"
)

// maxPendingNames bounds the pending operation names the page lists.
const maxPendingNames = 100

// Observer makes one application of the daemon visible; the observers of
// several applications (ForApp) share the metrics, the page, the listener
// and the heartbeat. The daemon calls it at fixed points of a tick, always
// from the tick's goroutine. A nil *Observer does nothing, so the daemon
// needs no checks.
type Observer struct {
	app         string
	environment string
	channels    []string
	now         func() time.Time
	logger      *slog.Logger
	scrub       func(string) string
	metrics     *metrics.Metrics
	board       *web.Board
	live        *web.Liveness
	events      web.EventLog
	server      *web.Server
	beat        *heartbeat.Pinger

	// agg is shared by the observers of every application.
	agg *aggregate

	reading
}

// reading is what an Observer knows of the tick in flight and of the
// last read.
type reading struct {
	readAt  time.Time
	readErr error
	lastOK  time.Time
	last    web.AppStatus
}

// Options are what New needs.
type Options struct {
	// Version is seqwatch's version, for seqwatch_build_info.
	Version string
	// Listen is the listener's address ("": no listener); HTTP the rest
	// of its configuration.
	Listen string
	HTTP   web.Config
	// Heartbeat pings an outside monitor after each tick (nil: off).
	Heartbeat *heartbeat.Config
	// Mutes makes and removes mutes for POST/DELETE /api/v1/mutes.
	Mutes web.Muter
	// Board is the page's content (nil: a new one); the mutes API shows
	// its changes there at once.
	Board *web.Board
	// Scrub removes secrets from text shown over HTTP.
	Scrub  func(string) string
	Now    func() time.Time
	Logger *slog.Logger
	// App, Environment and Channels describe the first application.
	App, Environment string
	Channels         []string
}

// New builds what the options ask for: the listener when Listen is set,
// the heartbeat when Heartbeat is. It returns nil when neither is. A taken
// address is an error naming it (web.ListenError).
func New(opts Options) (*Observer, error) {
	if opts.Listen == "" && opts.Heartbeat == nil {
		return nil, nil
	}
	o := &Observer{
		app: opts.App, environment: opts.Environment, channels: opts.Channels, now: opts.Now, logger: opts.Logger,
		scrub:   opts.Scrub,
		metrics: metrics.New(opts.Version),
		board:   opts.Board,
		live:    web.NewLiveness(opts.Now),
		agg:     &aggregate{outbox: map[string]map[string][2]int{}, readErr: map[string]error{}},
	}
	if o.board == nil {
		o.board = web.NewBoard(opts.Now)
	}
	o.metrics.App(o.app)
	for _, ch := range o.channels {
		o.metrics.Channel(ch)
	}
	o.board.Set(web.AppStatus{Name: o.app, Environment: o.environment, Summary: "not read yet"})
	if opts.Heartbeat != nil {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		beat, err := heartbeat.New(*opts.Heartbeat, client, opts.Logger, o.metrics.Heartbeat)
		if err != nil {
			return nil, err
		}
		o.beat = beat
	}
	if opts.Listen != "" {
		hc := opts.HTTP
		hc.Listen = opts.Listen
		srv, err := web.Listen(web.Options{
			Config: hc, Board: o.board, Liveness: o.live,
			Metrics: o.metrics.Handler(10 * time.Second),
			Mutes:   opts.Mutes,
			Scrub:   o.scrub, Now: opts.Now, Logger: opts.Logger,
		})
		if err != nil {
			o.Close()
			return nil, err
		}
		o.server = srv
		srv.Serve()
		opts.Logger.Info("HTTP listener started", "addr", srv.Addr(), "basic_auth", hc.Username != "")
	}
	return o, nil
}

// Addr is the listener's address ("" without one).
func (o *Observer) Addr() string {
	if o == nil || o.server == nil {
		return ""
	}
	return o.server.Addr()
}

// ForApp is the observer of one application of several: it shares the
// metrics, the page, the listener and the heartbeat, and keeps its own
// view of the application. nil stays nil.
func (o *Observer) ForApp(app, environment string, channels []string) *Observer {
	if o == nil {
		return nil
	}
	c := &Observer{app: app, environment: environment, channels: channels, now: o.now, logger: o.logger.With("app", app), scrub: o.scrub,
		metrics: o.metrics, board: o.board, live: o.live, server: o.server, beat: o.beat, agg: o.agg}
	c.metrics.App(c.app)
	c.board.Set(web.AppStatus{Name: c.app, Environment: environment, Summary: "not read yet"})
	return c
}

// StateLoaded is called once the daemon's state is loaded.
func (o *Observer) StateLoaded() {
	if o == nil {
		return
	}
	o.live.StateLoaded()
}

// tickStarted is called as a tick begins; maxTick is how long it may run
// before the loop counts as wedged.
func (o *Observer) TickStarted(maxTick time.Duration) {
	if o == nil {
		return
	}
	o.live.AppTickStarted(o.app, maxTick)
	o.readAt, o.readErr = time.Time{}, nil
	if o.beat != nil {
		o.beat.Start()
	}
}

// ReadEnded is called when the tick's read ended: started is when it
// began, problems what the read was judged to hold (by the thresholds in
// force: a reload may change them), readCtxErr the read context's error
// (to tell a deadline).
func (o *Observer) ReadEnded(started time.Time, problems check.Problems, err, readCtxErr error) {
	if o == nil {
		return
	}
	at := o.now()
	o.readAt, o.readErr = at, err
	o.metrics.TickDone(o.app, at, at.Sub(started), err, readClass(err, readCtxErr))
	a := o.last
	a.Name, a.Environment = o.app, o.environment
	a.LastReadAt = at
	if err != nil {
		a.Verdict = check.Unknown.String()
		a.ReadError = err.Error()
		a.Summary = "the last read failed; what is shown below is from the last read that succeeded"
		a.LastSuccessfulReadAt = o.lastOK
		o.last = a
		return
	}
	o.lastOK = at
	snap, v := problems.Snapshot, problems.Verdict()
	a.Verdict, a.Summary, a.ReadError, a.LastSuccessfulReadAt = v.Status.String(), v.Summary, "", at
	a.Notices = append(a.Notices[:0:0], snap.Warnings...)
	for _, p := range problems.All() {
		// A line each for the deferred operations no one runs, as check
		// words them (the lists below do not show them).
		if line := p.LateLine(snap.TakenAt); line != "" {
			a.Notices = append(a.Notices, line)
		}
	}
	a.Failing = a.Failing[:0:0]
	oldest := time.Time{}
	for _, f := range v.Failing {
		fv := web.Failure{ID: f.ID, Name: f.Name, Type: f.Type}
		if f.FailedAt != nil {
			fv.FailedAt = *f.FailedAt
		} else {
			fv.FailedAt = f.ExecutedAt
		}
		if oldest.IsZero() || fv.FailedAt.Before(oldest) {
			oldest = fv.FailedAt
		}
		for _, e := range f.Errors {
			fv.Errors = append(fv.Errors, web.ErrorView{Exception: e.Exception, Message: e.Message, Trace: pageTrace(e.Trace), CreatedAt: e.CreatedTime()})
		}
		a.Failing = append(a.Failing, fv)
	}
	stuck := map[string]bool{}
	for _, s := range v.Stuck {
		stuck[s.ID] = true
	}
	a.InProgress = a.InProgress[:0:0]
	for _, r := range snap.InProgress {
		a.InProgress = append(a.InProgress, web.Running{ID: r.ID, Name: r.Name, Type: r.Type, ExecutedAt: r.ExecutedAt,
			RunningForSeconds: int64(r.RunningFor.Std() / time.Second), Stuck: stuck[r.ID]})
	}
	a.Scheduled = a.Scheduled[:0:0]
	for _, r := range snap.Scheduled {
		a.Scheduled = append(a.Scheduled, web.Running{ID: r.ID, Name: r.Name, Type: r.Type, ExecutedAt: r.ExecutedAt,
			RunningForSeconds: int64(r.RunningFor.Std() / time.Second), Stuck: stuck[r.ID]})
	}
	a.Pending = web.Pending{Count: snap.Counts.PendingOperations, Threshold: problems.Thresholds.MaxPending}
	for i, p := range snap.PendingOperations {
		if i == maxPendingNames {
			break
		}
		a.Pending.Names = append(a.Pending.Names, p.Name)
	}
	a.DeferredExhausted = nil
	if snap.Deferred != nil {
		for _, x := range snap.Deferred.Exhausted {
			a.DeferredExhausted = append(a.DeferredExhausted, web.Deferred{ID: x.ID, Operation: x.Operation, Attempts: x.Attempts, MaxAttempts: x.MaxAttempts, LastError: x.LastError})
		}
	}
	o.last = a

	over := 0
	if problems.Has(check.PendingKey) {
		over = 1
	}
	o.metrics.Problems(o.app, metrics.KindFailing, len(v.Failing))
	o.metrics.Problems(o.app, metrics.KindStuck, len(v.Stuck))
	o.metrics.Problems(o.app, metrics.KindPendingOver, over)
	o.metrics.Problems(o.app, metrics.KindDeferredExhausted, len(problems.Of(notify.DeferredFailed)))
	o.metrics.Problems(o.app, metrics.KindRolledBack, len(problems.Of(notify.OperationRolledBack)))
	o.metrics.Problems(o.app, metrics.KindDeferredStuck, len(problems.Of(notify.DeferredStuck)))
	o.metrics.Problems(o.app, metrics.KindDeferredOverdue, len(problems.Of(notify.DeferredOverdue)))
	o.metrics.Problems(o.app, metrics.KindMissingDir, len(snap.MissingDirs))
	o.metrics.Pending(o.app, snap.Counts.PendingOperations)
	o.metrics.OldestFailure(o.app, oldest)
}

// readClass sorts a failed read for seqwatch_read_errors_total.
func readClass(err, readCtxErr error) string {
	var schema *reader.SchemaError
	var source *reader.SourceError
	switch {
	case err == nil:
		return ""
	case errors.Is(readCtxErr, context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return metrics.ClassTimeout
	case errors.As(err, &schema):
		return metrics.ClassSchema
	case errors.As(err, &source):
		return metrics.ClassConnect
	}
	return metrics.ClassOther
}

// event is called for each new event, with the channels it is routed to.
func (o *Observer) Event(ev notify.Event, channels []string) {
	if o == nil {
		return
	}
	o.events.Add(web.EventView{ID: ev.ID, Kind: string(ev.Kind), Key: ev.Key, Summary: ev.Summary, OccurredAt: ev.OccurredAt}, channels)
}

// mutedEvent is called for each event a mute held back or kept from being
// sent: it shows on the page's event list, marked muted, with no channel.
func (o *Observer) MutedEvent(ev notify.Event) {
	if o == nil {
		return
	}
	o.events.Add(web.EventView{ID: ev.ID, Kind: string(ev.Kind), Key: ev.Key, Summary: ev.Summary, OccurredAt: ev.OccurredAt, Muted: true}, nil)
}

// mutes is called at each tick with the mutes in force and the number of
// new events they held back or kept from being sent.
func (o *Observer) Mutes(active []state.Mute, muted int) {
	if o == nil {
		return
	}
	o.last.Mutes = MuteViews(active)
	o.metrics.Mutes(o.app, len(active))
	o.metrics.MutedEvents(o.app, muted)
}

// delivered is called when a delivery attempt through channel ended for
// the events ids, after st recorded it: result is delivered, waiting or
// dead.
func (o *Observer) Delivered(st *state.State, channel string, ids []string, result string) {
	if o == nil || len(ids) == 0 {
		return
	}
	view, metric, list := web.ResultRetrying, metrics.ResultRetried, st.Outbox
	switch result {
	case "delivered":
		view, metric, list = web.ResultDelivered, metrics.ResultDelivered, nil
	case "dead":
		view, metric, list = web.ResultDead, metrics.ResultDead, st.Dead
	}
	o.metrics.Delivery(channel, metric, len(ids))
	for _, id := range ids {
		attempts, lastError := 0, ""
		if i := slices.IndexFunc(list, func(d state.Delivery) bool { return d.Event.ID == id && d.Channel == channel }); i >= 0 {
			attempts, lastError = list[i].Attempts, list[i].LastError
		}
		o.events.Update(id, channel, view, attempts, lastError)
	}
}

// tickEnded is called as a tick ends, whatever its outcome: it publishes
// the page, sets the outbox gauges and pings the heartbeat.
func (o *Observer) TickEnded(st *state.State, channelHash map[string]string) {
	if o == nil {
		return
	}
	if st == nil {
		st = state.New()
	}
	a := o.last
	a.Events = o.events.Recent()
	a.Channels = nil
	outbox, dead := map[string]int{}, map[string]int{}
	for _, dl := range st.Outbox {
		outbox[dl.Channel]++
	}
	for _, dl := range st.Dead {
		dead[dl.Channel]++
	}
	names := slices.Clone(o.channels)
	// Channels removed from the configuration can still hold alerts.
	for ch := range outbox {
		if !slices.Contains(names, ch) {
			names = append(names, ch)
		}
	}
	for ch := range dead {
		if !slices.Contains(names, ch) {
			names = append(names, ch)
		}
	}
	sort.Strings(names)
	for _, ch := range names {
		disabled := st.DisabledUnder(ch, channelHash[ch])
		a.Channels = append(a.Channels, web.ChannelState{Name: ch, Outbox: outbox[ch], Dead: dead[ch], Disabled: disabled})
		waiting, died := o.agg.setOutbox(o.app, ch, outbox[ch], dead[ch])
		o.metrics.Outbox(ch, waiting, died)
		o.metrics.ChannelDisabled(ch, disabled)
	}
	if !o.readAt.IsZero() {
		o.board.Set(a)
	}
	o.live.AppTickEnded(o.app)
	if o.beat != nil && !o.readAt.IsZero() {
		if err := o.agg.setRead(o.app, o.readErr); err != nil {
			o.beat.Fail(o.scrub(err.Error()))
		} else {
			o.beat.Success()
		}
	}
}

// aggregate is what the observers of several applications add up: the
// channels' outbox gauges (the applications share the channels) and
// whether any application's last read failed (the heartbeat is one).
type aggregate struct {
	mu      sync.Mutex
	outbox  map[string]map[string][2]int // channel → app → waiting, dead
	readErr map[string]error             // app → its last read's error
}

// setOutbox records one application's outbox and dead letters for channel
// and returns the channel's totals over every application.
func (g *aggregate) setOutbox(app, channel string, waiting, dead int) (int, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.outbox[channel] == nil {
		g.outbox[channel] = map[string][2]int{}
	}
	g.outbox[channel][app] = [2]int{waiting, dead}
	w, d := 0, 0
	for _, n := range g.outbox[channel] {
		w, d = w+n[0], d+n[1]
	}
	return w, d
}

// setRead records one application's last read and returns the error of a
// failed last read of any application (prefixed with its name when there
// are several), or nil.
func (g *aggregate) setRead(app string, err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readErr[app] = err
	if len(g.readErr) == 1 {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(g.readErr)) {
		if e := g.readErr[name]; e != nil {
			return fmt.Errorf("%s: %w", name, e)
		}
	}
	return nil
}

// Close stops the listener (letting requests in flight finish for a
// moment) and the heartbeat.
func (o *Observer) Close() {
	if o == nil {
		return
	}
	if o.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := o.server.Shutdown(ctx); err != nil {
			o.logger.Warn("the HTTP listener did not stop cleanly", "error", err.Error())
		}
	}
	if o.beat != nil {
		o.beat.Close()
	}
}

// MuteViews are mutes as the page, the API and seqwatch mute --list show
// them.
func MuteViews(ms []state.Mute) []web.Mute {
	out := make([]web.Mute, 0, len(ms))
	for _, m := range ms {
		out = append(out, web.Mute{ID: m.ID, Reason: m.Reason, Start: m.Start, Until: m.End, KeepUnreachable: m.KeepUnreachable, By: m.By})
	}
	return out
}

// pageTraceBytes is what the page keeps of each trace: the first whole
// frames, as much as the daemon's read mark keeps between ticks
// (internal/reader), so that the page shows the same text after every
// read and a fleet's traces are not held whole until the next tick.
const pageTraceBytes = 1 << 10

// pageTrace is trace cut for the page, as a copy when cut (a substring
// would keep the whole trace alive).
func pageTrace(trace string) string {
	cut := text.CutLines(trace, pageTraceBytes)
	if len(cut) == len(trace) {
		return trace
	}
	return strings.Clone(cut)
}
