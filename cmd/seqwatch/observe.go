package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
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

// observer makes the daemon visible: metrics, the status page and API,
// /healthz and /readyz (served by the HTTP listener when one is
// configured), and the heartbeat. The daemon calls it at fixed points of a
// tick, always from the tick's goroutine. A nil *observer does nothing, so
// the daemon needs no checks.
type observer struct {
	app     string
	cfg     *Config
	now     func() time.Time
	logger  *slog.Logger
	scrub   func(string) string
	metrics *metrics.Metrics
	board   *web.Board
	live    *web.Liveness
	events  web.EventLog
	server  *web.Server
	beat    *heartbeat.Pinger

	// agg is shared by the observers of every application.
	agg *aggregate

	// Of the tick in flight, and the last read.
	readAt  time.Time
	readErr error
	lastOK  time.Time
	last    web.AppStatus
}

// newObserver builds what the configuration asks for: the listener when
// listen (--listen, else http.listen) is set, the heartbeat when
// heartbeat.url is. It returns nil when neither is. A taken address is an
// error naming it.
// serveHTTP is false for run --once, which has no time to be scraped.
func newObserver(cfg *Config, listen string, serveHTTP bool, app string, e env, logger *slog.Logger, secrets *secretSet) (*observer, error) {
	if listen == "" {
		listen = cfg.HTTP.Listen
	}
	if !serveHTTP {
		listen = ""
	}
	if listen == "" && cfg.Heartbeat == nil {
		return nil, nil
	}
	o := &observer{
		app: app, cfg: cfg, now: e.now, logger: logger,
		// "[redacted]" rather than the logs' "<redacted>": this text ends
		// up in HTML, where it should read as text and not as a tag.
		scrub:   pageScrubber(secrets),
		metrics: metrics.New(version),
		board:   web.NewBoard(e.now),
		live:    web.NewLiveness(e.now),
		agg:     &aggregate{outbox: map[string]map[string][2]int{}, readErr: map[string]error{}},
	}
	o.metrics.App(app)
	for _, ch := range cfg.Channels {
		o.metrics.Channel(ch.Name)
	}
	o.board.Set(web.AppStatus{Name: app, Environment: cfg.Environment, Summary: "not read yet"})
	if cfg.Heartbeat != nil {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		beat, err := heartbeat.New(*cfg.Heartbeat, client, logger, o.metrics.Heartbeat)
		if err != nil {
			return nil, err
		}
		o.beat = beat
	}
	if listen != "" {
		hc := cfg.HTTP
		hc.Listen = listen
		srv, err := web.Listen(web.Options{
			Config: hc, Board: o.board, Liveness: o.live,
			Metrics: o.metrics.Handler(10 * time.Second),
			Mutes:   &muteAPI{cfg: cfg, cfgPath: cfg.path, now: e.now, board: o.board, app: app, logger: logger},
			Scrub:   o.scrub, Now: e.now, Logger: logger,
		})
		if err != nil {
			o.close()
			return nil, err
		}
		o.server = srv
		srv.Serve()
		logger.Info("HTTP listener started", "addr", srv.Addr(), "basic_auth", hc.Username != "")
	}
	return o, nil
}

// forApp is the observer of one application of several: it shares the
// metrics, the page, the listener and the heartbeat, and keeps its own
// view of the application. nil stays nil.
func (o *observer) forApp(ac *Config) *observer {
	if o == nil {
		return nil
	}
	c := &observer{app: ac.appName(), cfg: ac, now: o.now, logger: o.logger.With("app", ac.appName()), scrub: o.scrub,
		metrics: o.metrics, board: o.board, live: o.live, server: o.server, beat: o.beat, agg: o.agg}
	c.metrics.App(c.app)
	c.board.Set(web.AppStatus{Name: c.app, Environment: ac.Environment, Summary: "not read yet"})
	return c
}

// stateLoaded is called once the daemon's state is loaded.
func (o *observer) stateLoaded() {
	if o == nil {
		return
	}
	o.live.StateLoaded()
}

// tickStarted is called as a tick begins; maxTick is how long it may run
// before the loop counts as wedged.
func (o *observer) TickStarted(maxTick time.Duration) {
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
func (o *observer) ReadEnded(started time.Time, problems check.Problems, err, readCtxErr error) {
	if o == nil {
		return
	}
	at := o.now()
	o.readAt, o.readErr = at, err
	o.metrics.TickDone(o.app, at, at.Sub(started), err, readClass(err, readCtxErr))
	a := o.last
	a.Name, a.Environment = o.app, o.cfg.Environment
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
			fv.Errors = append(fv.Errors, web.ErrorView{Exception: e.Exception, Message: e.Message, Trace: e.Trace, CreatedAt: e.CreatedAt})
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
func (o *observer) Event(ev notify.Event, channels []string) {
	if o == nil {
		return
	}
	o.events.Add(web.EventView{ID: ev.ID, Kind: string(ev.Kind), Key: ev.Key, Summary: ev.Summary, OccurredAt: ev.OccurredAt}, channels)
}

// mutedEvent is called for each event a mute held back or kept from being
// sent: it shows on the page's event list, marked muted, with no channel.
func (o *observer) MutedEvent(ev notify.Event) {
	if o == nil {
		return
	}
	o.events.Add(web.EventView{ID: ev.ID, Kind: string(ev.Kind), Key: ev.Key, Summary: ev.Summary, OccurredAt: ev.OccurredAt, Muted: true}, nil)
}

// mutes is called at each tick with the mutes in force and the number of
// new events they held back or kept from being sent.
func (o *observer) Mutes(active []state.Mute, muted int) {
	if o == nil {
		return
	}
	o.last.Mutes = muteViews(active)
	o.metrics.Mutes(o.app, len(active))
	o.metrics.MutedEvents(o.app, muted)
}

// delivered is called when a delivery attempt through channel ended for
// the events ids, after st recorded it: result is delivered, waiting or
// dead.
func (o *observer) Delivered(st *state.State, channel string, ids []string, result string) {
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

// pageScrubber removes the configuration's secrets from text shown over
// HTTP. It writes "[redacted]" rather than the logs' "<redacted>": the text
// ends up in HTML, where it should read as text and not look like a tag.
func pageScrubber(secrets *secretSet) func(string) string {
	return func(s string) string {
		secrets.mu.RLock()
		defer secrets.mu.RUnlock()
		return text.RedactAs(s, "[redacted]", secrets.vals...)
	}
}

// tickEnded is called as a tick ends, whatever its outcome: it publishes
// the page, sets the outbox gauges and pings the heartbeat.
func (o *observer) TickEnded(st *state.State, channelHash map[string]string) {
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
	names := make([]string, 0, len(o.cfg.Channels))
	for _, ch := range o.cfg.Channels {
		names = append(names, ch.Name)
	}
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
		dis, ok := st.Disabled[ch]
		disabled := ok && dis.Config == channelHash[ch]
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

// close stops the listener (letting requests in flight finish for a
// moment) and the heartbeat.
func (o *observer) close() {
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
