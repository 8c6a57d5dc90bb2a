package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func sqliteExec(t *testing.T, app, query string) {
	t.Helper()
	if out, err := exec.Command("sqlite3", filepath.Join(app, "database", "database.sqlite"), query).CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v: %s", err, out)
	}
}

// healthyDemoApp is the sample application with its failures fixed.
func healthyDemoApp(t *testing.T) string {
	app := demoApp(t)
	sqliteExec(t, app, `insert into operations (name, type, state, executed_at, completed_at) values ('2024_01_13_120000_FailedOperation', 'sync', 'completed', '2026-03-14 15:00:00', '2026-03-14 15:00:09');
update operations set completed_at = '2026-03-14 15:00:00', state = 'completed' where completed_at is null and failed_at is null;
delete from deferred_operations;`)
	return app
}

func TestCheckExitCodesFollowMonitoringPlugins(t *testing.T) {
	failing := demoApp(t)
	healthy := healthyDemoApp(t)
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		code  int
		wants []string
	}{
		{"healthy is OK", []string{"--app", healthy}, nil, 0, []string{"SEQWATCH OK - no failed operations, 2 pending operations, 0 in progress | failed=0 pending=2 in_progress=0 stuck=0 pending_migrations=1 completed=6 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0\n"}},
		{"too many pending is WARNING", []string{"--app", healthy, "--max-pending", "1"}, nil, 1, []string{"SEQWATCH WARNING - 2 pending operations (more than 1) | failed=0 pending=2;1"}},
		{"pending at the threshold is OK", []string{"--app", healthy, "--max-pending", "2"}, nil, 0, []string{"SEQWATCH OK"}},
		{"stuck is WARNING", []string{"--app", failing, "--stuck-after", "1h"}, nil, 2, []string{"1 operation in progress longer than 1h00m (2024_01_14_120000_ImportLegacyOrders running for 2h00m)"}},
		{"failure is CRITICAL", []string{"--app", failing}, nil, 2, []string{
			"SEQWATCH CRITICAL - 1 failed operation (2024_01_13_120000_FailedOperation: QueryException: SQLSTATE[08006]",
			"1 deferred operation out of attempts (2024_01_16_140000_PurgeStaleCarts: Redis connection refused",
			"| failed=1 pending=5 in_progress=2 stuck=0 pending_migrations=1 completed=3 deferred_failed=1 unreadable_rows=0 scheduled=0 rolled_back=0\n"}},
		{"dsn from SEQWATCH_DSN", nil, map[string]string{"SEQWATCH_DSN": "sqlite://" + filepath.Join(failing, "database", "database.sqlite")}, 2, []string{"SEQWATCH CRITICAL"}},
		{"missing app is UNKNOWN", []string{"--app", "/nonexistent/app"}, nil, 3, []string{"SEQWATCH UNKNOWN - configuration: application directory /nonexistent/app: no such file or directory"}},
		{"nothing given is UNKNOWN", nil, nil, 3, []string{"SEQWATCH UNKNOWN", "--app DIR"}},
		{"bad flag is UNKNOWN", []string{"--bogus"}, nil, 3, nil},
		{"unreachable database is UNKNOWN", []string{"--dsn", "pgsql://seqwatch:hunter2-Sekr3t@127.0.0.1:1/app"}, nil, 3, []string{"SEQWATCH UNKNOWN - cannot connect to PostgreSQL at 127.0.0.1:1 (database \"app\", user \"seqwatch\"): connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.env, append([]string{"check"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			mustContain(t, "check output", r.stdout, tc.wants...)
			if tc.args != nil && r.stdout != "" && strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 {
				t.Errorf("check printed more than one line: %q", r.stdout)
			}
			if strings.Contains(r.stdout+r.stderr, "hunter2-Sekr3t") {
				t.Error("the password was printed")
			}
		})
	}
}

