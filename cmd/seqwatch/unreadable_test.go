package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/runner/runnertest"
)

// unreadableOn is, per database, a value it can hold in a time stamp
// column that is no time (MariaDB's zero date, PostgreSQL's infinity,
// text in SQLite), and how seqwatch shows it.
var unreadableOn = []struct {
	d            dbtest.Dialect
	value, shown string
}{
	{dbtest.Postgres, "infinity", "infinity"},
	{dbtest.MySQL, "garbage", "0000-00-00 00:00:00"},
	{dbtest.SQLite, "garbage", "garbage"},
}

// TestOneUnreadableRowBlindsNothing: beside two real failures, a failed
// row whose failed_at cannot be read and an error row whose created_at
// cannot be read. check stays CRITICAL for all three failures, names the
// two values once and counts them; status lists everything and names them
// under Warnings; the daemon reads the application (no source.unreachable,
// every failure alerted) and logs each value once, not at every tick nor
// after a restart. Before, each of these read failed: check was UNKNOWN,
// status printed nothing and the daemon counted the source unreachable.
func TestOneUnreadableRowBlindsNothing(t *testing.T) {
	t.Parallel()
	const (
		opA = "2024_01_15_130000_NotifyUsers"
		opB = "2024_01_16_090000_BackfillOrders"
		opC = "2024_02_01_000000_PruneSessions"
	)
	for _, tc := range unreadableOn {
		t.Run(string(tc.d), func(t *testing.T) {
			t.Parallel()
			var db *dbtest.DB
			if tc.d == dbtest.SQLite {
				db = dbtest.NewDatabase(t, tc.d)
			} else {
				db = dbtest.NewServer(t, tc.d).NewDatabase(t)
			}
			s := dbtest.Schema{}
			dbtest.CreateSchema(t, db, s)
			app := t.TempDir()
			dbtest.WriteApp(t, app, db, dbtest.AppFiles{Operations: []string{opA, opB, opC}})
			ids := db.InsertOps(t, s,
				dbtest.Op{Name: opA, ExecutedAt: "2024-01-15 13:00:00", FailedAt: "2024-01-15 13:00:02", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "real failure A"}}},
				dbtest.Op{Name: opB, ExecutedAt: "2024-01-16 09:00:00", FailedAt: "2024-01-16 09:00:02", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "real failure B"}}},
				dbtest.Op{Name: opC, ExecutedAt: "2024-02-01 00:00:00", FailedAt: "2024-02-01 00:00:02", Errors: []dbtest.Err{{Exception: "RuntimeException", Message: "failed at an unknown time"}}},
			)
			errA := db.ErrorIDs(t, s, ids[0])[0]
			db.SetRaw(t, "operations", ids[2], "failed_at", tc.value)
			db.SetRaw(t, "operation_errors", errA, "created_at", tc.value)
			namedC := "operations row " + ids[2] + `: failed_at "` + tc.shown + `" is not a time stamp`
			namedA := "operation_errors row " + errA + " (of operation row " + ids[0] + `): created_at "` + tc.shown + `" is not a time stamp`

			// check: CRITICAL for the three, the two values named.
			r := runCmd(t, nil, "check", "--app", app)
			if r.code != int(check.Critical) {
				t.Fatalf("check: exit %d, want 2 (CRITICAL): %s", r.code, r.stdout)
			}
			mustContain(t, "check's line", r.stdout, "3 failed operations", opA, opB, opC, "2 rows with a value that cannot be read", namedC, namedA, " unreadable_rows=2")
			if strings.Count(r.stdout, namedC) != 1 {
				t.Errorf("check names %s more than once: %s", namedC, r.stdout)
			}
			r = runCmd(t, nil, "check", "--app", app, "--json")
			var v struct {
				Counts  check.Counts      `json:"counts"`
				Failing []json.RawMessage `json:"failing"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Counts.UnreadableRows != 2 || len(v.Failing) != 3 {
				t.Errorf("check --json: %v, unreadable_rows %d, %d failing; want 2 and 3:\n%s", err, v.Counts.UnreadableRows, len(v.Failing), r.stdout)
			}

			// status: everything listed, each value named once.
			r = runCmd(t, nil, "status", "--app", app)
			if r.code != 0 {
				t.Fatalf("status: exit %d: %s", r.code, r.stderr)
			}
			mustContain(t, "status", r.stdout, "Total: 3 failed operation(s)", opC+".php (Failed at: unknown)", "\nWarnings\n", namedC, namedA)
			for _, n := range []string{namedC, namedA} {
				if strings.Count(r.stdout, n) != 1 {
					t.Errorf("status names %q %d times, want once:\n%s", n, strings.Count(r.stdout, n), r.stdout)
				}
			}
			r = runCmd(t, nil, "status", "--app", app, "--json")
			var snap check.Snapshot
			if err := json.Unmarshal([]byte(r.stdout), &snap); err != nil || len(snap.Unreadable) != 2 || snap.Counts.UnreadableRows != 2 || len(snap.Failed) != 3 {
				t.Errorf("status --json: %v, unreadable %+v (%d rows), %d failed; want 2 values and 3 failed", err, snap.Unreadable, snap.Counts.UnreadableRows, len(snap.Failed))
			}

			// The daemon: it reads, alerts every failure, and logs each
			// value once, across ticks and a restart.
			hook := newHookReceiver(t, time.Now)
			dir := t.TempDir()
			cfgPath := daemonConf{app: app, statePath: filepath.Join(dir, "state.json"), unreachableAfter: 1,
				channels: []string{hookChannel("hook", hook.url())}}.write(t, dir)
			var logs bytes.Buffer
			for restart := range 2 {
				tickDaemon(t, cfgPath, &logs, 2)
				if restart == 0 && hook.count() == 0 {
					t.Fatalf("the first ticks sent nothing:\n%s", logs.String())
				}
			}
			var failed []string
			for _, req := range hook.requests() {
				for _, ev := range members(req.Payload) {
					if ev.Event == "source.unreachable" {
						t.Errorf("the daemon counted the application unreachable:\n%s", logs.String())
					}
					for _, item := range append(ev.Events, ev) {
						if item.Event == "operation.failed" && item.Operation != nil {
							failed = append(failed, item.Operation.Name)
						}
					}
				}
			}
			for _, name := range []string{opA, opB, opC} {
				if !strings.Contains(strings.Join(failed, " "), name) {
					t.Errorf("no operation.failed for %s (sent about %v)", name, failed)
				}
			}
			log := logs.String()
			if n := strings.Count(log, "a time stamp cannot be read"); n != 2 {
				t.Errorf("the daemon logged %d unreadable values over four ticks and a restart, want each of the two once:\n%s", n, log)
			}
			for _, want := range []string{"id=" + ids[2] + " column=failed_at", "id=" + errA + " column=created_at"} {
				if strings.Count(log, want) != 1 {
					t.Errorf("the log names %q %d times, want once:\n%s", want, strings.Count(log, want), log)
				}
			}
			if strings.Contains(log, "cannot read the application") {
				t.Errorf("a tick failed to read:\n%s", log)
			}
		})
	}
}

// tickDaemon starts the daemon of the configuration at cfgPath (a new
// process, as after a restart), runs ticks ticks and stops it, logging
// (text, info) to logs.
func tickDaemon(t *testing.T, cfgPath string, logs io.Writer, ticks int) {
	t.Helper()
	e := env{stdout: io.Discard, stderr: logs, now: time.Now, getenv: func(string) string { return "" }}
	d, stop := runnertest.App(t, cfgPath, appDeps(e, runnertest.Logger(logs)))
	defer stop()
	for i := range ticks {
		if err := d.Tick(context.Background()); err != nil {
			t.Fatalf("tick %d: %v", i+1, err)
		}
	}
}
