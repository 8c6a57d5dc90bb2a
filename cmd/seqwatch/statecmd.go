package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/pgstate"
	"github.com/seqwatch/seqwatch/state"
)

const stateHelp = `Usage: seqwatch state check --config FILE [--name APP] [--json]

Says what this seqwatch would change in the daemon's state when it starts
on it: run it after installing a new version and before restarting the
daemon. It reads the state of every application of the configuration (the
state files of state.path, or the shared state database of
state.postgres) and changes nothing: no file is written or locked, no
table created or migrated, no lease taken.

For each state it says its version and what the upgrade does (a state
file of an older format is rewritten in the new one at the daemon's first
save; the state database's schema is migrated when the daemon connects),
or that there is nothing to change. A state written by a newer seqwatch
stops the daemon, and is reported with both versions: install that
version or a newer one. seqwatch version lists the versions this binary
reads.

Examples:
  seqwatch state check --config /etc/seqwatch/seqwatch.yaml
  seqwatch state check --config /etc/seqwatch/seqwatch.yaml --json

Exit status: 0 every state would load (upgraded or as it is); 1 a state
would not load (written by a newer seqwatch, corrupt, unreadable, or the
state database unreachable); 2 bad usage.
`

// stateReport is the --json document of seqwatch state check.
type stateReport struct {
	// FileVersion and SchemaVersion are what this binary writes.
	FileVersion   int `json:"file_version"`
	SchemaVersion int `json:"schema_version"`
	// Database is the shared state database, when state.postgres is set.
	Database *databaseReport  `json:"database,omitempty"`
	Apps     []appStateReport `json:"apps"`
}

type databaseReport struct {
	Where string `json:"where"`
	// Schema is the version found (0: no seqwatch tables yet).
	Schema     int      `json:"schema"`
	Migrations []string `json:"migrations"`
	Error      string   `json:"error,omitempty"`
}

// appStateReport is one application's state.
type appStateReport struct {
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

func runState(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(e.stderr, stateHelp)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "check" {
		fmt.Fprintf(e.stderr, "seqwatch state: unknown subcommand %q: use check (seqwatch state -h shows how)\n", args[0])
		return errUsage
	}
	fs := newFlagSet("state check", e.stderr, stateHelp)
	cfgPath := fs.String("config", "", "seqwatch.yaml `FILE` (required)")
	name := fs.String("name", "", "with several applications (apps:), only the application `APP`")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *cfgPath == "" {
		fmt.Fprintln(e.stderr, "seqwatch state check: --config FILE is required (seqwatch state -h shows how)")
		return errUsage
	}
	cfg, err := config.LoadForReading(ctx, *cfgPath)
	if err != nil {
		return err
	}
	apps := cfg.Applications()
	if *name != "" {
		ac, err := cfg.Application(*name)
		if err != nil {
			return err
		}
		apps = []*config.App{ac}
	}
	r, err := checkStates(ctx, cfg, apps)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(e.stdout, r); err != nil {
			return err
		}
	} else if err := printStateReport(e.stdout, r); err != nil {
		return err
	}
	var bad []string
	if r.Database != nil && r.Database.Error != "" {
		bad = append(bad, "the state database")
	}
	for _, a := range r.Apps {
		if a.Error != "" {
			bad = append(bad, a.Name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the state of %s would not load: this seqwatch would not start on it", strings.Join(bad, ", "))
	}
	return nil
}

// checkStates inspects the state of apps, changing nothing.
func checkStates(ctx context.Context, cfg *config.Config, apps []*config.App) (stateReport, error) {
	r := stateReport{FileVersion: state.Version, SchemaVersion: pgstate.SchemaVersion, Apps: []appStateReport{}}
	url := cfg.State.Postgres.Reveal()
	if cfg.IsSet("state.postgres") && url == "" {
		return r, fmt.Errorf("state.postgres is empty here (an environment variable or file it refers to is not available): the state is in that database, not in a file")
	}
	if url == "" {
		for _, ac := range apps {
			path := ac.StateFile()
			a := appStateReport{Name: ac.DisplayName(), Where: path, Configured: true}
			u, err := state.CheckFile(path)
			switch {
			case err != nil:
				a.Exists, a.Error = true, advise(err)
			case u != nil:
				a.Exists, a.From, a.To, a.Steps = true, u.From, u.To, u.Steps
			}
			r.Apps = append(r.Apps, a)
		}
		return r, nil
	}
	in, err := pgstate.Inspect(ctx, url, pgstate.Options{})
	if err != nil {
		// The database's own facts (where, which versions), with advice.
		r.Database = &databaseReport{Error: "state.postgres: " + advise(err), Migrations: []string{}}
		return r, nil
	}
	r.Database = &databaseReport{Where: in.Where, Schema: in.Schema, Migrations: in.Migrations}
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
		r.Apps = append(r.Apps, docReport(ac.DisplayName(), docs, true))
	}
	if len(apps) == len(cfg.Applications()) {
		// Documents of applications another seqwatch sharing the database
		// watches: they are upgraded by whichever instance sends for them.
		for _, d := range in.Docs {
			if !configured[d.App] {
				r.Apps = append(r.Apps, docReport(d.App, docs, false))
			}
		}
	}
	return r, nil
}

func docReport(app string, docs map[string]pgstate.DocInspection, configured bool) appStateReport {
	a := appStateReport{Name: app, Where: "database", Configured: configured}
	d, ok := docs[app]
	switch {
	case !ok:
	case d.Err != nil:
		a.Exists, a.Error = true, advise(d.Err)
	default:
		a.Exists, a.From, a.To, a.Steps = true, d.Upgrade.From, d.Upgrade.To, d.Upgrade.Steps
	}
	return a
}

func printStateReport(w io.Writer, r stateReport) error {
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
