package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/state"
)

// v1State is a state file written by seqwatch at state version 1 (see
// state/testdata).
func v1State(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "state", "testdata", "state-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirFiles lists a directory, to show that nothing was added to it.
func dirFiles(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

func TestStateCheckReportsEachStateFileAndChangesNothing(t *testing.T) {
	dir := t.TempDir()
	newer := bytes.Replace(v1State(t), []byte(`"version": 1,`), []byte(`"version": 2,`), 1)
	files := map[string][]byte{
		"state.shop.json": v1State(t),
		"state.blog.json": newer,
		"state.api.json":  []byte(`{"version": 1, "seq": "seven"}`),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeConfig(t, dir, fmt.Sprintf(`state:
  path: %s
apps:
  - name: shop
    app: /var/www/shop
  - name: blog
    app: /var/www/blog
  - name: api
    app: /var/www/api
  - name: docs
    app: /var/www/docs
channels:
  - name: console
    console: {}
`, filepath.Join(dir, "state.json")))
	before := dirFiles(t, dir)

	r := runCmd(t, nil, "state", "check", "--config", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (a state would not load)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout,
		"shop: state file "+filepath.Join(dir, "state.shop.json")+": version 1, current: nothing to change\n",
		"blog: state file "+filepath.Join(dir, "state.blog.json")+" was written by a newer seqwatch (version 2); this seqwatch reads versions 1 to 1; upgrade seqwatch",
		"api: state file "+filepath.Join(dir, "state.api.json")+" is corrupt (",
		"docs: state file "+filepath.Join(dir, "state.docs.json")+": none yet; the first run starts it at version 1\n")
	mustContain(t, "stderr", r.stderr, "seqwatch: the state of blog, api would not load: this seqwatch would not start on it")

	// Nothing written, locked or created.
	if after := dirFiles(t, dir); after != before {
		t.Errorf("the directory held %s and holds %s after state check", before, after)
	}
	for name, b := range files {
		if got, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(got, b) {
			t.Errorf("state check changed %s", name)
		}
	}

	t.Run("--name and --json", func(t *testing.T) {
		r := runCmd(t, nil, "state", "check", "--config", cfg, "--name", "shop", "--json")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		var got statestore.Report
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.stdout)
		}
		want := statestore.AppReport{Name: "shop", Where: filepath.Join(dir, "state.shop.json"), Configured: true, Exists: true, From: 1, To: state.Version}
		if len(got.Apps) != 1 || got.Apps[0].Name != want.Name || got.Apps[0].From != want.From || got.Apps[0].To != want.To || !got.Apps[0].Exists || got.FileVersion != state.Version {
			t.Errorf("state check --json = %+v, want one application %+v", got, want)
		}
	})
}

func TestStateCheckNeedsASubcommandAndAConfiguration(t *testing.T) {
	for _, args := range [][]string{{"state"}, {"state", "verify"}, {"state", "check"}} {
		r := runCmd(t, nil, args...)
		if r.code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}

func TestStateCheckOfTheSharedDatabaseReportsTheMigrationWithoutRunningIt(t *testing.T) {
	t.Parallel()
	srv := dbtest.NewPostgresServer(t)
	db := srv.NewDatabase(t)
	_, url := db.DSN()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`state:
  postgres: %q
apps:
  - name: shop
    app: /var/www/shop
  - name: blog
    app: /var/www/blog
channels:
  - name: console
    console: {}
`, url))

	r := runCmd(t, nil, "state", "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout,
		"no seqwatch tables yet (schema version 0); the daemon migrates it to version 1 when it connects:\n  version 0 to 1: creates the tables seqwatch_leases and seqwatch_states\n",
		"shop: state in the database: none yet; the first run starts it at version 1\n")
	var tables int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'seqwatch%'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("state check created %d table(s) (%v): it must change nothing", tables, err)
	}

	// A migrated database with the state of shop and of an application
	// another seqwatch watches; then a document from a newer seqwatch.
	pg, err := pgstate.Open(context.Background(), url, pgstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, app := range []string{"shop", "billing"} {
		// A mute starts a document, as seqwatch mute does before the
		// daemon's first run.
		mute := func(st *state.State) error {
			st.Mutes = append(st.Mutes, state.Mute{ID: "mut_" + app, Reason: "deploy"})
			return nil
		}
		if err := pg.EditMutes(context.Background(), app, mute); err != nil {
			t.Fatal(err)
		}
	}
	r = runCmd(t, nil, "state", "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout,
		": schema version 1, current: nothing to change\n",
		"shop: state in the database: version 1, current: nothing to change\n",
		"blog: state in the database: none yet",
		"billing: state in the database (an application this configuration does not watch): version 1, current")

	if _, err := db.SQL.Exec(`UPDATE seqwatch_states SET doc = '{"version": 5}' WHERE app = 'shop'`); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, nil, "state", "check", "--config", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout, `shop: state of "shop" in the state database`, "version 5, this one knows up to 1")
	mustContain(t, "stdout", r.stdout, "billing: state in the database (an application this configuration does not watch): version 1")
}
