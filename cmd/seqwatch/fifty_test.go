package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/testkit"
)

// Fifty applications on one PostgreSQL server: after their ticks the
// daemon holds no connection to any of them (an application of apps:
// connects for its tick and disconnects after it), where one application
// on its own keeps its connection for the next tick.
func TestFiftyApplicationsHoldNoIdleConnectionsBetweenTicks(t *testing.T) {
	t.Parallel()
	srv := dbtest.NewPostgresServer(t)
	const n = 50
	var b strings.Builder
	b.WriteString("on_first_run: silent\nschedule: \"@every 1h\"\nstate: {path: " + filepath.Join(t.TempDir(), "state.json") + "}\nchannels:\n  - name: out\n    console: {}\napps:\n")
	var names []string
	var admin *dbtest.DB
	for i := range n {
		db := srv.NewDatabase(t)
		dbtest.CreateSchema(t, db, dbtest.Schema{})
		if admin == nil {
			admin = db
		}
		name := fmt.Sprintf("app%02d", i)
		names = append(names, name)
		fmt.Fprintf(&b, "  - name: %s\n    database: {url: %q}\n", name, db.URL)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "seqwatch.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	seqwatchConns := func() int {
		t.Helper()
		var c int
		if err := admin.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'seqwatch'`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	p := startSeqwatch(t, "run", "--config", cfg, "--log-level", "debug")
	for _, name := range names {
		// seqwatch's side: the pool was closed, with no connection left
		// in it, before the tick was reported done.
		closed, closedAt := p.waitLine(0, `msg="disconnected from the application" app=`+name+` `)
		_, doneAt := p.waitLine(0, `msg="tick done" app=`+name+` `)
		if !strings.Contains(closed, " open_connections=0") || closedAt > doneAt {
			t.Errorf("%s: the tick is reported done (line %d) before its connections are closed (line %d: %s)", name, doneAt, closedAt, closed)
		}
	}
	// The server's side: a backend ends a moment after its client has
	// closed the connection (the client does not wait for it), and
	// pg_stat_activity lists it until then, for a few milliseconds on a
	// busy machine. A connection seqwatch kept would stay listed.
	testkit.Eventually(t, 10*time.Second, fmt.Sprintf("after the first tick of %d applications seqwatch holding no connection", n), func() (bool, string) {
		c := seqwatchConns()
		return c == 0, fmt.Sprintf("seqwatch holds %d connections, want 0", c)
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.wait()

	// One application on its own keeps its connection between ticks.
	one := filepath.Join(dir, "one.yaml")
	body := fmt.Sprintf("on_first_run: silent\nschedule: \"@every 1h\"\nname: solo\ndatabase: {url: %q}\nstate: {path: %s}\nchannels:\n  - name: out\n    console: {}\n",
		admin.URL, filepath.Join(dir, "solo.json"))
	if err := os.WriteFile(one, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p = startSeqwatch(t, "run", "--config", one, "--log-level", "debug")
	p.waitLine(0, `msg="tick done"`)
	if c := seqwatchConns(); c != 1 {
		t.Errorf("one application alone: %d connections between ticks, want 1 (kept for the next tick)", c)
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait()
	t.Logf("stopped in %s", time.Since(start).Round(time.Millisecond))
}
