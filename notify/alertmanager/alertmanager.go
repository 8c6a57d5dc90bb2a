// Package alertmanager is seqwatch's Prometheus Alertmanager channel: it
// posts each problem as an alert to Alertmanager's v2 API
// (POST /api/v2/alerts), so that a team's existing routing, grouping,
// inhibition and silences apply to seqwatch.
//
// It holds the channel's configuration, validation and sender. Of seqwatch
// it imports only notify and internal/text: it must not import check,
// state, another channel, any database driver or tablewriter.
//
// # Alerts
//
// Labels (an alert's identity: the event that closes a problem has the
// same labels as the one that opened it):
//
//	alertname    SequencerOperationFailed, SequencerOperationStuck,
//	             SequencerPendingPileUp, SequencerDeferredExhausted or
//	             SeqwatchSourceUnreachable, SeqwatchDirectoryMissing (a
//	             discovery directory that does not exist) (SeqwatchTest
//	             for notify test)
//	app          the application's name
//	environment  its environment, when known
//	operation    the operation's name, for operation and deferred alerts
//	severity     critical (failed, deferred exhausted, source unreachable)
//	             or warning (stuck, pending pile-up)
//	<labels>     the channel's extra labels
//
// Annotations: summary; for a failure exception, message (at most 2 KiB)
// and trace (the first whole frames within 2 KiB and how many are left
// out); attempts for a deferred operation, pending for a pile-up.
// startsAt is when the problem happened; generatorURL the configured
// generator_url.
//
// # Firing and resolving
//
// Like Prometheus, seqwatch posts every open problem again at each tick
// (Resend), each time with endsAt ends_after ahead, so Alertmanager never
// resolves an open problem by itself (its resolve_timeout applies only to
// alerts without endsAt), and an alert that seqwatch stops posting (the
// daemon is gone) resolves ends_after after the last post. A recovery
// (operation.recovered, operation.unstuck, pending.cleared,
// source.recovered) is posted with endsAt set to when it happened, which
// resolves the alert. A problem that closes without an event (its failed
// row was deleted) is posted resolved by the second tick that no longer
// sees it.
//
// A digest or reminder posts its items. Several events go in one request,
// as an array.
//
// # Several Alertmanagers
//
// Each request goes to every configured URL, concurrently, as Prometheus
// does for the replicas of an Alertmanager cluster; the cluster then sends
// each notification once. A delivery counts as done when at least one
// Alertmanager accepted it (the others are logged); it is retried (the
// outbox) when none did and one failed in a way worth retrying (transport
// error, timeout, 408, 429, 5xx), and is a dead letter when every one
// refused it for good (another 4xx, such as 400 for a label an older
// Alertmanager does not accept; the label's name is logged).
package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

var _ notify.Notifier = (*Notifier)(nil)

// refusedLabel finds the label an Alertmanager names in a 400 answer
// (`invalid label set: invalid name "team-name"`).
func refusedLabel(body string) (string, bool) {
	for _, marker := range []string{`invalid name "`, `invalid label name "`} {
		if _, rest, ok := strings.Cut(body, marker); ok {
			if name, _, ok := strings.Cut(rest, `"`); ok {
				return name, true
			}
		}
	}
	return "", false
}

// Notifier posts alerts to one Alertmanager or the replicas of a cluster.
// It is safe for concurrent use. It remembers the open problems it was last
// given (Resend) and the annotations of the alerts it posted, only in
// memory: after a restart a resent problem carries its trace excerpt again
// only once its event is sent again.
type Notifier struct {
	endpoints    []string
	username     string
	password     string
	bearer       string
	extra        map[string]string
	generatorURL string
	endsAfter    time.Duration
	now          func() time.Time
	logger       *slog.Logger
	// sender applies the shared HTTP rules to each Alertmanager's answer
	// (notify.HTTPSender): the timeout, the statuses, Retry-After and its
	// cap, errors without the credentials.
	sender *notify.HTTPSender
	// templates word the summary and description annotations (nil: the
	// channel's own summary, and no description).
	templates *notify.Templates

	mu sync.Mutex
	// open are the problems last known open, by problem key.
	open map[string]tracked
	// gone are problems that left the open set without a closing event;
	// the next Resend posts them resolved unless an event closes them
	// first (closing events carry the time of the recovery).
	gone map[string]tracked
	// traces keeps, by problem key, the trace excerpt of the event that
	// opened it: the open problems the daemon resends carry no traces.
	traces map[string]string
}