func TestCheckJSONCarriesTheSameVerdict(t *testing.T) {
	app := demoApp(t)
	r := runCmd(t, nil, "check", "--app", app, "--json", "--max-pending", "2")
	if r.code != 2 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var v struct {
		Status   string   `json:"status"`
		Code     int      `json:"code"`
		Problems []string `json:"problems"`
		Failing  []struct {
			Name string `json:"name"`
		} `json:"failing"`
		Perf []struct {
			Label string `json:"label"`
			Value int    `json:"value"`
			Warn  int    `json:"warn"`
		} `json:"perfdata"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if v.Status != "CRITICAL" || v.Code != 2 || len(v.Failing) != 1 || v.Failing[0].Name != "2024_01_13_120000_FailedOperation" {
		t.Errorf("verdict = %+v", v)
	}
	if len(v.Problems) != 3 {
		t.Errorf("problems = %q, want failure, deferred and pending", v.Problems)
	}
	if v.Perf[1].Label != "pending" || v.Perf[1].Value != 5 || v.Perf[1].Warn != 2 {
		t.Errorf("pending perfdata = %+v", v.Perf[1])
	}
}

// A hostile exception message cannot add lines or fake perfdata.
func TestCheckLineSurvivesHostileMessages(t *testing.T) {
	app := healthyDemoApp(t)
	sqliteExec(t, app, `insert into operations (name, type, state, executed_at, failed_at) values ('2024_01_17_150000_RecalculateLoyaltyPoints', 'sync', 'failed', '2026-03-14 15:01:00', '2026-03-14 15:01:01');
insert into operation_errors (operation_id, exception, message, trace, created_at) values ((select max(id) from operations), 'RuntimeException', 'boom | failed=0
SEQWATCH OK - all fine '||char(27)||'[2J', '#0 x', '2026-03-14 15:01:01');`)
	r := runCmd(t, nil, "check", "--app", app)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2: %s", r.code, r.stdout)
	}
	line := strings.TrimSuffix(r.stdout, "\n")
	if strings.ContainsAny(line, "\n\r\x1b") {
		t.Errorf("line holds control characters: %q", line)
	}
	if strings.Count(line, "|") != 1 || !strings.Contains(line, "| failed=1 ") {
		t.Errorf("perfdata was forged: %q", line)
	}
}

func TestSourceErrorsAreClearSentences(t *testing.T) {
	dir := t.TempDir()
	noEnv := filepath.Join(dir, "noenv")
	os.MkdirAll(noEnv, 0o755)
	sqlsrv := filepath.Join(dir, "sqlsrv")
	os.MkdirAll(sqlsrv, 0o755)
	os.WriteFile(filepath.Join(sqlsrv, ".env"), []byte("DB_CONNECTION=sqlsrv\n"), 0o644)
	noTables := filepath.Join(dir, "notables")
	os.MkdirAll(filepath.Join(noTables, "database"), 0o755)
	os.WriteFile(filepath.Join(noTables, ".env"), []byte("DB_CONNECTION=sqlite\n"), 0o644)
	sqliteExec(t, noTables, "create table users (id integer)")
	badTZ := filepath.Join(dir, "badtz")
	os.MkdirAll(badTZ, 0o755)
	os.WriteFile(filepath.Join(badTZ, ".env"), []byte("DB_CONNECTION=sqlite\nAPP_TIMEZONE=Mars/Olympus\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing .env", []string{"--app", noEnv}, noEnv + "/.env does not exist: point --app at the Laravel application root"},
		{"unsupported driver", []string{"--app", sqlsrv}, `database driver "sqlsrv" (SQL Server) is not supported`},
		{"missing tables", []string{"--app", noTables}, "table operations, operation_errors, migrations not found in SQLite database " + noTables + "/database/database.sqlite: has Sequencer been installed and have its migrations run"},
		{"missing sqlite file", []string{"--dsn", "sqlite:///nonexistent/db.sqlite"}, "SQLite database /nonexistent/db.sqlite does not exist"},
		{"unknown time zone", []string{"--app", badTZ}, `unknown time zone "Mars/Olympus"`},
		{"malformed url", []string{"--dsn", "mysql://user:p%zz@host/db"}, "database URL for MySQL is malformed"},
		{"no scheme", []string{"--dsn", "just-a-host"}, "database URL must look like pgsql://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, append([]string{"status"}, tc.args...)...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			mustContain(t, "stderr", r.stderr, tc.want)
			if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("error is not one line: %q", r.stderr)
			}
			if strings.Contains(r.stderr, "p%zz") || strings.Contains(r.stderr, "goroutine") {
				t.Errorf("stderr leaks a password or a stack: %q", r.stderr)
			}
		})
	}
}
