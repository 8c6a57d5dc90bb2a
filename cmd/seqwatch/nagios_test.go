package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/demo"
	"github.com/seqwatch/seqwatch/internal/testkit"
)

// nagiosBin finds Nagios 4 (Debian: nagios4-core), or skips the test
// (fails it under CI).
func nagiosBin(t *testing.T) string {
	t.Helper()
	return testkit.RequireBinary(t, "nagios4", "/usr/sbin/nagios4", "nagios", "/usr/sbin/nagios", "/usr/local/nagios/bin/nagios")
}

// nagiosService is one service Nagios runs seqwatch for.
type nagiosService struct {
	name string
	args []string
}

// monitoringUser is who Nagios and Icinga 2 run as: the "nagios" user
// (Debian's packages create it) when the test runs as root, since both
// refuse to keep root or drop it themselves (which would clear the
// parent-death signal); the current user otherwise. cred is nil when no
// switch is needed.
func monitoringUser(t *testing.T) (cred *syscall.Credential, userName, groupName string) {
	t.Helper()
	var u *user.User
	var err error
	if os.Geteuid() == 0 {
		if u, err = user.Lookup("nagios"); err != nil {
			testkit.Missing(t, "running as root and there is no nagios user to run the monitoring system as (apt-get install nagios4-core creates it): %v", err)
		}
	} else if u, err = user.Current(); err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return cred, u.Username, g.Name
}

