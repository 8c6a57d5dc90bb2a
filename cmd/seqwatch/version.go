package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
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

// buildInfo is what seqwatch version prints (and --json's document).
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	// Modified is set when the binary was built from a work tree with
	// changes not committed.
	Modified bool          `json:"modified,omitempty"`
	Date     string        `json:"date,omitempty"`
	Go       string        `json:"go"`
	Platform string        `json:"platform"`
	State    stateVersions `json:"state"`
}

// stateVersions are the versions of the state this binary knows.
type stateVersions struct {
	// File is the state file's format (state.Version).
	File versionRange `json:"file"`
	// Postgres is the shared state database's schema
	// (pgstate.SchemaVersion; 0 is an empty database).
	Postgres versionRange `json:"postgres_schema"`
}

// versionRange is the version written and the oldest one upgraded from.
type versionRange struct {
	Version      int `json:"version"`
	UpgradesFrom int `json:"upgrades_from"`
}

func runVersion(args []string, e env) error {
	fs := newFlagSet("version", e.stderr, versionHelp)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	info := resolveBuildInfo(bi, ok, version, commit, date)
	if *asJSON {
		return printJSON(e.stdout, info)
	}
	return printVersion(e.stdout, info)
}

// resolveBuildInfo combines what -ldflags stamped (ldVersion, ldCommit,
// ldDate; "dev" and "" mean not stamped) with what Go recorded in the
// binary (bi, when ok): the module version of go install ...@v1.2.3, the
// VCS revision, time and modified flag of a build in a git checkout.
// Stamped values win.
func resolveBuildInfo(bi *debug.BuildInfo, ok bool, ldVersion, ldCommit, ldDate string) buildInfo {
	info := buildInfo{
		Version:  ldVersion,
		Commit:   ldCommit,
		Date:     ldDate,
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
		State: stateVersions{
			File:     versionRange{Version: state.Version, UpgradesFrom: state.MinVersion},
			Postgres: versionRange{Version: pgstate.SchemaVersion, UpgradesFrom: 0},
		},
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if !ok || bi == nil {
		return info
	}
	if bi.GoVersion != "" {
		info.Go = bi.GoVersion
	}
	// "(devel)" is what Go records for a build without a version (before
	// Go 1.24, or outside a VCS checkout).
	if info.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if info.Commit == "" {
				info.Commit = s.Value
			}
		case "vcs.time":
			if info.Date == "" {
				info.Date = s.Value
			}
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

func printVersion(w io.Writer, info buildInfo) error {
	commit := info.Commit
	switch {
	case commit == "":
		commit = "unknown"
	case info.Modified:
		commit += " (with uncommitted changes)"
	}
	built := info.Date
	if built == "" {
		built = "unknown"
	}
	_, err := fmt.Fprintf(w, `seqwatch %s
  commit:                 %s
  built:                  %s
  go:                     %s %s
  state file:             version %d (reads versions %d to %d, upgrading older ones)
  state database schema:  version %d (reads versions %d to %d, migrating older ones; 0 is an empty database)
`, info.Version, commit, built, info.Go, info.Platform,
		info.State.File.Version, info.State.File.UpgradesFrom, info.State.File.Version,
		info.State.Postgres.Version, info.State.Postgres.UpgradesFrom, info.State.Postgres.Version)
	return err
}