// tracked is an open problem as an alert.
type tracked struct {
	labels   map[string]string
	fp       string
	startsAt time.Time
}

// New validates cfg and returns its Notifier. client is the HTTP client to
// send with (nil: a new default client); now is the clock for startsAt and
// endsAt (nil: time.Now); logger receives what a caller's error does not
// carry: an Alertmanager that failed while another accepted, the label an
// Alertmanager refused (nil: discarded).
func New(cfg Config, client *http.Client, now func() time.Time, logger *slog.Logger) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	if client == nil {
		client = &http.Client{}
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.EndsAfter == 0 {
		cfg.EndsAfter = DefaultEndsAfter
	}
	n := &Notifier{
		extra:        maps.Clone(cfg.Labels),
		generatorURL: cfg.GeneratorURL,
		endsAfter:    cfg.EndsAfter,
		now:          now,
		logger:       logger,
		bearer:       cfg.BearerToken.Reveal(),
		open:         map[string]tracked{},
		gone:         map[string]tracked{},
		traces:       map[string]string{},
	}
	for _, u := range cfg.URLs {
		n.endpoints = append(n.endpoints, endpoint(u))
	}
	if cfg.BasicAuth != nil {
		n.username, n.password = cfg.BasicAuth.Username, cfg.BasicAuth.Password.Reveal()
	}
	// No Channel: post names the channel once around every answer.
	n.sender = &notify.HTTPSender{Client: client, Timeout: cfg.Timeout, Now: now, Logger: logger, Secrets: []string{n.password, n.bearer}}
	return n, nil
}

// Notify posts the events' alerts in one request to every Alertmanager:
// firing for an event that opens a problem, resolved for one that closes
// it; a digest or reminder posts its items. See the package documentation
// for when it reports retry.
func (n *Notifier) Notify(ctx context.Context, events []notify.Event) (retry bool, err error) {
	now := n.now()
	var alerts []Alert
	n.mu.Lock()
	for _, e := range flatten(events) {
		if a, ok := n.alertFor(e, now); ok {
			alerts = append(alerts, a)
		}
	}
	n.mu.Unlock()
	if len(alerts) == 0 {
		return false, nil
	}
	return n.post(ctx, alerts)
}

// alertFor turns one event into its alert and records what it opens or
// closes. ok is false when nothing is to be posted: a recovery whose alert
// stays firing for another open problem with the same labels (a second
// failed row of the same operation). Call with n.mu held.
func (n *Notifier) alertFor(e notify.Event, now time.Time) (Alert, bool) {
	r, _ := ruleOf(e)
	l := labels(e, n.extra)
	fp := fingerprint(l)
	a := Alert{Labels: l, Annotations: n.annotations(e), GeneratorURL: n.generatorURL}
	switch {
	case r.closes:
		delete(n.open, e.Key)
		delete(n.gone, e.Key)
		delete(n.traces, e.Key)
		for _, t := range n.open {
			if t.fp == fp {
				return Alert{}, false
			}
		}
		end := e.OccurredAt
		if end.IsZero() || end.After(now) {
			end = now
		}
		a.EndsAt = rfc3339(end)
	case e.Kind == notify.Test:
		a.StartsAt, a.EndsAt = rfc3339(now), rfc3339(now.Add(testValidity))
	default:
		start := startOf(e, now)
		if t := a.Annotations["trace"]; t != "" {
			n.traces[e.Key] = t
		} else if t := n.traces[e.Key]; t != "" {
			a.Annotations["trace"] = t
		}
		n.open[e.Key] = tracked{labels: l, fp: fp, startsAt: start}
		delete(n.gone, e.Key)
		a.StartsAt, a.EndsAt = rfc3339(start), rfc3339(now.Add(n.endsAfter))
	}
	return a, true
}

