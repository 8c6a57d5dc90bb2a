package buildinfo_test

import (
	"bytes"
	"flag"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/seqwatch/seqwatch/internal/buildinfo"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/state"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestResolvePrefersStampedValuesThenWhatGoRecorded(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "8af15e3c0ffee"},
		{Key: "vcs.time", Value: "2026-12-02T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	cases := []struct {
		name                        string
		bi                          *debug.BuildInfo
		ok                          bool
		ldVersion, ldCommit, ldDate string
		want                        buildinfo.Info
	}{
		{
			name:      "release build: -ldflags stamps all three",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			ok:        true,
			ldVersion: "v1.4.0", ldCommit: "abc1234", ldDate: "2026-12-01T08:00:00Z",
			want: buildinfo.Info{Version: "v1.4.0", Commit: "abc1234", Date: "2026-12-01T08:00:00Z", Go: "go1.26.8"},
		},
		{
			name:      "go install ...@v1.2.3: the module version, no commit",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/seqwatch/seqwatch", Version: "v1.2.3"}},
			ok:        true,
			ldVersion: "dev",
			want:      buildinfo.Info{Version: "v1.2.3", Go: "go1.26.1"},
		},
		{
			name:      "go build in a checkout: pseudo-version and VCS settings",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261202100000-8af15e3c0ffe+dirty"}, Settings: vcs},
			ok:        true,
			ldVersion: "dev",
			want: buildinfo.Info{Version: "v0.0.0-20261202100000-8af15e3c0ffe+dirty", Commit: "8af15e3c0ffee",
				Modified: true, Date: "2026-12-02T10:00:00Z", Go: "go1.26.8"},
		},
		{
			name:      "stamped version wins over the module version; VCS fills the rest",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: vcs},
			ok:        true,
			ldVersion: "v1.2.4-rc1",
			want: buildinfo.Info{Version: "v1.2.4-rc1", Commit: "8af15e3c0ffee", Modified: true,
				Date: "2026-12-02T10:00:00Z", Go: "go1.26.8"},
		},
		{
			name:      "nothing recorded: dev, and the running Go",
			ok:        false,
			ldVersion: "dev",
			want:      buildinfo.Info{Version: "dev", Go: runtime.Version()},
		},
		{
			name: "(devel) is not a version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			ok:   true,
			want: buildinfo.Info{Version: "dev", Go: "go1.26.8"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := buildinfo.Resolve(c.bi, c.ok, c.ldVersion, c.ldCommit, c.ldDate)
			c.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			c.want.State = buildinfo.StateVersions{
				File:     buildinfo.Range{Version: state.Version, UpgradesFrom: state.MinVersion},
				Postgres: buildinfo.Range{Version: pgstate.SchemaVersion, UpgradesFrom: 0},
			}
			if got != c.want {
				t.Errorf("Resolve =\n  %+v\nwant\n  %+v", got, c.want)
			}
		})
	}
}

// What seqwatch version prints for people: the version on the first line
// (scripts read "seqwatch VERSION"), "unknown" for what was not recorded,
// a commit with changes not committed said so.
func TestWriteTextPrintsEachPartOnItsLine(t *testing.T) {
	states := buildinfo.StateVersions{File: buildinfo.Range{Version: 3, UpgradesFrom: 1}, Postgres: buildinfo.Range{Version: 2}}
	for _, c := range []struct {
		name string
		info buildinfo.Info
	}{
		{"release", buildinfo.Info{Version: "v1.4.0", Commit: "abc1234", Date: "2026-12-01T08:00:00Z", Go: "go1.26.8", Platform: "linux/amd64", State: states}},
		{"modified", buildinfo.Info{Version: "v0.0.0-20261202100000-8af15e3c0ffe+dirty", Commit: "8af15e3c0ffee", Modified: true, Date: "2026-12-02T10:00:00Z", Go: "go1.26.8", Platform: "linux/arm64", State: states}},
		{"nothing_recorded", buildinfo.Info{Version: "dev", Go: "go1.26.8", Platform: "darwin/arm64", State: states}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.info.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join("testdata", c.name+".golden"), b.Bytes(), update)
		})
	}
}
