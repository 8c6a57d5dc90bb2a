// Package runner builds the alerting daemon of a configuration file and
// runs it: the state stores (internal/statestore), the observer
// (internal/observe), one worker per application (internal/daemon) with
// its channels built from the configuration, and the reload. `seqwatch
// run` gives it the values of its flags, the service manager's hooks and
// the reload signal; what it holds another command, or a test, can use.
//
// It sits above internal/daemon and internal/config, which the daemon must
// not import (the configuration carries every channel package). It must
// not import cmd/seqwatch or the tests' kits (internal/layering holds it
// to that); runnertest, beside it, starts it in process for tests. Its
// errors state facts; cmd/seqwatch adds the advice, passed in as
// Deps.Advise.
package runner
