// Package metrics holds seqwatch's Prometheus metrics: one registry per
// daemon (never the global default registry, so tests and several daemons in
// one process do not collide), the Go and process collectors, and the small
// set of methods the daemon calls after each tick, delivery and heartbeat.
//
// It imports only client_golang and the standard library: nothing of
// seqwatch's, so the reader's database drivers and the channels stay out of
// it, and callers pass plain strings and numbers.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Read error classes, the values of the class label of
// seqwatch_read_errors_total.
const (
	ClassConnect = "connect"
	ClassTimeout = "timeout"
	ClassSchema  = "schema"
	ClassOther   = "other"
)

// Problem kinds, the values of the kind label of seqwatch_open_problems.
const (
	KindFailing           = "failing"
	KindStuck             = "stuck"
	KindPendingOver       = "pending_over_threshold"
	KindDeferredExhausted = "deferred_exhausted"
	KindRolledBack        = "rolled_back"
	KindDeferredStuck     = "deferred_stuck"
	KindDeferredOverdue   = "deferred_overdue"
	KindMissingDir        = "missing_directory"
)

// Delivery results, the values of the result label of
// seqwatch_deliveries_total.
const (
	ResultDelivered = "delivered"
	ResultRetried   = "retried"
	ResultDead      = "dead"
)

// Heartbeat results, the values of the result label of
// seqwatch_heartbeats_total.
const (
	HeartbeatOK      = "ok"
	HeartbeatError   = "error"
	HeartbeatDropped = "dropped"
)

var (
	classes       = []string{ClassConnect, ClassTimeout, ClassSchema, ClassOther}
	kinds         = []string{KindFailing, KindStuck, KindPendingOver, KindDeferredExhausted}
	results       = []string{ResultDelivered, ResultRetried, ResultDead}
	heartbeatRes  = []string{HeartbeatOK, HeartbeatError, HeartbeatDropped}
	readDurations = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
)

// Metrics is the daemon's set of metrics. Its methods are safe for
// concurrent use. A nil *Metrics accepts every call and records nothing, so
// code paths without a listener need no checks.
type Metrics struct {
	reg *prometheus.Registry

	lastSuccess  *prometheus.GaugeVec
	lastRead     *prometheus.GaugeVec
	readDuration *prometheus.HistogramVec
	reads        *prometheus.CounterVec
	readErrors   *prometheus.CounterVec
	problems     *prometheus.GaugeVec
	pending      *prometheus.GaugeVec
	oldestFail   *prometheus.GaugeVec
	channelVecs
	heartbeats  *prometheus.CounterVec
	mutesActive *prometheus.GaugeVec
	mutedEvents *prometheus.CounterVec
}

// channelVecs are the metrics labelled by channel.
type channelVecs struct {
	deliveries *prometheus.CounterVec
	outbox     *prometheus.GaugeVec
	dead       *prometheus.GaugeVec
	disabled   *prometheus.GaugeVec
}

// New returns the metrics on a fresh registry, with the Go and process
// collectors and seqwatch_build_info{version}.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqwatch_last_successful_read_timestamp_seconds",
			Help: "Unix time of the last read of the application that succeeded.",
		}, []string{"app"}),
		lastRead: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqwatch_last_read_timestamp_seconds",
			Help: "Unix time of the last read of the application, successful or not.",
		}, []string{"app"}),
		readDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqwatch_read_duration_seconds",
			Help:    "How long reading the application's Sequencer tables and files took.",
			Buckets: readDurations,
		}, []string{"app"}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqwatch_reads_total",
			Help: "Reads of the application, successful or not.",
		}, []string{"app"}),
		readErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqwatch_read_errors_total",
			Help: "Reads of the application that failed, by class (connect, timeout, schema, other).",
		}, []string{"app", "class"}),
		problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqwatch_open_problems",
			Help: "Problems seen by the last successful read, by kind (failing, stuck, pending_over_threshold, deferred_exhausted).",
		}, []string{"app", "kind"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqwatch_pending_operations",
			Help: "Operations whose files have no completed run, at the last successful read.",
		}, []string{"app"}),
		oldestFail: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqwatch_oldest_failure_timestamp_seconds",
			Help: "Unix time of the oldest failure not completed since; absent when nothing is failing.",
		}, []string{"app"}),
		channelVecs: channelVecs{
			deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "seqwatch_deliveries_total",
				Help: "Alert deliveries by channel and result (delivered, retried, dead).",
			}, []string{"channel", "result"}),
			outbox: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: "seqwatch_outbox_deliveries",
				Help: "Deliveries waiting in the state's outbox, by channel.",
			}, []string{"channel"}),
			dead: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: "seqwatch_dead_letters",
				Help: "Deliveries given up on for good and kept in the state's dead letters, by channel.",
			}, []string{"channel"}),
			disabled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: "seqwatch_channel_disabled",
				Help: "1 when the channel's endpoint told seqwatch to stop sending (until the configuration is reloaded), 0 otherwise.",
			}, []string{"channel"}),
		},
		heartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqwatch_heartbeats_total",
			Help: "Heartbeat pings by result (ok, error, dropped when the previous ping was still in flight).",
		}, []string{"result"}),
		mutesActive: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqwatch_mutes_active",
			Help: "Mutes and maintenance windows in force at the last tick: events are recorded but not sent.",
		}, []string{"app"}),
		mutedEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqwatch_muted_events_total",
			Help: "Events a mute held back or kept from being sent at all.",
		}, []string{"app"}),
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "seqwatch_build_info",
		Help: "Always 1; the version label says which seqwatch is running.",
	}, []string{"version"})
	info.WithLabelValues(version).Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		info, m.lastSuccess, m.lastRead, m.readDuration, m.reads, m.readErrors,
		m.problems, m.pending, m.oldestFail, m.deliveries, m.outbox, m.dead,
		m.disabled, m.heartbeats, m.mutesActive, m.mutedEvents,
	)
	for _, r := range heartbeatRes {
		m.heartbeats.WithLabelValues(r)
	}
	return m
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats. A
// scrape is bounded by timeout.
func (m *Metrics) Handler(timeout time.Duration) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Timeout:           timeout,
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// App makes app's series exist (counters at 0) before its first read, so
// rate() and absent() work from the first scrape.
func (m *Metrics) App(app string) {
	if m == nil {
		return
	}
	m.reads.WithLabelValues(app)
	m.readDuration.WithLabelValues(app)
	m.mutesActive.WithLabelValues(app)
	m.mutedEvents.WithLabelValues(app)
	for _, c := range classes {
		m.readErrors.WithLabelValues(app, c)
	}
}

