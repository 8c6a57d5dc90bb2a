package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/internal/runner"
	"github.com/seqwatch/seqwatch/state"
)

// startSeqwatchInProcess runs `seqwatch run` with args in process, on
// the real clock and with an empty environment, for the rest of the test,
// and returns its log. When the test ends the daemon is stopped as a
// signal stops it (its context ends), and the test fails if it does not
// exit 0 within 30s. It is for tests that watch a running daemon from
// outside: its listener, its receivers, its log. startSeqwatch runs the
// built binary instead.
func startSeqwatchInProcess(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	e := env{stdout: io.Discard, stderr: logs, now: time.Now, getenv: func(string) string { return "" }, sleep: noSleep}
	exited := make(chan int, 1)
	go func() { exited <- runMain(ctx, append([]string{"run"}, args...), e) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exited:
			if code != 0 {
				t.Errorf("the daemon exited %d\n%s", code, logs.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("the daemon did not stop\n%s", logs.String())
		}
	})
	return logs
}

// newApp makes the worker of one application as seqwatch run does, with
// e's clock, sleep and stdout.
func newApp(ac *config.App, st state.Store, e env, logger *slog.Logger, opts ...func(*daemon.Deps)) (*daemon.App, error) {
	return runner.NewApp(ac, st, appDeps(e, logger), opts...)
}
