package main

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
)

func TestResolveBuildInfoPrefersStampedValuesThenWhatGoRecorded(t *testing.T) {
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
		want                        buildInfo
	}{
		{
			name:      "release build: -ldflags stamps all three",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			ok:        true,
			ldVersion: "v1.4.0", ldCommit: "abc1234", ldDate: "2026-12-01T08:00:00Z",
			want: buildInfo{Version: "v1.4.0", Commit: "abc1234", Date: "2026-12-01T08:00:00Z", Go: "go1.26.8"},
		},
		{
			name:      "go install ...@v1.2.3: the module version, no commit",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/seqwatch/seqwatch", Version: "v1.2.3"}},
			ok:        true,
			ldVersion: "dev",
			want:      buildInfo{Version: "v1.2.3", Go: "go1.26.1"},
		},
		{
			name:      "go build in a checkout: pseudo-version and VCS settings",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261202100000-8af15e3c0ffe+dirty"}, Settings: vcs},
			ok:        true,
			ldVersion: "dev",
			want: buildInfo{Version: "v0.0.0-20261202100000-8af15e3c0ffe+dirty", Commit: "8af15e3c0ffee",
				Modified: true, Date: "2026-12-02T10:00:00Z", Go: "go1.26.8"},
		},
		{
			name:      "stamped version wins over the module version; VCS fills the rest",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: vcs},
			ok:        true,
			ldVersion: "v1.2.4-rc1",
			want: buildInfo{Version: "v1.2.4-rc1", Commit: "8af15e3c0ffee", Modified: true,
				Date: "2026-12-02T10:00:00Z", Go: "go1.26.8"},
		},
		{
			name:      "nothing recorded: dev, and the running Go",
			ok:        false,
			ldVersion: "dev",
			want:      buildInfo{Version: "dev", Go: runtime.Version()},
		},
		{
			name: "(devel) is not a version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			ok:   true,
			want: buildInfo{Version: "dev", Go: "go1.26.8"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := resolveBuildInfo(c.bi, c.ok, c.ldVersion, c.ldCommit, c.ldDate)
			c.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			c.want.State = stateVersions{
				File:     versionRange{Version: state.Version, UpgradesFrom: state.MinVersion},
				Postgres: versionRange{Version: pgstate.SchemaVersion, UpgradesFrom: 0},
			}
			if got != c.want {
				t.Errorf("resolveBuildInfo =\n  %+v\nwant\n  %+v", got, c.want)
			}
		})
	}
}

func TestVersionPrintsTheStateVersionsItReads(t *testing.T) {
	r := runCmd(t, nil, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("version: exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	// Scripts read the first line as "seqwatch VERSION".
	if f := strings.Fields(lines[0]); len(f) != 2 || f[0] != "seqwatch" {
		t.Errorf("first line %q, want \"seqwatch VERSION\"", lines[0])
	}
	mustContain(t, "stdout", r.stdout,
		"go:                     "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH,
		"state file:             version 1 (reads versions 1 to 1,",
		"state database schema:  version 1 (reads versions 0 to 1,")
}

func TestVersionJSONNamesTheSchemaVersions(t *testing.T) {
	r := runCmd(t, nil, "version", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("version --json: exit %d\n%s", r.code, r.stderr)
	}
	var got struct {
		Version string `json:"version"`
		Go      string `json:"go"`
		State   struct {
			File           versionRange `json:"file"`
			PostgresSchema versionRange `json:"postgres_schema"`
		} `json:"state"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("version --json is not JSON: %v\n%s", err, r.stdout)
	}
	if got.Version == "" || got.Go != runtime.Version() {
		t.Errorf("version %q, go %q: want a version and %s", got.Version, got.Go, runtime.Version())
	}
	want := stateVersions{
		File:     versionRange{Version: state.Version, UpgradesFrom: state.MinVersion},
		Postgres: versionRange{Version: pgstate.SchemaVersion, UpgradesFrom: 0},
	}
	if got.State.File != want.File || got.State.PostgresSchema != want.Postgres {
		t.Errorf("state versions file %+v, schema %+v; want %+v and %+v",
			got.State.File, got.State.PostgresSchema, want.File, want.Postgres)
	}
}

func TestVersionRejectsArguments(t *testing.T) {
	r := runCmd(t, nil, "version", "--verbose")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown flag -verbose") {
		t.Errorf("version --verbose: exit %d, stderr %q; want 2 naming the flag", r.code, r.stderr)
	}
}
