package layering

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const module = "github.com/seqwatch/seqwatch"

// drivers are the database drivers and database/sql: only the reader,
// the shared state store and the commands may have them.
var drivers = []string{"database/sql", "github.com/jackc/pgx", "github.com/go-sql-driver/mysql", "modernc.org/sqlite"}

// TestEachPackageDependsOnlyOnWhatItMay: the arrows of the data flow
// (laravel → reader → check → alerting → state → notify) run one way, the
// channels carry no database, and the leaves stay leaves. A package
// forbidden here is forbidden with everything below it.
func TestEachPackageDependsOnlyOnWhatItMay(t *testing.T) {
	rules := []struct {
		pattern   string
		forbidden []string
	}{
		// The model and the rules: no I/O.
		{"./check", append([]string{"github.com/olekukonko/tablewriter", module + "/notify", module + "/internal/reader", module + "/internal/laravel",
			module + "/internal/render", module + "/state", module + "/internal/web", module + "/internal/heartbeat", module + "/internal/metrics",
			module + "/internal/dbtest", module + "/cmd"}, drivers...)},
		// Resolving an application does not read it.
		{"./internal/laravel", append([]string{module + "/internal/reader", module + "/internal/render", module + "/state", module + "/cmd"}, drivers...)},
		// The daemon's state is apart from the database it watches.
		{"./state", append([]string{module + "/notify", module + "/internal/alerting", module + "/internal/reader", module + "/internal/laravel", module + "/internal/render",
			module + "/internal/web", module + "/internal/heartbeat", module + "/internal/metrics", module + "/cmd"}, drivers...)},
		// What is read is judged, rendered and alerted on elsewhere.
		{"./internal/reader", []string{module + "/state", module + "/notify", module + "/internal/render", module + "/internal/daemon", module + "/cmd"}},
		// The state's database, never the application's.
		{"./internal/pgstate", []string{module + "/internal/reader", module + "/internal/laravel", module + "/notify", module + "/internal/daemon", module + "/cmd"}},
		// Drawing the status reads nothing of the daemon's.
		{"./internal/render", []string{module + "/state", module + "/notify", module + "/internal/daemon", module + "/cmd"}},
		// The diff of problems against the state does no I/O.
		{"./internal/alerting", append([]string{module + "/internal/reader", module + "/internal/laravel", module + "/notify/", module + "/cmd"}, drivers...)},
		// Every channel and the notify core: a receiver that imports
		// notify/webhook must not carry seqwatch's databases.
		{"./notify/...", append([]string{module + "/check", module + "/internal/reader", module + "/internal/laravel", module + "/internal/render",
			module + "/state", module + "/cmd", "github.com/olekukonko/tablewriter"}, drivers...)},
		{"./notify/webhook/testdata/verify", append([]string{module + "/check", module + "/internal/reader", module + "/state"}, drivers...)},
		// The daemon's loop takes its channels built.
		{"./internal/daemon", []string{module + "/notify/slack", module + "/notify/email", module + "/notify/webhook", module + "/notify/alertmanager",
			module + "/notify/discord", module + "/notify/teams", module + "/notify/googlechat", module + "/notify/ntfy",
			module + "/notify/telegram", module + "/notify/pagerduty", module + "/notify/opsgenie", module + "/cmd"}},
		// The deploy gate reads and judges; it is given its mute and its
		// report as interfaces: no state, no channels, no daemon.
		{"./internal/gate", []string{module + "/state", module + "/notify", module + "/internal/render", module + "/internal/alerting",
			module + "/internal/daemon", module + "/internal/web", module + "/internal/config", module + "/cmd"}},
		// The page and its API get a view model: no model, reader,
		// channels or state.
		{"./internal/web", append([]string{module + "/check", module + "/internal/reader", module + "/notify", module + "/state", module + "/cmd"}, drivers...)},
		// The daemon's observers take their channels built (the reader's
		// error types only name a failed read).
		{"./internal/observe", []string{module + "/cmd", module + "/notify/"}},
		// The heartbeat and the metrics get plain strings and numbers.
		{"./internal/heartbeat", append([]string{module + "/check", module + "/internal/reader", module + "/notify", module + "/state", module + "/cmd"}, drivers...)},
		{"./internal/metrics", []string{module + "/"}},
		// The configuration says what the file means: it reads no
		// database and runs nothing.
		{"./internal/config", append([]string{module + "/internal/reader", module + "/internal/daemon", module + "/internal/render",
			module + "/internal/pgstate", module + "/internal/dbtest", module + "/cmd"}, drivers...)},
		// Where the state is kept: not the application's database, nor
		// the daemon.
		{"./internal/statestore", []string{module + "/internal/reader", module + "/internal/render", module + "/internal/daemon",
			module + "/cmd", "github.com/go-sql-driver/mysql", "modernc.org/sqlite"}},
		// The daemon's set-up from a configuration file sits above the
		// daemon and the configuration, beneath the commands; the tests'
		// kits stay out of the binary.
		{"./internal/runner", []string{module + "/cmd", module + "/internal/testkit", module + "/internal/dbtest"}},
		// Mutes are made and listed from the configuration and the state,
		// beneath the daemon.
		{"./internal/mutes", []string{module + "/internal/daemon", module + "/internal/render", module + "/cmd"}},
		// The demo's sample application is files and SQLite rows; its
		// tour runs the stages in memory and prints on the console, with
		// no configuration, stored state or daemon.
		{"./internal/demo", []string{module + "/internal/config", module + "/internal/statestore", module + "/internal/pgstate",
			module + "/internal/daemon", module + "/internal/web", module + "/notify/", module + "/cmd"}},
		// The deploy's mute and report on seqwatch's configuration: no
		// daemon, no drawing.
		{"./internal/deploy", []string{module + "/internal/daemon", module + "/internal/render", module + "/cmd"}},
		// What the binary says about itself needs only the state's
		// versions.
		{"./internal/buildinfo", append([]string{module + "/notify", module + "/internal/config", module + "/internal/reader", module + "/internal/laravel",
			module + "/internal/daemon", module + "/internal/statestore", module + "/cmd"}, "github.com/go-sql-driver/mysql", "modernc.org/sqlite")},
		// Reading a command line is a leaf.
		{"./internal/cli", []string{module + "/"}},
		// Schedules are parsed and measured in one leaf, and the one real
		// sleep every stage shares is another.
		{"./internal/schedule", []string{module + "/"}},
		{"./internal/pause", []string{module + "/"}},
		// The text toolkit and the tests' error assertions are leaves.
		{"./internal/text", []string{module + "/"}},
		// The event vocabulary and secrets sit beneath every stage.
		{"./internal/event", []string{module + "/"}},
		{"./internal/secret", []string{module + "/"}},
		{"./internal/errtest", []string{module + "/"}},
		// The documentation's tests hold no code of their own.
		{"./internal/docs", []string{module + "/"}},
		// The tests' kit is a leaf too, and the binary carries no test
		// support.
		{"./internal/testkit/...", []string{module + "/"}},
		// The database harness is beneath check, whose own in-package
		// tests use it: of seqwatch it takes only the test kit.
		{"./internal/dbtest", []string{module + "/check", module + "/state", module + "/notify", module + "/internal/event",
			module + "/internal/text", module + "/internal/laravel", module + "/internal/reader"}},
		// A daemon in a test takes its channels built, as the daemon does.
		{"./internal/daemon/daemontest", []string{module + "/notify/slack", module + "/notify/email", module + "/notify/webhook",
			module + "/notify/pagerduty", module + "/notify/opsgenie", module + "/notify/telegram", module + "/cmd"}},
		{"./cmd/...", []string{module + "/internal/testkit", module + "/internal/dbtest", module + "/internal/runner/runnertest", module + "/internal/daemon/daemontest"}},
	}
	for _, r := range rules {
		t.Run(r.pattern, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "go", "list", "-deps", r.pattern)
			cmd.Dir = "../.."
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", r.pattern, err)
			}
			deps := strings.Fields(string(out))
			if len(deps) == 0 {
				t.Fatal("go list -deps listed nothing")
			}
			self := module + "/" + strings.TrimSuffix(strings.TrimPrefix(r.pattern, "./"), "/...")
			tree := strings.HasSuffix(r.pattern, "/...")
			for _, d := range deps {
				if d == self || (tree && strings.HasPrefix(d, self+"/")) {
					continue // the package itself (and, for a pattern, its own)
				}
				for _, bad := range r.forbidden {
					if d == bad || strings.HasPrefix(d, strings.TrimSuffix(bad, "/")+"/") {
						t.Errorf("%s depends on %s", r.pattern, d)
					}
				}
			}
		})
	}
}