// Channel makes a channel's series exist before its first delivery.
func (m *Metrics) Channel(channel string) {
	if m == nil {
		return
	}
	for _, r := range results {
		m.deliveries.WithLabelValues(channel, r)
	}
	m.outbox.WithLabelValues(channel)
	m.dead.WithLabelValues(channel)
	m.disabled.WithLabelValues(channel)
}

// TickDone records one read of app that took dur, at the time at. A nil
// err is a successful read; otherwise class (ClassConnect, ClassTimeout,
// ClassSchema, ClassOther) says what failed.
func (m *Metrics) TickDone(app string, at time.Time, dur time.Duration, err error, class string) {
	if m == nil {
		return
	}
	m.App(app)
	m.reads.WithLabelValues(app).Inc()
	m.readDuration.WithLabelValues(app).Observe(dur.Seconds())
	m.lastRead.WithLabelValues(app).Set(unix(at))
	if err != nil {
		if !contains(classes, class) {
			class = ClassOther
		}
		m.readErrors.WithLabelValues(app, class).Inc()
		return
	}
	m.lastSuccess.WithLabelValues(app).Set(unix(at))
}

// Problems sets the number of open problems of one kind (KindFailing, ...).
func (m *Metrics) Problems(app, kind string, n int) {
	if m == nil {
		return
	}
	m.problems.WithLabelValues(app, kind).Set(float64(n))
}

// Pending sets the number of pending operations.
func (m *Metrics) Pending(app string, n int) {
	if m == nil {
		return
	}
	m.pending.WithLabelValues(app).Set(float64(n))
}

// OldestFailure sets when the oldest open failure happened; a zero time
// removes the series (nothing is failing).
func (m *Metrics) OldestFailure(app string, at time.Time) {
	if m == nil {
		return
	}
	if at.IsZero() {
		m.oldestFail.DeleteLabelValues(app)
		return
	}
	m.oldestFail.WithLabelValues(app).Set(unix(at))
}

// Delivery counts n deliveries through channel with result (ResultDelivered,
// ResultRetried, ResultDead).
func (m *Metrics) Delivery(channel, result string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.deliveries.WithLabelValues(channel, result).Add(float64(n))
}

// Outbox sets a channel's outbox depth and dead letters.
func (m *Metrics) Outbox(channel string, depth, dead int) {
	if m == nil {
		return
	}
	m.outbox.WithLabelValues(channel).Set(float64(depth))
	m.dead.WithLabelValues(channel).Set(float64(dead))
}

// ChannelDisabled records whether a channel is disabled.
func (m *Metrics) ChannelDisabled(channel string, disabled bool) {
	if m == nil {
		return
	}
	v := 0.0
	if disabled {
		v = 1
	}
	m.disabled.WithLabelValues(channel).Set(v)
}

// Mutes sets the number of mutes and maintenance windows in force.
func (m *Metrics) Mutes(app string, n int) {
	if m == nil {
		return
	}
	m.mutesActive.WithLabelValues(app).Set(float64(n))
}

// MutedEvents counts n events a mute held back or dropped.
func (m *Metrics) MutedEvents(app string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.mutedEvents.WithLabelValues(app).Add(float64(n))
}

// Heartbeat counts one heartbeat ping's result (HeartbeatOK,
// HeartbeatError, HeartbeatDropped).
func (m *Metrics) Heartbeat(result string) {
	if m == nil {
		return
	}
	m.heartbeats.WithLabelValues(result).Inc()
}

func unix(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
