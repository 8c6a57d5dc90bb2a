package statestore

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
)

// Report is what Inspect found: the document `seqwatch state check
// --json` prints.
type Report struct {
	// FileVersion and SchemaVersion are what this binary writes.
	FileVersion   int `json:"file_version"`
	SchemaVersion int `json:"schema_version"`
	// Database is the shared state database, when state.postgres is set.
	Database *DatabaseReport `json:"database,omitempty"`
	Apps     []AppReport     `json:"apps"`
}

// DatabaseReport is the shared state database's schema.
type DatabaseReport struct {
	Where string `json:"where"`
	// Schema is the version found (0: no seqwatch tables yet).
	Schema     int      `json:"schema"`
	Migrations []string `json:"migrations"`
	Error      string   `json:"error,omitempty"`
}

// AppReport is one application's state.
type AppReport struct {
	Name string `json:"name"`
	// Where is the state file, or "database".
	Where string `json:"where"`
	// Configured is false for a document in the shared database of an
	// application this configuration does not watch.
	Configured bool `json:"configured"`
	// Exists is false when there is no state yet (a first run).
	Exists bool     `json:"exists"`
	From   int      `json:"from,omitempty"`
	To     int      `json:"to,omitempty"`
	Steps  []string `json:"steps,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// Inspect reads the state of apps (of cfg) and says what this seqwatch
// would upgrade in it, changing nothing: no file is written or locked, no
// table created or migrated, no lease taken. A state that would not load
// is reported in its entry, as explain words the error; the error
// returned is for a configuration that does not say where the state is.
func Inspect(ctx context.Context, cfg *config.Config, apps []*config.App, explain func(error) string) (Report, error) {
	r := Report{FileVersion: state.Version, SchemaVersion: pgstate.SchemaVersion, Apps: []AppReport{}}
	url := cfg.State.Postgres.Reveal()
	if cfg.IsSet("state.postgres") && url == "" {
		return r, errPostgresUnset
	}
	if url == "" {
		for _, ac := range apps {
			path := ac.StateFile()
			a := AppReport{Name: ac.DisplayName(), Where: path, Configured: true}
			u, err := state.CheckFile(path)
			switch {
			case err != nil:
				a.Exists, a.Error = true, explain(err)
			case u != nil:
				a.Exists, a.From, a.To, a.Steps = true, u.From, u.To, u.Steps
			}
			r.Apps = append(r.Apps, a)
		}
		return r, nil
	}
	in, err := pgstate.Inspect(ctx, url, pgstate.Options{})
	if err != nil {
		// The database's own facts (where, which versions), explained.
		r.Database = &DatabaseReport{Error: "state.postgres: " + explain(err), Migrations: []string{}}
		return r, nil
	}
	r.Database = &DatabaseReport{Where: in.Where, Schema: in.Schema, Migrations: in.Migrations}
	if r.Database.Migrations == nil {
		r.Database.Migrations = []string{}
	}
	docs := map[string]pgstate.DocInspection{}
	for _, d := range in.Docs {
		docs[d.App] = d
	}
	configured := map[string]bool{}
	for _, ac := range apps {
		configured[ac.DisplayName()] = true
		r.Apps = append(r.Apps, docReport(ac.DisplayName(), docs, true, explain))
	}
	if len(apps) == len(cfg.Applications()) {
		// Documents of applications another seqwatch sharing the database
		// watches: they are upgraded by whichever instance sends for them.
		for _, d := range in.Docs {
			if !configured[d.App] {
				r.Apps = append(r.Apps, docReport(d.App, docs, false, explain))
			}
		}
	}
	return r, nil
}

func docReport(app string, docs map[string]pgstate.DocInspection, configured bool, explain func(error) string) AppReport {
	a := AppReport{Name: app, Where: "database", Configured: configured}
	d, ok := docs[app]
	switch {
	case !ok:
	case d.Err != nil:
		a.Exists, a.Error = true, explain(d.Err)
	default:
		a.Exists, a.From, a.To, a.Steps = true, d.Upgrade.From, d.Upgrade.To, d.Upgrade.Steps
	}
	return a
}

// Unloadable names the states that would not load: "the state database"
// and the applications', in the report's order.
func (r Report) Unloadable() []string {
	var bad []string
	if r.Database != nil && r.Database.Error != "" {
		bad = append(bad, "the state database")
	}
	for _, a := range r.Apps {
		if a.Error != "" {
			bad = append(bad, a.Name)
		}
	}
	return bad
}

// WriteText writes the report for people, a line for each state and one
// for each step of its upgrade.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if db := r.Database; db != nil {
		switch {
		case db.Error != "":
			fmt.Fprintf(&b, "state database: %s\n", db.Error)
		case len(db.Migrations) == 0:
			fmt.Fprintf(&b, "state database %s: schema version %d, current: nothing to change\n", db.Where, db.Schema)
		default:
			what := fmt.Sprintf("schema version %d", db.Schema)
			if db.Schema == 0 {
				what = "no seqwatch tables yet (schema version 0)"
			}
			fmt.Fprintf(&b, "state database %s: %s; the daemon migrates it to version %d when it connects:\n", db.Where, what, r.SchemaVersion)
			for _, m := range db.Migrations {
				fmt.Fprintf(&b, "  %s\n", m)
			}
		}
	}
	for _, a := range r.Apps {
		where := "state file " + a.Where
		if a.Where == "database" {
			where = "state in the database"
		}
		if !a.Configured {
			where += " (an application this configuration does not watch)"
		}
		switch {
		case a.Error != "":
			fmt.Fprintf(&b, "%s: %s\n", a.Name, a.Error)
		case !a.Exists:
			fmt.Fprintf(&b, "%s: %s: none yet; the first run starts it at version %d\n", a.Name, where, r.FileVersion)
		case a.From == a.To:
			fmt.Fprintf(&b, "%s: %s: version %d, current: nothing to change\n", a.Name, where, a.From)
		default:
			fmt.Fprintf(&b, "%s: %s: version %d; the daemon's first save rewrites it as version %d:\n", a.Name, where, a.From, a.To)
			for _, s := range a.Steps {
				fmt.Fprintf(&b, "  %s\n", s)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
