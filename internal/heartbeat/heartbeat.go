// Package heartbeat pings an outside monitor after each of the daemon's
// ticks, in the convention of healthchecks.io and Uptime Kuma: GET URL when
// the read succeeded, POST URL/fail with a short reason when it failed, and
// optionally GET URL/start before the read. Pings go out on their own
// goroutine, each under a deadline, so a slow monitor never delays a tick.
//
// It holds the heartbeat's configuration and sender only. It must not import
// check, the reader (internal/reader) or the channels (notify): callers
// pass plain strings, and results go back through a callback (the
// daemon's metrics).
package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/seqwatch/seqwatch/internal/text"
)

// DefaultTimeout bounds one ping when the configuration sets none.
const DefaultTimeout = 10 * time.Second

// MaxReason is the longest reason sent with a /fail ping, in bytes.
const MaxReason = 200

// Results passed to the callback.
const (
	ResultOK      = "ok"
	ResultError   = "error"
	ResultDropped = "dropped"
)

// Config is the heartbeat: heartbeat: {url:, timeout:, send_start:,
// allow_http:} in seqwatch.yaml.
type Config struct {
	// URL is the ping URL (https://hc-ping.com/<uuid>). It is a secret:
	// anyone who has it can ping.
	URL string `yaml:"url"`
	// Timeout bounds each ping; zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// SendStart also pings URL/start before each read, so the monitor can
	// measure how long reads take.
	SendStart bool `yaml:"send_start"`
	// AllowHTTP permits a plain http:// URL to a host other than loopback.
	AllowHTTP bool `yaml:"allow_http"`
}

// Validate reports the first problem with the configuration, naming the
// key. It never quotes the URL, which is a credential.
func (c *Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return errors.New("heartbeat.url: not an absolute URL: paste the ping URL your monitor gave you (https://hc-ping.com/...)")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !c.AllowHTTP && !text.IsLoopback(u.Hostname()) {
			return errors.New("heartbeat.url: plain http to a host other than this one sends the ping URL in clear text: use https, or set heartbeat.allow_http: true")
		}
	default:
		return fmt.Errorf("heartbeat.url: must be an http(s) URL (got scheme %q)", u.Scheme)
	}
	if u.User != nil {
		return errors.New("heartbeat.url: must not carry a user name or password")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("heartbeat.timeout: must be positive (got %s)", c.Timeout)
	}
	return nil
}

type ping struct {
	suffix string // "", "/start" or "/fail"
	reason string
}

// Pinger sends the pings. Its methods never block on the network.
type Pinger struct {
	cfg    Config
	client *http.Client
	logger *slog.Logger
	record func(result string)

	mu     sync.Mutex // guards closed and sends on queue
	closed bool
	queue  chan ping
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New validates cfg and starts the sending goroutine; Close stops it.
// client sends the pings (its own timeout is not relied upon: each ping has
// cfg.Timeout); record, if not nil, is told each ping's result.
func New(cfg Config, client *http.Client, logger *slog.Logger, record func(result string)) (*Pinger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if client == nil {
		client = &http.Client{}
	}
	if record == nil {
		record = func(string) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pinger{
		cfg: cfg, client: client, logger: logger, record: record,
		// Room for a start and a result ping of one tick plus one more;
		// beyond that the monitor is too slow and pings are dropped.
		queue: make(chan ping, 3),
		ctx:   ctx, cancel: cancel,
	}
	p.wg.Add(1)
	go p.run()
	return p, nil
}

// Start pings URL/start, when send_start is set.
func (p *Pinger) Start() {
	if p.cfg.SendStart {
		p.enqueue(ping{suffix: "/start"})
	}
}

// Success pings URL: the read succeeded.
func (p *Pinger) Success() { p.enqueue(ping{}) }

// Fail pings URL/fail with reason cut to one line of at most MaxReason
// bytes.
func (p *Pinger) Fail(reason string) { p.enqueue(ping{suffix: "/fail", reason: shortReason(reason)}) }

func (p *Pinger) enqueue(pg ping) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	select {
	case p.queue <- pg:
	default:
		p.logger.Warn("heartbeat dropped: the previous pings are still in flight", "timeout", p.cfg.Timeout)
		p.record(ResultDropped)
	}
}

// Close sends the pings still queued and stops, within one timeout: what
// is left after it is dropped. run --once relies on this to ping before
// the process exits.
func (p *Pinger) Close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		close(p.queue)
		p.mu.Unlock()
		done := make(chan struct{})
		go func() { p.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(p.cfg.Timeout):
			p.cancel()
			<-done
		}
		p.cancel()
	})
}

func (p *Pinger) run() {
	defer p.wg.Done()
	for pg := range p.queue {
		if p.ctx.Err() != nil {
			p.record(ResultDropped)
			continue
		}
		if err := p.send(pg); err != nil {
			p.logger.Warn("heartbeat ping failed", "ping", pingName(pg), "error", err.Error())
			p.record(ResultError)
			continue
		}
		p.record(ResultOK)
	}
}

func pingName(pg ping) string {
	if pg.suffix == "" {
		return "success"
	}
	return strings.TrimPrefix(pg.suffix, "/")
}

// send makes one ping. Its error never contains the URL.
func (p *Pinger) send(pg ping) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.Timeout)
	defer cancel()
	target, err := withSuffix(p.cfg.URL, pg.suffix)
	if err != nil {
		return err
	}
	method, body := http.MethodGet, io.Reader(nil)
	if pg.suffix == "/fail" {
		method, body = http.MethodPost, strings.NewReader(pg.reason)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return errors.New("cannot build the request: check heartbeat.url")
	}
	req.Header.Set("User-Agent", "seqwatch-heartbeat")
	if body != nil {
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, which is a secret
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer within %s", p.cfg.Timeout)
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the monitor answered %s", resp.Status)
	}
	return nil
}

// withSuffix appends suffix to the URL's path, keeping its query.
func withSuffix(raw, suffix string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("heartbeat.url is not a URL")
	}
	if suffix != "" {
		u.Path = strings.TrimSuffix(u.Path, "/") + suffix
		u.RawPath = ""
	}
	return u.String(), nil
}

// shortReason makes reason one line of printable text, at most MaxReason
// bytes, cut on a rune boundary.
func shortReason(reason string) string {
	reason = strings.Join(strings.FieldsFunc(reason, func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r)
	}), " ")
	if len(reason) <= MaxReason {
		return reason
	}
	return text.CutBytes(reason, MaxReason-len("...")) + "..."
}
