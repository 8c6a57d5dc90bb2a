// Package web holds the daemon's HTTP listener: the status page at /, its
// JSON twin at /api/v1/status, /metrics (served from a handler the caller
// passes), /healthz and /readyz, with optional basic auth and the server's
// timeouts and graceful shutdown. The page and the API render from a small
// view model (Status) that the daemon fills after each tick.
//
// It must not import the model (check), the reader (internal/reader), the
// channels (notify) or the state: the daemon converts its values into the
// view model, so this package stays free of database drivers and of alert
// logic.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seqwatch/seqwatch/internal/text"
)

// DefaultListen is the documented listen address.
const DefaultListen = "127.0.0.1:9477"

// DefaultRefresh is how often the status page reloads itself.
const DefaultRefresh = 30 * time.Second

// Config is http: in seqwatch.yaml.
type Config struct {
	// Listen is host:port. An empty host binds loopback, not every
	// interface: serving other hosts must be asked for (0.0.0.0:9477).
	Listen string `yaml:"listen"`
	// Username and Password turn on basic auth for every path except
	// /healthz and /readyz. Password is a secret: write it as
	// password_file: or ${VAR}.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Refresh is how often the status page reloads itself
	// (DefaultRefresh).
	Refresh time.Duration `yaml:"refresh"`
	// URL is where people reach the status page (behind a proxy, say),
	// for the links in alerts: .PageURL in message templates. seqwatch
	// serves at Listen whatever it says.
	URL string `yaml:"url"`
}

// Validate reports every problem with the configuration, one per line,
// naming the key.
func (c *Config) Validate() error {
	var p []string
	if c.Listen != "" {
		_, port, err := net.SplitHostPort(c.Listen)
		switch {
		case err != nil || port == "":
			p = append(p, fmt.Sprintf("http.listen: must be host:port such as %s (got %q)", DefaultListen, c.Listen))
		case !validPort(port):
			p = append(p, fmt.Sprintf("http.listen: the port must be a number up to 65535, such as %s (got %q)", DefaultListen, c.Listen))
		}
	}
	if c.Username != "" && c.Password == "" {
		p = append(p, "http.password: username is set but no password: set password_file: (or password: ${VAR})")
	}
	if c.Username == "" && c.Password != "" {
		p = append(p, "http.username: a password is set but no username: set username")
	}
	if c.Refresh != 0 && c.Refresh < time.Second {
		p = append(p, fmt.Sprintf("http.refresh: must be 1s or more (got %s)", c.Refresh))
	}
	if c.URL != "" {
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			p = append(p, fmt.Sprintf("http.url: must be the page's absolute http(s) address, such as https://seqwatch.example.com/, without a user or password (got %q)", c.URL))
		}
	}
	if strings.Contains(c.Username, ":") {
		p = append(p, "http.username: must not contain a colon (basic auth separates user and password with one)")
	}
	if len(p) > 0 {
		return errors.New(strings.Join(p, "\n"))
	}
	return nil
}

