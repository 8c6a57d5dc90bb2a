package gate

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Command is the deploy step that Deploy wraps, such as
// `php artisan sequencer:process --isolated`.
type Command struct {
	Argv []string
	// Stdin, Stdout and Stderr are handed to the command as they are:
	// given *os.File values, the command writes to the same descriptors,
	// so its output is passed through untouched (no copy, no buffering,
	// a terminal stays a terminal).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Signals are forwarded to the command while it runs (the command
	// decides what to do with them); nil forwards none.
	Signals <-chan os.Signal
}

// String is the command line, for people (arguments with spaces or
// quotes are quoted).
func (c Command) String() string {
	parts := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// Exit is how a command ended.
type Exit struct {
	// Code is the exit status; -1 when a signal killed the command or it
	// could not start.
	Code int
	// Signal names the signal that killed it ("terminated").
	Signal string
	// Forwarded are the signals passed on to it while it ran.
	Forwarded []os.Signal
	// Err says why it could not start.
	Err  error
	Took time.Duration
}

// Failed reports whether the command did not succeed.
func (e Exit) Failed() bool { return e.Code != 0 || e.Err != nil || e.Signal != "" }

// Describe says how the command ended, in a few words.
func (e Exit) Describe() string {
	switch {
	case e.Err != nil:
		return "could not start: " + e.Err.Error()
	case e.Signal != "":
		return "was killed by a signal (" + e.Signal + ")"
	case e.Code != 0:
		return "failed (exit status " + strconv.Itoa(e.Code) + ")"
	}
	return "succeeded"
}

// Run runs the command to its end, forwarding c.Signals to it. It never
// kills the command on its own: a deploy step cut short leaves the
// application in a worse state than one that was waited for.
func Run(c Command, now func() time.Time) Exit {
	if now == nil {
		now = time.Now
	}
	start := now()
	if len(c.Argv) == 0 {
		return Exit{Code: -1, Err: errors.New("no command given")}
	}
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	if err := cmd.Start(); err != nil {
		return Exit{Code: -1, Err: startError(c.Argv[0], err), Took: now().Sub(start)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var ex Exit
	for {
		select {
		case s := <-c.Signals:
			if cmd.Process.Signal(s) == nil {
				ex.Forwarded = append(ex.Forwarded, s)
			}
			continue
		case err := <-done:
			ex.Took = now().Sub(start)
			ex.Code = cmd.ProcessState.ExitCode()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				ex.Signal = ws.Signal().String()
			}
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				ex.Err = err
			}
			return ex
		}
	}
}

// startError says why a command could not start, without Go's wording.
func startError(name string, err error) error {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return errors.New(name + ": no such command in $PATH")
	case errors.Is(err, os.ErrNotExist):
		return errors.New(name + ": no such file")
	case errors.Is(err, os.ErrPermission):
		return errors.New(name + ": not allowed to run it (is it executable?)")
	}
	return err
}
