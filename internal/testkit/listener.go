package testkit

import (
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startAttempts is how many free addresses StartListener tries.
const startAttempts = 5

// StartListener runs bin with args(addr) on a free loopback address for
// the rest of the test, and returns the address once ready(addr) reports
// it serves, within a minute, and the program's log (shown when the test
// fails). A free address is only free when chosen: when the program exits
// because another process bound it first ("address already in use"), it
// is started again on another, up to startAttempts times; any other exit
// fails the test.
func StartListener(t testing.TB, bin string, args func(addr string) []string, ready func(addr string) bool) (string, *Logs) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr := FreeAddr(t)
		logs := &Logs{}
		cmd := exec.Command(bin, args(addr)...)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var gone error
		Eventually(t, time.Minute, bin+" ready on "+addr, func() (bool, string) {
			select {
			case err := <-exited:
				gone = err
				if gone == nil {
					gone = errors.New("exit status 0")
				}
				return true, ""
			default:
			}
			return ready(addr), tail(logs.String(), 20)
		})
		if gone == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
				if t.Failed() {
					t.Logf("%s on %s, its log:\n%s", bin, addr, tail(logs.String(), 40))
				}
			})
			return addr, logs
		}
		if !strings.Contains(logs.String(), "address already in use") || attempt == startAttempts {
			t.Fatalf("%s exited (%v) before it was ready on %s:\n%s", bin, gone, addr, tail(logs.String(), 20))
		}
		t.Logf("%s: %s was taken meanwhile; trying another address", bin, addr)
	}
}

// HTTPReady is a ready function for StartListener: GET http://addr+path
// answers 200.
func HTTPReady(path string) func(addr string) bool {
	client := &http.Client{Timeout: 2 * time.Second}
	return func(addr string) bool {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