// validPort reports a TCP port number a listener can bind: 0 (any free
// port, as tests ask for) to 65535.
func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// Address returns the address to bind: an empty host becomes 127.0.0.1.
func Address(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || host != "" {
		return listen
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// Options are what the server serves.
type Options struct {
	Config   Config
	Board    *Board
	Liveness *Liveness
	// Metrics serves /metrics; nil answers 404.
	Metrics http.Handler
	// Mutes serves POST /api/v1/mutes and DELETE /api/v1/mutes/{id}
	// (behind the basic auth, like the page); nil answers 404.
	Mutes Muter
	// Scrub removes secrets from every string shown (page, API, health).
	Scrub func(string) string
	// Refresh is how often the page reloads itself: Config.Refresh, else
	// DefaultRefresh.
	Refresh time.Duration
	// Now is the daemon's clock, for "3m ago" on the page.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is the listener. Listen binds it, Serve runs it, Shutdown stops
// it.
type Server struct {
	opts Options
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// Listen binds the address. A taken address is an error naming it.
func Listen(opts Options) (*Server, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if opts.Config.Listen == "" {
		opts.Config.Listen = DefaultListen
	}
	if opts.Board == nil {
		opts.Board = NewBoard(opts.Now)
	}
	if opts.Liveness == nil {
		opts.Liveness = NewLiveness(opts.Now)
	}
	if opts.Scrub == nil {
		opts.Scrub = func(s string) string { return s }
	}
	if opts.Refresh <= 0 {
		opts.Refresh = opts.Config.Refresh
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	addr := Address(opts.Config.Listen)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, listenError(addr, err)
	}
	s := &Server{opts: opts, ln: ln, done: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

func listenError(addr string, err error) error {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		err = opErr.Err
	}
	return &ListenError{Addr: addr, Err: err}
}

// ListenError says that the listener could not be opened at Addr. Err is
// the system's reason: errors.Is matches syscall.EADDRINUSE (another
// process listens there), syscall.EACCES (a privileged port) and
// syscall.EADDRNOTAVAIL (not an address of this host), which the message
// spells out.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string {
	switch {
	case errors.Is(e.Err, syscall.EADDRINUSE):
		return fmt.Sprintf("http.listen: %s is already in use by another process", e.Addr)
	case errors.Is(e.Err, syscall.EACCES):
		return fmt.Sprintf("http.listen: not allowed to listen on %s", e.Addr)
	case errors.Is(e.Err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("http.listen: %s is not an address of this host", e.Addr)
	}
	return fmt.Sprintf("http.listen: cannot listen on %s: %v", e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Addr is the bound address (with the real port when the port was 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves in the background until Shutdown.
func (s *Server) Serve() {
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logger.Error("the HTTP listener stopped", "addr", s.Addr(), "error", err.Error())
		}
	}()
}

// Shutdown stops accepting, lets requests in flight finish until ctx ends,
// then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	return err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	private := http.NewServeMux()
	private.HandleFunc("GET /{$}", s.page)
	private.HandleFunc("GET /api/v1/status", s.api)
	private.HandleFunc("POST /api/v1/mutes", s.mute)
	private.HandleFunc("DELETE /api/v1/mutes/{id}", s.unmute)
	if s.opts.Metrics != nil {
		private.Handle("GET /metrics", s.opts.Metrics)
	}
	mux.Handle("/", s.auth(private))
	return headers(mux)
}

// headers sets what every answer carries: nothing is cached, nothing is
// framed, and the page may load no script at all.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) auth(next http.Handler) http.Handler {
	c := s.opts.Config
	if c.Username == "" {
		return next
	}
	// Hashes of equal length, compared in constant time: neither the
	// length nor a prefix of the password leaks through timing.
	wantUser, wantPass := sha256.Sum256([]byte(c.Username)), sha256.Sum256([]byte(c.Password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		gotUser, gotPass := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
		userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
		passOK := subtle.ConstantTimeCompare(gotPass[:], wantPass[:])
		if !ok || userOK&passOK != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="seqwatch", charset="UTF-8"`)
			http.Error(w, "401 unauthorized: this seqwatch asks for a user name and password (http.username in seqwatch.yaml)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	ok, r := s.opts.Liveness.Live()
	s.health(w, ok, r)
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	ok, r := s.opts.Liveness.Ready()
	s.health(w, ok, r)
}

func (s *Server) health(w http.ResponseWriter, ok bool, r HealthReport) {
	r.Reason = s.shown(r.Reason)
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, r)
}

// status is the document every view renders (the page and the API):
// each of its strings passed through shown, here and nowhere else.
func (s *Server) status() Status {
	st := s.opts.Board.Status()
	st.scrub(s.shown)
	return st
}

// shown is what every string goes through before a view shows it: the
// secrets scrubbed, then text.Clean, the cleaning of the terminal and the
// channels. Text from the database (or a mute's reason) then carries no
// terminal control sequence, control character (newlines and tabs stay),
// bidirectional override or invisible format character: a page is safe
// to curl to a terminal, and "\u202egnp.exe" reads as what it is.
func (s *Server) shown(v string) string { return text.Clean(s.opts.Scrub(v)) }

func (s *Server) api(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.status())
}

func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	var buf bytes.Buffer
	data := pageData{Status: s.status(), Refresh: int(s.opts.Refresh / time.Second), now: s.opts.Now()}
	if data.Refresh < 1 {
		data.Refresh = 1
	}
	if err := pageTemplate.Execute(&buf, data); err != nil {
		s.opts.Logger.Error("cannot render the status page", "error", err.Error())
		http.Error(w, "500 the status page could not be rendered; /api/v1/status has the same data", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, `{"error":"cannot encode the answer"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

// scrub passes every string of the document through f
// (TestEveryStringOfTheStatusIsCleaned finds any it misses).
func (st *Status) scrub(f func(string) string) {
	for i := range st.Apps {
		a := &st.Apps[i]
		// The board's lists are shared with other requests: copy before
		// writing.
		a.Failing = slices.Clone(a.Failing)
		a.InProgress = slices.Clone(a.InProgress)
		a.Scheduled = slices.Clone(a.Scheduled)
		a.Notices = slices.Clone(a.Notices)
		a.DeferredExhausted = slices.Clone(a.DeferredExhausted)
		a.Events = slices.Clone(a.Events)
		a.Mutes = slices.Clone(a.Mutes)
		a.Channels = slices.Clone(a.Channels)
		for _, p := range []*string{&a.Name, &a.Environment, &a.Verdict, &a.Summary, &a.ReadError} {
			*p = f(*p)
		}
		for j := range a.Failing {
			fl := &a.Failing[j]
			fl.Name, fl.ID, fl.Type = f(fl.Name), f(fl.ID), f(fl.Type)
			fl.Errors = append([]ErrorView(nil), fl.Errors...)
			for k := range fl.Errors {
				e := &fl.Errors[k]
				e.Exception, e.Message, e.Trace = f(e.Exception), f(e.Message), f(e.Trace)
			}
		}
		for j := range a.InProgress {
			r := &a.InProgress[j]
			r.Name, r.ID, r.Type = f(r.Name), f(r.ID), f(r.Type)
		}
		for j := range a.Scheduled {
			r := &a.Scheduled[j]
			r.Name, r.ID, r.Type = f(r.Name), f(r.ID), f(r.Type)
		}
		for j := range a.Notices {
			a.Notices[j] = f(a.Notices[j])
		}
		a.Pending.Names = append([]string(nil), a.Pending.Names...)
		for j := range a.Pending.Names {
			a.Pending.Names[j] = f(a.Pending.Names[j])
		}
		for j := range a.DeferredExhausted {
			d := &a.DeferredExhausted[j]
			d.ID, d.Operation, d.LastError = f(d.ID), f(d.Operation), f(d.LastError)
		}
		for j := range a.Events {
			ev := &a.Events[j]
			ev.ID, ev.Kind, ev.Summary, ev.Key = f(ev.ID), f(ev.Kind), f(ev.Summary), f(ev.Key)
			ev.Channels = append([]ChannelResult(nil), ev.Channels...)
			for k := range ev.Channels {
				c := &ev.Channels[k]
				c.Channel, c.Result, c.LastError = f(c.Channel), f(c.Result), f(c.LastError)
			}
		}
		for j := range a.Mutes {
			m := &a.Mutes[j]
			m.ID, m.Reason, m.By = f(m.ID), f(m.Reason), f(m.By)
		}
		for j := range a.Channels {
			a.Channels[j].Name = f(a.Channels[j].Name)
		}
	}
}
