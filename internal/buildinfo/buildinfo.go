// Package buildinfo is what a seqwatch binary says about itself: the
// version, commit and date it was built from, combining what the release
// build stamped with -ldflags and what Go recorded (go install
// ...@v1.2.3, or a build in a git checkout); the Go version and platform;
// and the versions of the state it reads and writes. `seqwatch version`
// prints it, and the daemon's startup log names the same version.
//
// Of seqwatch it imports only state and internal/pgstate, for the
// versions of the state file and of the state database's schema
// (internal/layering holds it to that).
package buildinfo

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
)

// Info is what seqwatch version prints (and --json's document).
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	// Modified is set when the binary was built from a work tree with
	// changes not committed.
	Modified bool          `json:"modified,omitempty"`
	Date     string        `json:"date,omitempty"`
	Go       string        `json:"go"`
	Platform string        `json:"platform"`
	State    StateVersions `json:"state"`
}

// StateVersions are the versions of the state this binary knows.
type StateVersions struct {
	// File is the state file's format (state.Version).
	File Range `json:"file"`
	// Postgres is the shared state database's schema
	// (pgstate.SchemaVersion; 0 is an empty database).
	Postgres Range `json:"postgres_schema"`
}

// Range is the version written and the oldest one upgraded from.
type Range struct {
	Version      int `json:"version"`
	UpgradesFrom int `json:"upgrades_from"`
}

// Read is Resolve with what Go recorded in the running binary.
func Read(ldVersion, ldCommit, ldDate string) Info {
	bi, ok := debug.ReadBuildInfo()
	return Resolve(bi, ok, ldVersion, ldCommit, ldDate)
}

// Resolve combines what -ldflags stamped (ldVersion, ldCommit, ldDate;
// "dev" and "" mean not stamped) with what Go recorded in the binary (bi,
// when ok): the module version of go install ...@v1.2.3, the VCS
// revision, time and modified flag of a build in a git checkout. Stamped
// values win.
func Resolve(bi *debug.BuildInfo, ok bool, ldVersion, ldCommit, ldDate string) Info {
	info := Info{
		Version:  ldVersion,
		Commit:   ldCommit,
		Date:     ldDate,
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
		State: StateVersions{
			File:     Range{Version: state.Version, UpgradesFrom: state.MinVersion},
			Postgres: Range{Version: pgstate.SchemaVersion, UpgradesFrom: 0},
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

// WriteText writes info for people, as seqwatch version prints it.
func (info Info) WriteText(w io.Writer) error {
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
