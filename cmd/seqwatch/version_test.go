package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/internal/buildinfo"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
)

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
			File           buildinfo.Range `json:"file"`
			PostgresSchema buildinfo.Range `json:"postgres_schema"`
		} `json:"state"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("version --json is not JSON: %v\n%s", err, r.stdout)
	}
	if got.Version == "" || got.Go != runtime.Version() {
		t.Errorf("version %q, go %q: want a version and %s", got.Version, got.Go, runtime.Version())
	}
	want := buildinfo.StateVersions{
		File:     buildinfo.Range{Version: state.Version, UpgradesFrom: state.MinVersion},
		Postgres: buildinfo.Range{Version: pgstate.SchemaVersion, UpgradesFrom: 0},
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
