package main

import (
	"github.com/seqwatch/seqwatch/internal/buildinfo"
)

const versionHelp = `Usage: seqwatch version [--json]

Prints the version of this seqwatch, the commit and date it was built
from, the Go version that built it, and the versions of the state it
reads and writes: the state file (state.path) and the schema of the
shared state database (state.postgres). A state older than these is
upgraded when the daemon starts (seqwatch state check says what would
change); a newer one stops it, naming both versions.

The version is the one release/build.sh stamped into the binary, or the
module version go install recorded (go install ...@v1.2.3 reports
v1.2.3), or "dev".

Exit status: 0; 2 bad usage.
`

// commit and date are set at build time, as version is (main.go), with
// -ldflags "-X main.commit=... -X main.date=..." (release/build.sh). Left
// empty, they come from the build information Go records.
var (
	commit = ""
	date   = ""
)

func runVersion(args []string, e env) error {
	fs := newFlagSet("version", e.stderr, versionHelp)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	info := buildinfo.Read(version, commit, date)
	if *asJSON {
		return printJSON(e.stdout, info)
	}
	return info.WriteText(e.stdout)
}

// resolvedVersion is the version seqwatch version prints: the stamped
// one, else the one Go recorded (a go install build says v1.2.3, not dev).
func resolvedVersion() string { return buildinfo.Read(version, commit, date).Version }
