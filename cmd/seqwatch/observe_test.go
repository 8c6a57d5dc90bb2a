package main

import (
	"testing"

	"github.com/seqwatch/seqwatch/internal/runner/runnertest"
)

// The observer's own tests, the daemon's listener and heartbeat seen from
// outside, are in internal/observe; these are what the commands' tests of
// the listener share.

const httpPassword = "listener-pass-5521"

type httpAnswer struct {
	code int
	body string
}

func httpGet(t *testing.T, url, user, pass string) httpAnswer {
	t.Helper()
	a := runnertest.Get(t, url, user, pass)
	return httpAnswer{a.Code, a.Body}
}
