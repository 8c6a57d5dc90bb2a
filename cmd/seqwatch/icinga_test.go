package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// icingaBin finds Icinga 2 (Debian: icinga2-bin), or skips the test
// (fails it under CI).
func icingaBin(t *testing.T) string {
	t.Helper()
	return testkit.RequireBinary(t, "icinga2", "/usr/sbin/icinga2")
}

// Icinga 2 itself runs seqwatch check as a service check. It adds standard
// error to the plugin output and sends the performance data it parses to
// Graphite and the like; its PerfdataWriter records both as it would send
// them. A mistyped flag must be one UNKNOWN line with no performance data,
// and a hostile failure exactly what seqwatch printed.
func TestIcinga2RecordsWhatCheckPrints(t *testing.T) {
	bin := icingaBin(t)
	dir, services := pluginDir(t)
	cred, userName, groupName := monitoringUser(t)
	for _, sub := range []string{"data", "log", "cache", "spool", "run"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spool := filepath.Join(dir, "spool")
	var conf strings.Builder
	// Fields are separated by tabs and records start with "SERVICE::", so
	// that a multi-line output (which the old seqwatch produced) is still
	// one record.
	fmt.Fprintf(&conf, `object CheckerComponent "checker" { }
object PerfdataWriter "perfdata" {
  service_perfdata_path = %[1]q
  service_temp_path = %[2]q
  host_perfdata_path = %[3]q
  host_temp_path = %[4]q
  service_format_template = "SERVICE::$service.name$\tSTATE::$service.state_id$\tOUTPUT::$service.output$\tPERF::$service.perfdata$\tEND::"
  rotation_interval = 1s
}
object CheckCommand "noop" { command = [ "/bin/true" ] }
object Host "seqwatch" {
  check_command = "noop"
  enable_active_checks = false
}
`, filepath.Join(spool, "service-perfdata"), filepath.Join(spool, "service-perfdata.tmp"),
		filepath.Join(spool, "host-perfdata"), filepath.Join(spool, "host-perfdata.tmp"))
	for _, s := range services {
		args := []string{fmt.Sprintf("%q", filepath.Join(dir, "seqwatch"))}
		for _, a := range s.args {
			args = append(args, fmt.Sprintf("%q", a))
		}
		// A short interval: Icinga 2 schedules the first check at a random
		// point within it.
		fmt.Fprintf(&conf, `object CheckCommand "seqwatch_%[1]s" { command = [ %[2]s ] }
object Service %[1]q {
  host_name = "seqwatch"
  check_command = "seqwatch_%[1]s"
  check_interval = 1s
  retry_interval = 1s
  max_check_attempts = 1
}
`, s.name, strings.Join(args, ", "))
	}
	confPath := filepath.Join(dir, "icinga2.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	chownTree(t, dir, cred)
	args := []string{"-c", confPath,
		"-DConfigDir=" + dir, "-DDataDir=" + filepath.Join(dir, "data"), "-DLogDir=" + filepath.Join(dir, "log"),
		"-DCacheDir=" + filepath.Join(dir, "cache"), "-DSpoolDir=" + spool, "-DInitRunDir=" + filepath.Join(dir, "run"),
		"-DRunAsUser=" + userName, "-DRunAsGroup=" + groupName}
	validate := exec.Command(bin, append([]string{"daemon", "-C"}, args...)...)
	validate.Dir = dir
	validate.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("icinga2 daemon -C: %v\n%s", err, out)
	}
	exited, logPath := startDaemon(t, dir, cred, bin, append([]string{"daemon"}, args...)...)

	var got map[string]recorded
	testkit.Eventually(t, processBound, "icinga2 checks every service", func() (bool, string) {
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			t.Fatalf("icinga2 exited early:\n%s", out)
		default:
		}
		got = readIcingaPerfdata(t, spool)
		for _, s := range services {
			if _, ok := got[s.name]; !ok {
				out, _ := os.ReadFile(logPath)
				return false, fmt.Sprintf("no record of %s yet; icinga2's log:\n%s", s.name, out)
			}
		}
		return true, ""
	})
	wantRecordedAsPrinted(t, services, got, func(s string) string { return s })
}

// readIcingaPerfdata reads the rotated PerfdataWriter files in spool and
// returns the first record of each service.
func readIcingaPerfdata(t *testing.T, spool string) map[string]recorded {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(spool, "service-perfdata.*"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]recorded{}
	for _, f := range files {
		if strings.HasSuffix(f, ".tmp") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range strings.Split(string(data), "SERVICE::")[1:] {
			name, rest, _ := strings.Cut(rec, "\tSTATE::")
			state, rest, _ := strings.Cut(rest, "\tOUTPUT::")
			output, rest, _ := strings.Cut(rest, "\tPERF::")
			perf, _, complete := strings.Cut(rest, "\tEND::")
			if _, seen := got[name]; !seen && complete {
				// Icinga 2 keeps the space before the '|' in the output.
				got[name] = recorded{state: state, output: strings.TrimSuffix(output, " "), perfdata: perf}
			}
		}
	}
	return got
}