// startOf is when the problem began, never after now: Alertmanager refuses
// an alert whose endsAt is before its startsAt, and a clock or time zone
// that is off must not lose the alert.
func startOf(e notify.Event, now time.Time) time.Time {
	if e.OccurredAt.IsZero() || e.OccurredAt.After(now) {
		return now
	}
	return e.OccurredAt
}

// Resend posts the open problems as firing alerts again, with endsAt
// ends_after ahead, so that Alertmanager keeps them firing; and posts as
// resolved the problems that were open at the previous call, are no longer,
// and were not closed by an event since. The daemon calls it at each tick
// with every open problem routed to this channel (their opening events),
// and, in untold, the keys of those not to post now (their event is still
// in the outbox, held by a mute, or was refused for good): they count as
// open, but are not posted. It creates no event. A failure is worth
// retrying at the next tick, which resends anyway.
func (n *Notifier) Resend(ctx context.Context, open []notify.Event, untold map[string]bool) error {
	now := n.now()
	current := map[string]bool{}
	var alerts []Alert
	n.mu.Lock()
	before := n.open
	n.open = map[string]tracked{}
	fps := map[string]bool{}
	for _, e := range open {
		if r, ok := ruleOf(e); !ok || r.closes || e.Kind == notify.Test {
			continue
		}
		a, _ := n.alertFor(e, now)
		current[e.Key] = true
		fps[fingerprint(a.Labels)] = true
		if !untold[e.Key] {
			alerts = append(alerts, a)
		}
	}
	// Resolve what was already gone at the previous call; what left the
	// open set since then waits one more tick for its closing event.
	var resolved []string
	for key, t := range n.gone {
		if current[key] || fps[t.fp] {
			delete(n.gone, key)
			continue
		}
		alerts = append(alerts, Alert{Labels: t.labels, StartsAt: rfc3339(t.startsAt), EndsAt: rfc3339(now), GeneratorURL: n.generatorURL})
		resolved = append(resolved, key)
	}
	for key, t := range before {
		if !current[key] {
			n.gone[key] = t
		}
	}
	for key := range n.traces {
		if !current[key] {
			delete(n.traces, key)
		}
	}
	n.mu.Unlock()
	if len(alerts) == 0 {
		return nil
	}
	if _, err := n.post(ctx, alerts); err != nil {
		return err
	}
	n.mu.Lock()
	for _, key := range resolved {
		delete(n.gone, key)
	}
	n.mu.Unlock()
	return nil
}

// answer is one Alertmanager's reply to one request.
type answer struct {
	endpoint string
	status   int
	err      error // transport error, or the refusal
	retry    bool
	body     string // the refusal's message, cleaned
}

