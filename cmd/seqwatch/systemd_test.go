package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// systemdDir holds the shipped unit files, relative to this package.
const systemdDir = "../../systemd"

// maxSystemdExposure is the highest overall exposure level
// `systemd-analyze security` may give the services (0 best, 10 worst).
const maxSystemdExposure = 2.0

// systemdUnit maps "Section.Key" to every value assigned to it, in order,
// as systemd reads a unit file: repeated keys accumulate (and an empty
// assignment resets, which the tests look at directly).
type systemdUnit map[string][]string

// parseSystemdUnit reads a unit file: [Section] headers, Key=Value lines,
// # and ; comments, and lines continued with a trailing backslash.
func parseSystemdUnit(t *testing.T, path string) systemdUnit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open unit: %v", err)
	}
	defer f.Close()
	u := systemdUnit{}
	section := ""
	pending := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s:%d: not a [Section] or Key=Value line: %q", path, n, line)
		}
		k := section + "." + strings.TrimSpace(key)
		u[k] = append(u[k], strings.TrimSpace(value))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read unit: %v", err)
	}
	return u
}

// last is the value systemd ends up with for a single-valued key.
func (u systemdUnit) last(key string) (string, bool) {
	v := u[key]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

func TestSystemdServiceHasTheEssentials(t *testing.T) {
	for _, name := range []string{"seqwatch.service", "seqwatch-once.service"} {
		t.Run(name, func(t *testing.T) {
			u := parseSystemdUnit(t, filepath.Join(systemdDir, name))
			want := map[string]string{
				"Service.StateDirectory":          "seqwatch",
				"Service.NoNewPrivileges":         "yes",
				"Service.ProtectSystem":           "strict",
				"Service.PrivateTmp":              "yes",
				"Service.CapabilityBoundingSet":   "",
				"Service.AmbientCapabilities":     "",
				"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
				"Service.MemoryDenyWriteExecute":  "yes",
				"Service.UMask":                   "0077",
			}
			if name == "seqwatch.service" {
				want["Service.Type"] = "notify"
				want["Service.NotifyAccess"] = "main"
				want["Service.Restart"] = "on-failure"
				want["Install.WantedBy"] = "multi-user.target"
			} else {
				want["Service.Type"] = "oneshot"
				want["Unit.Conflicts"] = "seqwatch.service"
			}
			for key, v := range want {
				got, ok := u.last(key)
				if !ok {
					t.Errorf("%s is not set (want %q)", key, v)
				} else if got != v {
					t.Errorf("%s=%s, want %q", key, got, v)
				}
			}

			// The network must stay reachable (database, Slack, SMTP).
			for _, key := range []string{"Service.PrivateNetwork", "Service.IPAddressDeny"} {
				if v, ok := u.last(key); ok && v != "" && v != "no" {
					t.Errorf("%s=%s cuts seqwatch off from its database and channels", key, v)
				}
			}

			execStart, _ := u.last("Service.ExecStart")
			args := strings.Fields(execStart)
			if len(args) < 4 || filepath.Base(args[0]) != "seqwatch" || args[1] != "run" || !slices.Contains(args[2:], "--config") {
				t.Errorf("ExecStart=%s, want seqwatch run --config FILE", execStart)
			}
			if once := slices.Contains(args, "--once"); once != (name == "seqwatch-once.service") {
				t.Errorf("ExecStart=%s: --once present = %v", execStart, once)
			}
		})
	}
}

func TestSystemdTimerStartsTheOneShotService(t *testing.T) {
	u := parseSystemdUnit(t, filepath.Join(systemdDir, "seqwatch.timer"))
	for key, want := range map[string]string{
		"Timer.Unit":            "seqwatch-once.service",
		"Timer.OnBootSec":       "2min",
		"Timer.OnUnitActiveSec": "1min",
		"Install.WantedBy":      "timers.target",
	} {
		if got, _ := u.last(key); got != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
}

// exposureLine is the summary line of `systemd-analyze security`:
// "→ Overall exposure level for seqwatch.service: 1.1 OK 🙂".
var exposureLine = regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+(?:\.[0-9]+)?)`)

func TestSystemdServiceExposureIsLow(t *testing.T) {
	analyze := testkit.RequireBinary(t, "systemd-analyze")
	for _, name := range []string{"seqwatch.service", "seqwatch-once.service"} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(analyze, "security", "--offline=true", "./"+name)
			cmd.Dir = systemdDir
			out, err := cmd.CombinedOutput()
			m := exposureLine.FindSubmatch(out)
			if m == nil {
				t.Fatalf("no overall exposure level in the output (err %v):\n%s", err, out)
			}
			score, err := strconv.ParseFloat(string(m[1]), 64)
			if err != nil {
				t.Fatalf("exposure %q: %v", m[1], err)
			}
			t.Logf("%s: overall exposure %.1f", name, score)
			if score > maxSystemdExposure {
				t.Errorf("overall exposure %.1f, want at most %.1f:\n%s", score, maxSystemdExposure, out)
			}
		})
	}
}
