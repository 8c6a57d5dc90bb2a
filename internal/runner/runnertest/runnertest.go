// Package runnertest starts seqwatch's daemon in-process for tests: the
// worker of one application of a configuration file (App), or the whole
// daemon as seqwatch run starts it (StartDaemon, RunOnce); and the
// fixtures the daemon's end-to-end tests share: the sample application on
// SQLite with a failure added (SQLiteApp, InsertFailure) and a GET with
// a deadline (Get).
//
// Only tests import it (internal/layering keeps it out of the binary). It
// sits above internal/runner, so it is not in internal/testkit, which is
// a leaf.
package runnertest

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/demo"
	"github.com/seqwatch/seqwatch/internal/runner"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/text"
	"github.com/seqwatch/seqwatch/state"
)

// Logger is the daemon's logger (text, info, no secrets) writing to w.
func Logger(w io.Writer) *slog.Logger {
	return runner.NewLogger(w, false, slog.LevelInfo, &text.SecretSet{})
}

// App builds the worker of the configuration at cfgPath (which must be
// valid, with a state file) on its state, with deps, adjusted by opts.
// stop closes the worker and lets go of its state, as a process that ends
// does; the test's end calls it too.
func App(t testing.TB, cfgPath string, deps runner.Deps, opts ...func(*daemon.Deps)) (app *daemon.App, stop func()) {
	t.Helper()
	cfg, err := config.LoadValid(t.Context(), cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(cfg.State.Path)
	if err != nil {
		t.Fatal(err)
	}
	app, err = runner.NewApp(cfg.TopLevel(), st, deps, opts...)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { app.Close(); st.Close() }) }
	t.Cleanup(stop)
	return app, stop
}

// options are seqwatch run's for the configuration cfgPath, on the real
// clock, logging to logs.
func options(t testing.TB, cfgPath string, logs io.Writer) (*config.Config, runner.Options) {
	t.Helper()
	cfg, err := config.LoadValid(t.Context(), cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	secrets := &text.SecretSet{}
	secrets.Set(cfg.Secrets())
	logger := runner.NewLogger(logs, false, slog.LevelInfo, secrets)
	return cfg, runner.Options{
		Deps:    runner.Deps{Now: time.Now, Stdout: io.Discard, Logger: logger, Sleep: NoSleep},
		Version: "test", Secrets: secrets,
		Load: func(ctx context.Context) (*config.Config, error) { return config.LoadValid(ctx, cfgPath) },
	}
}

// NoSleep is a delivery retry's wait that does not wait.
func NoSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// Daemon is a daemon StartDaemon started: its log, and its reload.
type Daemon struct {
	*testkit.Logs
	hup chan os.Signal
}

// Reload asks the daemon to load its configuration again, as SIGHUP does.
func (d *Daemon) Reload() { d.hup <- syscall.SIGHUP }

// StartDaemon runs the daemon of the configuration at cfgPath in process,
// as seqwatch run --listen listen does ("" takes http.listen), on the real
// clock, for the rest of the test. When the test ends the daemon is
// stopped as a signal stops it (its context ends), and the test fails
// unless it returns without an error within 30s.
func StartDaemon(t testing.TB, cfgPath, listen string) *Daemon {
	t.Helper()
	d := &Daemon{Logs: &testkit.Logs{}, hup: make(chan os.Signal, 1)}
	cfg, o := options(t, cfgPath, d.Logs)
	o.Listen = listen
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan error, 1)
	go func() { exited <- runner.Run(ctx, cfg, o, d.hup) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the daemon stopped with %v\n%s", err, d.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("the daemon did not stop\n%s", d.String())
		}
	})
	return d
}

// RunOnce runs one tick of the daemon of the configuration at cfgPath, as
// seqwatch run --once does, and returns its error and its log.
func RunOnce(t testing.TB, cfgPath string) (*testkit.Logs, error) {
	t.Helper()
	logs := &testkit.Logs{}
	cfg, o := options(t, cfgPath, logs)
	o.Once = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return logs, runner.Run(ctx, cfg, o, nil)
}

// SQLiteApp writes the demo application as of now and returns its
// directory and an open pool on its database.
func SQLiteApp(t testing.TB, now time.Time) (string, *sql.DB) {
	t.Helper()
	dir := t.TempDir()
	if err := demo.WriteApp(context.Background(), dir, now); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "database", "database.sqlite")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return dir, db
}

// InsertFailure records a failed run of name that started at, with one
// error row, as Sequencer does, and returns the row's id.
func InsertFailure(t testing.TB, db *sql.DB, name string, at time.Time, exception, message string) int64 {
	t.Helper()
	ts := at.UTC().Format(time.DateTime)
	failed := at.Add(3 * time.Second).UTC().Format(time.DateTime)
	res, err := db.Exec(`insert into operations (name, type, state, executed_at, failed_at, created_at, updated_at)
		values (?, 'sync', 'failed', ?, ?, ?, ?)`, name, ts, failed, ts, failed)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if _, err := db.Exec(`insert into operation_errors (operation_id, exception, message, trace, context, created_at, updated_at)
		values (?, ?, ?, ?, '{"line":7}', ?, ?)`, id, exception, message, "#0 {main}", failed, failed); err != nil {
		t.Fatal(err)
	}
	return id
}

// Answer is an HTTP response's status and body.
type Answer struct {
	Code int
	Body string
}

// Get asks url with basic auth when user is set, within 10s; a request
// that fails is code 0 with the error as its body.
func Get(t testing.TB, url, user, pass string) Answer {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return Answer{Body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Answer{resp.StatusCode, string(b)}
}
