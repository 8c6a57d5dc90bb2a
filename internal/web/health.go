package web

import (
	"fmt"
	"sync"
	"time"
)

// Liveness tracks the daemon's tick loop for /healthz and /readyz. The
// daemon tells it when each tick starts and ends; a tick still running past
// its deadline means the loop is wedged. It is safe for concurrent use.
type Liveness struct {
	mu      sync.Mutex
	now     func() time.Time
	flights map[string]flight // ticks in flight, by application
	lastEnd time.Time
	ticks   int
	loaded  bool
}

// flight is one application's tick in flight.
type flight struct {
	started  time.Time
	deadline time.Duration
}

// NewLiveness returns a Liveness reading the time from now (the daemon's
// injected clock).
func NewLiveness(now func() time.Time) *Liveness {
	if now == nil {
		now = time.Now
	}
	return &Liveness{now: now, flights: map[string]flight{}}
}

// StateLoaded records that the daemon's state is loaded.
func (l *Liveness) StateLoaded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.loaded = true
}

// TickStarted records that a tick began, which should end within deadline.
func (l *Liveness) TickStarted(deadline time.Duration) { l.AppTickStarted("", deadline) }

// TickEnded records that the tick ended (whatever its outcome: a failed
// read is still a loop that works).
func (l *Liveness) TickEnded() { l.AppTickEnded("") }

// AppTickStarted is TickStarted for one application of several, whose
// ticks run side by side.
func (l *Liveness) AppTickStarted(app string, deadline time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flights[app] = flight{started: l.now(), deadline: deadline}
}

// AppTickEnded is TickEnded for one application of several.
func (l *Liveness) AppTickEnded(app string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.flights, app)
	l.lastEnd = l.now()
	l.ticks++
}

// HealthReport is the body of /healthz and /readyz.
type HealthReport struct {
	Status string `json:"status"` // "ok" or "failing"
	Reason string `json:"reason"`
	// LastTickEndedAt is when the last tick ended; zero before the first.
	LastTickEndedAt time.Time `json:"last_tick_ended_at,omitzero"`
	// TickRunningSeconds is how long the tick in flight has run, if any.
	TickRunningSeconds int64 `json:"tick_running_seconds,omitempty"`
}

// Live reports whether the tick loop is alive: no tick has run past its
// deadline.
func (l *Liveness) Live() (bool, HealthReport) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := HealthReport{Status: "ok", LastTickEndedAt: l.lastEnd}
	if len(l.flights) > 0 {
		// The tick in flight furthest past its deadline, else the
		// longest running.
		var worst time.Duration
		over := false
		for _, f := range l.flights {
			running := l.now().Sub(f.started)
			late := f.deadline > 0 && running > f.deadline
			if late && !over || late == over && running > worst {
				worst, over = running, late
				if late {
					r.Reason = fmt.Sprintf("the tick loop is wedged: a tick has been running for %s, past its deadline of %s", running.Truncate(time.Second), f.deadline)
				}
			}
		}
		r.TickRunningSeconds = int64(worst / time.Second)
		if over {
			r.Status = "failing"
			return false, r
		}
		r.Reason = "a tick is running"
		return true, r
	}
	if l.ticks == 0 {
		r.Reason = "the first tick has not started yet"
	} else {
		r.Reason = "the tick loop is running"
	}
	return true, r
}

// Ready reports whether the daemon is ready: its state is loaded and the
// first read is done.
func (l *Liveness) Ready() (bool, HealthReport) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := HealthReport{Status: "ok", Reason: "the state is loaded and the first read is done", LastTickEndedAt: l.lastEnd}
	switch {
	case !l.loaded:
		r.Status, r.Reason = "failing", "the state is not loaded yet"
	case l.ticks == 0:
		r.Status, r.Reason = "failing", "the first read is not done yet"
	}
	return r.Status == "ok", r
}