// post sends alerts to every endpoint at once and sums up their answers.
func (n *Notifier) post(ctx context.Context, alerts []Alert) (retry bool, err error) {
	sortAlerts(alerts)
	body, err := json.Marshal(alerts)
	if err != nil {
		return false, fmt.Errorf("alertmanager: encoding %d alerts: %w", len(alerts), err)
	}
	answers := make([]answer, len(n.endpoints))
	var wg sync.WaitGroup
	for i, ep := range n.endpoints {
		wg.Go(func() { answers[i] = n.postOne(ctx, ep, body) })
	}
	wg.Wait()

	var failed []answer
	var wait time.Duration // the longest Retry-After asked for
	asked := false
	for _, a := range answers {
		if a.err != nil {
			failed = append(failed, a)
		}
		if after, ok := notify.RetryAfter(a.err); ok {
			wait, asked = max(wait, after), true
		}
	}
	if len(failed) < len(answers) {
		for _, a := range failed {
			n.logger.Warn("an Alertmanager did not take the alerts; another one did, and the cluster shares them",
				"url", a.endpoint, "error", a.err.Error())
		}
		return false, nil
	}
	parts := make([]string, len(failed))
	for i, a := range failed {
		parts[i] = a.err.Error()
		retry = retry || a.retry
		if a.status == http.StatusBadRequest {
			if name, ok := refusedLabel(a.body); ok {
				n.logger.Error("Alertmanager refused a label: rename it in the channel's labels (Alertmanager before 0.28 accepts only letters, digits and _)",
					"label", name, "url", a.endpoint)
			}
		}
	}
	if retry {
		err := fmt.Errorf("alertmanager: no Alertmanager accepted %d alert(s), to be tried again: %s", len(alerts), strings.Join(parts, "; "))
		if asked {
			// Every request goes to every Alertmanager: none is sent
			// before each that asked for a wait has had it.
			return true, &notify.RetryAfterError{After: wait, Err: err}
		}
		return true, err
	}
	return false, fmt.Errorf("alertmanager: every Alertmanager refused %d alert(s) for good: %s", len(alerts), strings.Join(parts, "; "))
}

// postOne posts body to one Alertmanager within the channel's timeout.
func (n *Notifier) postOne(ctx context.Context, ep string, body []byte) answer {
	ans := answer{endpoint: ep}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep, bytes.NewReader(body))
	if err != nil {
		ans.err = fmt.Errorf("%s: %w", ep, n.sender.SafeError(err))
		return ans
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "seqwatch-alertmanager")
	switch {
	case n.username != "":
		req.SetBasicAuth(n.username, n.password)
	case n.bearer != "":
		req.Header.Set("Authorization", "Bearer "+n.bearer)
	}
	a, retry, err := n.sender.Do(req, ep, 0)
	ans.retry, ans.err = retry, err
	if a == nil || err == nil {
		return ans
	}
	ans.status = a.Status
	ans.body = n.sender.Snippet(message(a.Body))
	var se *notify.StatusError
	if errors.As(err, &se) {
		se.Snippet = ans.body
	}
	return ans
}

// message is the text of a refusal: Alertmanager's v2 API answers a JSON
// string, or an object with a message; print the text, not its JSON
// quoting.
func message(body []byte) []byte {
	var msg string
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &msg) == nil {
		return []byte(msg)
	}
	if json.Unmarshal(body, &obj) == nil && obj.Message != "" {
		return []byte(obj.Message)
	}
	return body
}

// Preview is the request Notify would post to each Alertmanager for
// events, as from a fresh start (a recovery is posted even if another open
// problem keeps its alert firing), without the credentials.
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	fresh := &Notifier{extra: n.extra, generatorURL: n.generatorURL, endsAfter: n.endsAfter, templates: n.templates,
		open: map[string]tracked{}, gone: map[string]tracked{}, traces: map[string]string{}}
	now := n.now()
	var alerts []Alert
	for _, e := range flatten(events) {
		if a, ok := fresh.alertFor(e, now); ok {
			alerts = append(alerts, a)
		}
	}
	if len(alerts) == 0 {
		return nil, nil
	}
	sortAlerts(alerts)
	body, err := json.Marshal(alerts)
	if err != nil {
		return nil, fmt.Errorf("alertmanager: encoding %d alerts: %w", len(alerts), err)
	}
	out := make([]notify.Request, len(n.endpoints))
	for i, ep := range n.endpoints {
		out[i] = notify.Request{Method: http.MethodPost, Target: notify.PreviewTarget(ep, n.sender.Secrets...),
			Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
	}
	return out, nil
}