// testKits are the packages that only tests use.
var testKits = []string{module + "/internal/testkit", module + "/internal/dbtest", module + "/internal/errtest",
	module + "/internal/runner/runnertest", module + "/internal/daemon/daemontest", module + "/notify/internal/notifytest"}

// TestOnlyTestsUseTheTestKits: no package of the module but the kits
// themselves (and the benchmarks, which are tests) depends on a test kit,
// so that the binary and a program that imports a channel carry none.
func TestOnlyTestsUseTheTestKits(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 20 {
		t.Fatalf("go list ./... listed only %d packages", len(lines))
	}
	isKit := func(p string) bool {
		for _, k := range testKits {
			if p == k || strings.HasPrefix(p, k+"/") {
				return true
			}
		}
		return false
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg := fields[0]
		if isKit(pkg) || strings.HasPrefix(pkg, module+"/bench") {
			continue
		}
		for _, d := range fields[1:] {
			if isKit(d) {
				t.Errorf("%s depends on the test kit %s", pkg, d)
			}
		}
	}
}

// goListDeps lists the packages pattern depends on, itself included.
func goListDeps(t *testing.T, pattern string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", pattern)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pattern, err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatalf("go list -deps %s listed nothing", pattern)
	}
	return deps
}

// TestNotifyCoreDependsOnlyOnTheLeaves: of seqwatch, the notify core takes
// only the leaves its doc comment names, so that every channel, and a
// receiver that imports one, carries no stage before delivery.
func TestNotifyCoreDependsOnlyOnTheLeaves(t *testing.T) {
	leaves := map[string]bool{module + "/notify": true, module + "/internal/event": true, module + "/internal/secret": true,
		module + "/internal/text": true, module + "/internal/pause": true}
	for _, d := range goListDeps(t, "./notify") {
		if strings.HasPrefix(d, module+"/") && !leaves[d] {
			t.Errorf("the notify core depends on %s, beyond internal/event, internal/secret, internal/text and internal/pause", d)
		}
	}
}

// TestChatChannelsDependOnlyOnTheNotifyCore: the channels that post to a
// chat service, a phone or a pager take nothing beyond what the notify
// core already depends on (internal/text, internal/event, internal/secret
// and the core's own modules) except the standard library: no other
// channel, no client library, nothing of the stages before them.
func TestChatChannelsDependOnlyOnTheNotifyCore(t *testing.T) {
	core := map[string]bool{}
	for _, d := range goListDeps(t, "./notify") {
		core[d] = true
	}
	for _, pattern := range []string{"./notify/discord", "./notify/teams", "./notify/googlechat", "./notify/ntfy",
		"./notify/telegram", "./notify/pagerduty", "./notify/opsgenie"} {
		t.Run(pattern, func(t *testing.T) {
			self := module + "/" + strings.TrimPrefix(pattern, "./")
			for _, d := range goListDeps(t, pattern) {
				first, _, _ := strings.Cut(d, "/")
				if d == self || core[d] || !strings.Contains(first, ".") {
					continue // itself, the core's, or the standard library
				}
				t.Errorf("%s depends on %s, which the notify core does not", pattern, d)
			}
		})
	}
}