// chownTree gives dir to the user the monitoring system runs as.
func chownTree(t *testing.T, dir string, cred *syscall.Credential) {
	t.Helper()
	if cred == nil {
		return
	}
	err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startDaemon starts a monitoring daemon in its own process group and
// stops the group when the test ends. exited is closed when it exits.
func startDaemon(t *testing.T, dir string, cred *syscall.Credential, bin string, args ...string) (exited <-chan struct{}, logPath string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logPath = filepath.Join(dir, "daemon.out")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// The daemon, its workers and any check in flight share its
		// process group, which belongs to this test alone.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	return done, logPath
}

// runNagios runs a real Nagios 4 with a minimal configuration in its own
// directory, executing seqwatch as the check command of each service, until
// every service has been checked once, and returns each service's status
// as Nagios recorded it in status.dat.
func runNagios(t *testing.T, dir string, services []nagiosService) map[string]map[string]string {
	t.Helper()
	bin := nagiosBin(t)
	cred, userName, groupName := monitoringUser(t)

	if err := os.Mkdir(filepath.Join(dir, "checkresults"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`log_file=%[1]s/nagios.log
cfg_file=%[1]s/objects.cfg
object_cache_file=%[1]s/objects.cache
precached_object_file=%[1]s/objects.precache
status_file=%[1]s/status.dat
status_update_interval=1
nagios_user=%[2]s
nagios_group=%[3]s
check_external_commands=0
command_file=%[1]s/nagios.cmd
query_socket=%[1]s/nagios.qh
lock_file=%[1]s/nagios.pid
temp_file=%[1]s/nagios.tmp
temp_path=%[1]s
check_result_path=%[1]s/checkresults
retain_state_information=0
state_retention_file=%[1]s/retention.dat
use_syslog=0
interval_length=1
service_inter_check_delay_method=n
host_inter_check_delay_method=n
check_result_reaper_frequency=1
enable_notifications=0
enable_flap_detection=0
check_for_updates=0
execute_host_checks=0
service_check_timeout=60
illegal_macro_output_chars=`+"`"+`~$&|'"<>
`, dir, userName, groupName)
	var objects strings.Builder
	objects.WriteString(`define timeperiod {
  timeperiod_name always
  alias always
  sunday 00:00-24:00
  monday 00:00-24:00
  tuesday 00:00-24:00
  wednesday 00:00-24:00
  thursday 00:00-24:00
  friday 00:00-24:00
  saturday 00:00-24:00
}
define command {
  command_name noop
  command_line /bin/true
}
define contact {
  contact_name nobody
  host_notifications_enabled 0
  service_notifications_enabled 0
  host_notification_period always
  service_notification_period always
  host_notification_options n
  service_notification_options n
  host_notification_commands noop
  service_notification_commands noop
}
define host {
  host_name seqwatch
  address 127.0.0.1
  check_command noop
  max_check_attempts 1
  check_period always
  notification_period always
  contacts nobody
}
`)
	for _, s := range services {
		// Nagios runs command lines without a shell when they hold no shell
		// metacharacters; the arguments here hold none.
		fmt.Fprintf(&objects, `define command {
  command_name seqwatch_%[1]s
  command_line %[2]s/seqwatch %[3]s
}
define service {
  host_name seqwatch
  service_description %[1]s
  check_command seqwatch_%[1]s
  max_check_attempts 1
  check_interval 3600
  retry_interval 3600
  check_period always
  notification_period always
  contacts nobody
}
`, s.name, dir, strings.Join(s.args, " "))
	}
	for name, content := range map[string]string{"nagios.cfg": cfg, "objects.cfg": objects.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chownTree(t, dir, cred)
	validate := exec.Command(bin, "-v", filepath.Join(dir, "nagios.cfg"))
	validate.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("nagios -v: %v\n%s", err, out)
	}
	exited, logPath := startDaemon(t, dir, cred, bin, filepath.Join(dir, "nagios.cfg"))

	var status map[string]map[string]string
	testkit.Eventually(t, processBound, "nagios checks every service", func() (bool, string) {
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			t.Fatalf("nagios exited early:\n%s", out)
		default:
		}
		status = readNagiosStatus(t, filepath.Join(dir, "status.dat"))
		for _, s := range services {
			if status[s.name]["has_been_checked"] != "1" {
				out, _ := os.ReadFile(logPath)
				log, _ := os.ReadFile(filepath.Join(dir, "nagios.log"))
				return false, fmt.Sprintf("%s not checked yet:\n%s\n%s", s.name, out, log)
			}
		}
		return true, ""
	})
	return status
}

// readNagiosStatus parses the servicestatus blocks of Nagios's status.dat,
// keyed by service description. A missing file is an empty map: Nagios
// writes it a moment after it starts.
func readNagiosStatus(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	defer f.Close()
	all := map[string]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "servicestatus {":
			cur = map[string]string{}
		case line == "}":
			if cur != nil {
				all[cur["service_description"]] = cur
			}
			cur = nil
		case cur != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				cur[k] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

// pluginDir is a directory a monitoring system's user can read: a copy of
// the seqwatch binary, and the sample application with a failure whose
// message is hostile. It returns the directory and the services to run.
func pluginDir(t *testing.T) (string, []nagiosService) {
	t.Helper()
	dir, err := os.MkdirTemp("", "seqwatch-monitor-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(buildBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "seqwatch"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(dir, "app")
	if err := demo.WriteApp(context.Background(), app, demoNow); err != nil {
		t.Fatal(err)
	}
	sqliteExec(t, app, `insert into operations (name, type, state, executed_at, failed_at) values ('2024_01_17_150000_RecalculateLoyaltyPoints', 'sync', 'failed', '2026-03-14 15:01:00', '2026-03-14 15:01:01');
insert into operation_errors (operation_id, exception, message, trace, created_at) values ((select max(id) from operations), 'RuntimeException', 'click <https://evil.example|here>; then a; b | failed=0
SEQWATCH OK - fine', '#0 x', '2026-03-14 15:01:01');`)
	// Several applications in one configuration: one line, the worst
	// status, performance data labelled per application.
	blog := filepath.Join(dir, "blog")
	if err := demo.WriteApp(context.Background(), blog, demoNow); err != nil {
		t.Fatal(err)
	}
	sqliteExec(t, blog, `delete from operation_errors; delete from operations where failed_at is not null; delete from deferred_operations;`)
	several := filepath.Join(dir, "several.yaml")
	conf := "thresholds: {max_pending: 10}\napps:\n  - name: shop\n    app: " + app + "\n  - name: blog\n    app: " + blog + "\n"
	if err := os.WriteFile(several, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, []nagiosService{
		{"usage", []string{"check", "--max-pending", "ten"}},
		{"unknown_flag", []string{"check", "--max-pendin", "10"}},
		{"hostile", []string{"check", "--app", app, "--max-pending", "1"}},
		{"several", []string{"check", "--config", several}},
	}
}

// recorded is what a monitoring system recorded for one service.
type recorded struct {
	state, output, perfdata string
}

// wantRecordedAsPrinted compares what the monitoring system recorded for
// each service with what seqwatch prints when run directly. rewrite is the
// monitoring system's own rewriting of plugin output (Nagios turns ';'
// into ':'), which may touch the database's text but none of seqwatch's
// separators.
func wantRecordedAsPrinted(t *testing.T, services []nagiosService, got map[string]recorded, rewrite func(string) string) {
	t.Helper()
	for _, s := range services {
		t.Run(s.name, func(t *testing.T) {
			got := got[s.name]
			direct := runSeqwatch(t, s.args...)
			summary, perf, _ := strings.Cut(strings.TrimSuffix(direct.stdout, "\n"), " | ")
			if want := strconv.Itoa(direct.code); got.state != want {
				t.Errorf("recorded state %s, want %s (seqwatch's exit status)", got.state, want)
			}
			if want := rewrite(summary); got.output != want {
				t.Errorf("recorded output\n%q\nseqwatch printed\n%q", got.output, want)
			}
			if got.perfdata != perf {
				t.Errorf("recorded performance data %q, seqwatch printed %q", got.perfdata, perf)
			}
			switch s.name {
			case "usage", "unknown_flag":
				if got.state != "3" || !strings.HasPrefix(got.output, "SEQWATCH UNKNOWN - usage: ") || strings.Contains(got.output, "\n") || got.perfdata != "" {
					t.Errorf("a usage error was recorded as state %s, output %q, performance data %q", got.state, got.output, got.perfdata)
				}
			case "several":
				if got.state != "2" || !strings.Contains(got.output, "shop CRITICAL: ") || !strings.HasSuffix(got.output, "OK: blog") ||
					!strings.HasPrefix(got.perfdata, "shop_failed=2 shop_pending=5;10 ") || !strings.Contains(got.perfdata, " blog_failed=0 blog_pending=5;10 ") {
					t.Errorf("several applications recorded as state %s, output %q, performance data %q", got.state, got.output, got.perfdata)
				}
			case "hostile":
				if got.state != "2" || !strings.Contains(got.output, " / ") || strings.Count(got.output, " -- ") != 2 {
					t.Errorf("want CRITICAL with two failures and three problems, got state %s: %q", got.state, got.output)
				}
				if strings.Contains(got.output, "evil.example/") || strings.Contains(got.output, "\n") {
					t.Errorf("hostile text changed meaning: %q", got.output)
				}
				if !strings.HasPrefix(got.perfdata, "failed=2 pending=5;1 ") {
					t.Errorf("performance data %q", got.perfdata)
				}
			}
		})
	}
}

// Nagios 4 itself runs seqwatch check as a service check: a mistyped flag
// is recorded as UNKNOWN with seqwatch's one line and no performance data,
// and a failure whose message is hostile is recorded with the summary and
// the performance data exactly as seqwatch printed them, its separators
// untouched and no link made out of the message.
func TestNagiosRecordsWhatCheckPrints(t *testing.T) {
	nagiosBin(t)
	dir, services := pluginDir(t)
	status := runNagios(t, dir, services)
	got := map[string]recorded{}
	for _, s := range services {
		st := status[s.name]
		if st["long_plugin_output"] != "" {
			t.Errorf("%s: long_plugin_output %q: seqwatch printed more than one line", s.name, st["long_plugin_output"])
		}
		got[s.name] = recorded{state: st["current_state"], output: st["plugin_output"], perfdata: st["performance_data"]}
	}
	wantRecordedAsPrinted(t, services, got, func(s string) string { return strings.ReplaceAll(s, ";", ":") })
}
