// Command seqwatch watches Laravel applications that use Sequencer: it
// shows their status, checks them for monitoring systems and CI gates, and
// runs as a daemon that alerts on failed, stuck and piling-up operations.
//
// It holds one file per command, the flags, the signals, the exit codes
// and the advice, and wires the packages together: what seqwatch.yaml
// means is internal/config's. The library packages' errors say what is
// wrong, and advice.go adds what to do in the terms of the command that
// met them (flags, configuration keys or .env variables).
// It may import every seqwatch package; it must not import internal/dbtest
// outside tests, and nothing imports it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `seqwatch watches Laravel applications that use Sequencer.

Usage:
  seqwatch demo                       try seqwatch on a built-in sample application
  seqwatch status [flags]             pending, in-progress, completed and failed work
  seqwatch check [flags]              one line and a monitoring-plugin exit code
  seqwatch wait [flags]               wait until Sequencer's work since a moment is really done (a deploy gate)
  seqwatch deploy [flags] -- COMMAND  run a deploy step muted, then wait for its work; exit as it went
  seqwatch run --config FILE          the alerting daemon
  seqwatch notify test --config FILE  send a test alert through each channel
  seqwatch notify preview --config F  what each channel would send (sends nothing)
  seqwatch outbox list --config FILE  undelivered alerts and dead letters (retry ID|all, drop ID|all, enable CHANNEL)
  seqwatch mute --config FILE --for D mute alerts for a deploy (--list; unmute ID|--all)
  seqwatch validate --config FILE     check a configuration file
  seqwatch state check --config FILE  what this seqwatch would upgrade in the state (changes nothing)
  seqwatch version [--json]           version, commit, build date, Go and state versions

Where the application is (for status, check, wait, deploy):
  --app DIR      Laravel application root (reads DIR/.env, database/operations, database/migrations)
  --dsn URL      database URL (pgsql://, mysql://, mariadb://, sqlite:///path); or SEQWATCH_DSN
  --config FILE  seqwatch.yaml; flags override the file, the file overrides .env

Run "seqwatch COMMAND -h" for a command's flags and exit codes.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is what a command may read from its surroundings; tests pass their own.
type env struct {
	stdout, stderr io.Writer
	// stdin is what a wrapped command (deploy) reads; nil: nothing.
	stdin  io.Reader
	getenv func(string) string
	// isTerminal says whether stdout is a terminal (for colour).
	isTerminal bool
	// now is the clock.
	now func() time.Time
	// sleep waits between delivery retries; nil means a real timer. Tests
	// pass one that returns at once.
	sleep func(ctx context.Context, d time.Duration) error
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv, isTerminal: stdoutIsTerminal(), now: time.Now}
	os.Exit(runMain(ctx, os.Args[1:], e))
}

// errUsage marks command-line mistakes; the flag package already printed
// the details.
var errUsage = errors.New("usage")

// runMain runs one command and returns the process exit code.
func runMain(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "status":
		return exitCode(e, runStatus(ctx, rest, e))
	case "check":
		return runCheck(ctx, rest, e)
	case "wait":
		return runWait(ctx, rest, e)
	case "deploy":
		return runDeploy(ctx, rest, e)
	case "demo":
		return exitCode(e, runDemo(ctx, rest, e))
	case "run":
		return exitCode(e, fromFile(runDaemon(ctx, rest, e)))
	case "outbox":
		return exitCode(e, runOutbox(ctx, rest, e))
	case "mute":
		return exitCode(e, runMute(ctx, rest, e))
	case "unmute":
		return exitCode(e, runUnmute(ctx, rest, e))
	case "notify":
		return exitCode(e, runNotify(ctx, rest, e))
	case "validate":
		return runValidate(ctx, rest, e)
	case "state":
		return exitCode(e, runState(ctx, rest, e))
	case "version", "--version", "-version":
		return exitCode(e, runVersion(rest, e))
	case "help", "-h", "--help", "-help":
		fmt.Fprint(e.stdout, usage)
		return 0
	}
	fmt.Fprintf(e.stderr, "seqwatch: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// exitCode prints err as one sentence, with advice (advise), and maps it to
// the exit code of the commands other than check: 0 success, 1 failure,
// 2 usage.
func exitCode(e env, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(e.stderr, "seqwatch: %s\n", advise(err))
	return 1
}

// printJSON writes v as indented JSON, the --json output of every command.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
