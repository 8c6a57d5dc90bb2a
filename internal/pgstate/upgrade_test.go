package pgstate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/errtest"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
)

// loadDump fills a fresh database with testdata/schema-vN.sql: a
// pg_dump of what seqwatch left at schema version N (never rewritten).
func loadDump(t *testing.T, v int) *dbtest.DB {
	t.Helper()
	sql, err := os.ReadFile(filepath.Join("testdata", fmt.Sprintf("schema-v%d.sql", v)))
	if err != nil {
		t.Fatalf("%v: every schema version from 1 to SchemaVersion (%d) needs a pg_dump of a database at it, committed when the migration after it is made", err, pgstate.SchemaVersion)
	}
	admin := dbtest.NewDatabase(t, dbtest.Postgres)
	if _, err := admin.SQL.Exec(string(sql)); err != nil {
		t.Fatalf("load schema-v%d.sql: %v", v, err)
	}
	return admin
}

// snapshot is everything seqwatch keeps in the database, as text, to show
// that an inspection changed nothing.
func snapshot(t *testing.T, admin *dbtest.DB) string {
	t.Helper()
	tables := snapshotTables(t, admin)
	b := []string{tables}
	for _, q := range []string{
		`SELECT string_agg(version::text, ',') FROM seqwatch_schema`,
		`SELECT string_agg(app || ':' || rev || ':' || token || ':' || md5(doc::text), ',' ORDER BY app) FROM seqwatch_states`,
		`SELECT string_agg(app || ':' || holder || ':' || token || ':' || expires_at, ',' ORDER BY app) FROM seqwatch_leases`,
	} {
		var s string
		if err := admin.SQL.QueryRow(q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		b = append(b, s)
	}
	return strings.Join(b, "\n")
}

// snapshotTables lists seqwatch's tables.
func snapshotTables(t *testing.T, admin *dbtest.DB) string {
	t.Helper()
	var s string
	if err := admin.SQL.QueryRow(`SELECT coalesce(string_agg(table_name, ',' ORDER BY table_name), '') FROM information_schema.tables WHERE table_name LIKE 'seqwatch%'`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// storedDocs are the state documents as stored, by application.
func storedDocs(t *testing.T, admin *dbtest.DB) map[string][]byte {
	t.Helper()
	rows, err := admin.SQL.Query(`SELECT app, doc::text FROM seqwatch_states WHERE doc IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	docs := map[string][]byte{}
	for rows.Next() {
		var app string
		var doc []byte
		if err := rows.Scan(&app, &doc); err != nil {
			t.Fatal(err)
		}
		docs[app] = doc
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestEveryEarlierSchemaVersionMigratesAndKeepsEachApplicationsState(t *testing.T) {
	for v := 1; v <= pgstate.SchemaVersion; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			admin := loadDump(t, v)
			docs := storedDocs(t, admin)
			before := snapshot(t, admin)

			in, err := pgstate.Inspect(context.Background(), admin.URL, pgstate.Options{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if in.Schema != v || len(in.Migrations) != pgstate.SchemaVersion-v {
				t.Errorf("Inspect: schema %d with %d migration(s) to run, want %d and %d", in.Schema, len(in.Migrations), v, pgstate.SchemaVersion-v)
			}
			var apps []string
			for _, d := range in.Docs {
				apps = append(apps, d.App)
				if d.Err != nil || d.Upgrade.To != state.Version {
					t.Errorf("Inspect: %s: %+v, %v", d.App, d.Upgrade, d.Err)
				}
			}
			if want := []string{"blog", "shop"}; !slices.Equal(apps, want) {
				t.Errorf("Inspect found documents of %q, want %q", apps, want)
			}
			if after := snapshot(t, admin); after != before {
				t.Fatalf("Inspect changed the database:\nbefore %s\nafter  %s", before, after)
			}

			db := open(t, admin.URL, pgstate.Options{})
			var got int
			if err := admin.SQL.QueryRow(`SELECT version FROM seqwatch_schema`).Scan(&got); err != nil || got != pgstate.SchemaVersion {
				t.Fatalf("after Open: schema version %d (%v), want %d", got, err, pgstate.SchemaVersion)
			}
			for app, doc := range docs {
				st, err := db.Store(app, "upgrade-test").Load()
				if err != nil {
					t.Fatalf("Load %s: %v", app, err)
				}
				// The database path reads a document as the state file
				// path reads the same bytes (whose upgrade state/ tests
				// against its own golden files).
				want, err := state.Unmarshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				gotDoc, _ := state.Marshal(st)
				wantDoc, _ := state.Marshal(want)
				if !bytes.Equal(gotDoc, wantDoc) {
					t.Errorf("%s: the migrated database loads another state than its stored document", app)
				}
				if len(st.Open) != 3 || len(st.Outbox) != 1 || len(st.Dead) != 1 || len(st.Disabled) != 1 || st.Read == nil || !st.Initialized {
					t.Errorf("%s lost part of its state: %d open, %d outbox, %d dead, %d disabled, read mark %v, initialized %v",
						app, len(st.Open), len(st.Outbox), len(st.Dead), len(st.Disabled), st.Read != nil, st.Initialized)
				}
				if wantMutes := map[string]int{"shop": 1, "blog": 0}[app]; len(st.Mutes) != wantMutes {
					t.Errorf("%s: %d mute(s), want %d", app, len(st.Mutes), wantMutes)
				}
			}

			// The old leases still fence: a new instance takes over the
			// expired one with the next token, and writes.
			env := &env{db: db, admin: admin}
			env.expire(t, "shop")
			s := db.Store("shop", "upgrade-test")
			acquire(t, s, true, 2, "upgrade-test")
			st, err := s.Load()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Update(context.Background(), st, func(st *state.State) error { st.Seq++; return nil }); err != nil {
				t.Fatalf("Update after the migration: %v", err)
			}
		})
	}
}

func TestInspectOfAnEmptyDatabaseCreatesNothing(t *testing.T) {
	admin := dbtest.NewDatabase(t, dbtest.Postgres)
	in, err := pgstate.Inspect(context.Background(), admin.URL, pgstate.Options{})
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if in.Schema != 0 || len(in.Docs) != 0 || len(in.Migrations) != pgstate.SchemaVersion {
		t.Errorf("Inspect = %+v, want schema 0, no documents, %d migration(s)", in, pgstate.SchemaVersion)
	}
	if want := "version 0 to 1: creates the tables seqwatch_leases and seqwatch_states"; len(in.Migrations) == 0 || in.Migrations[0] != want {
		t.Errorf("first migration %q, want %q", in.Migrations, want)
	}
	if tables := snapshotTables(t, admin); tables != "" {
		t.Errorf("Inspect created %s", tables)
	}
}

func TestInspectOfANewerSchemaNamesBothVersions(t *testing.T) {
	admin := dbtest.NewDatabase(t, dbtest.Postgres)
	open(t, admin.URL, pgstate.Options{})
	newer := pgstate.SchemaVersion + 1
	if _, err := admin.SQL.Exec(`UPDATE seqwatch_schema SET version = $1`, newer); err != nil {
		t.Fatal(err)
	}
	_, err := pgstate.Inspect(context.Background(), admin.URL, pgstate.Options{})
	if !errors.Is(err, pgstate.ErrSchemaNewer) {
		t.Fatalf("Inspect = %v, want an error matching ErrSchemaNewer", err)
	}
	for _, want := range []string{fmt.Sprintf("schema version %d", newer), fmt.Sprintf("newer than this seqwatch knows (%d)", pgstate.SchemaVersion)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	errtest.FactOnly(t, err.Error())
}

func TestInspectReportsEachDocumentOnItsOwn(t *testing.T) {
	admin := loadDump(t, pgstate.SchemaVersion)
	if _, err := admin.SQL.Exec(`UPDATE seqwatch_states SET doc = '{"version": 99, "seq": 1}' WHERE app = 'shop'`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SQL.Exec(`INSERT INTO seqwatch_states (app, doc, rev, token, updated_at) VALUES ('api', '{"version": 1, "seq": "seven"}', 1, 1, now())`); err != nil {
		t.Fatal(err)
	}
	in, err := pgstate.Inspect(context.Background(), admin.URL, pgstate.Options{})
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	got := map[string]pgstate.DocInspection{}
	for _, d := range in.Docs {
		got[d.App] = d
	}
	if d := got["blog"]; d.Err != nil || d.Upgrade.From != state.Version {
		t.Errorf("blog: %+v: the readable document must be reported as such", d)
	}
	if d := got["shop"]; !errors.Is(d.Err, state.ErrNewerVersion) ||
		!strings.Contains(d.Err.Error(), "version 99") || !strings.Contains(d.Err.Error(), fmt.Sprintf("knows up to %d", state.Version)) {
		t.Errorf("shop: %v, want a newer-version error naming 99 and %d", d.Err, state.Version)
	}
	if d := got["api"]; !errors.Is(d.Err, state.ErrCorrupt) || !strings.Contains(d.Err.Error(), `state of "api"`) {
		t.Errorf("api: %v, want a corrupt-state error naming it", d.Err)
	}
}
