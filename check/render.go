package check

import (
	"fmt"
	"io"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// StatusOptions choose the sections and detail of RenderStatus, as the
// flags of `sequencer:status` do.
type StatusOptions struct {
	Pending, Completed, Failed bool // none set = all sections
	Verbose                    bool // stack traces
	Color                      bool // ANSI colour for section titles
}

// RenderStatus writes the snapshot as `php artisan sequencer:status` does:
// box-drawn tables, "Total: N ..." lines, traces only when verbose; plus an
// In Progress section and a marker on failures that later completed. The
// snapshot must have been read with History for the completed and failed
// sections.
func RenderStatus(w io.Writer, s *Snapshot, o StatusOptions) error {
	all := !o.Pending && !o.Completed && !o.Failed
	p := &printer{w: w, color: o.Color}
	if all || o.Pending {
		p.section("Pending Migrations", yellow)
		p.pendingTable(s.PendingMigrations)
		p.printf("Total: %d pending migration(s)\n\n", len(s.PendingMigrations))
		p.section("Pending Operations", yellow)
		p.pendingTable(s.PendingOperations)
		p.printf("Total: %d pending operation(s)\n\n", len(s.PendingOperations))
	}
	if all {
		p.section("In Progress", cyan)
		if len(s.InProgress) > 0 {
			rows := make([][]string, 0, len(s.InProgress))
			for _, a := range s.InProgress {
				rows = append(rows, []string{displayName(a.Name), Sanitize(a.Type, 40), stamp(a.ExecutedAt), HumanDuration(a.RunningFor.Std())})
			}
			p.table([]string{"Name", "Type", "Executed At", "Running For"}, rows)
		}
		p.printf("Total: %d operation(s) in progress\n\n", len(s.InProgress))
	}
	if all || o.Completed {
		p.section("Completed Operations", green)
		if len(s.Completed) > 0 {
			rows := make([][]string, 0, len(s.Completed))
			for _, a := range s.Completed {
				rows = append(rows, []string{displayName(a.Name), Sanitize(a.Type, 40), stamp(a.ExecutedAt), stampPtr(a.CompletedAt)})
			}
			p.table([]string{"Name", "Type", "Executed At", "Completed At"}, rows)
		}
		p.printf("Total: %d completed operation(s)\n\n", len(s.Completed))
	}
	if all || o.Failed {
		p.section("Failed Operations", red)
		p.printf("\n")
		failing, recovered := 0, 0
		msgLen := 200
		if o.Verbose {
			msgLen = 4000
		}
		for _, f := range s.Failed {
			marker := ""
			if f.Recovered {
				recovered++
				marker = " [recovered: a later run started " + stampPtr(f.RecoveredAt) + " completed]"
				if p.color {
					marker = green + marker + reset
				}
			} else {
				failing++
			}
			p.printf("%s (Failed at: %s)%s\n", displayName(f.Name), stampPtr(f.FailedAt), marker)
			if len(f.Errors) == 0 {
				p.printf("No error recorded (SEQUENCER_RECORD_ERRORS may be off).\n\n")
				continue
			}
			rows := make([][]string, 0, len(f.Errors))
			for _, e := range f.Errors {
				rows = append(rows, []string{Sanitize(e.Exception, 255), Sanitize(e.Message, msgLen), stamp(e.CreatedAt)})
			}
			p.table([]string{"Exception", "Message", "Occurred At"}, rows)
			if o.Verbose {
				for _, e := range f.Errors {
					p.printf("\nStack trace (%s):\n%s\n", Sanitize(e.Exception, 255), SanitizeBlock(e.Trace))
					if e.Context != "" {
						p.printf("Context: %s\n", Sanitize(e.Context, 4000))
					}
				}
			}
			p.printf("\n")
		}
		if recovered > 0 {
			p.printf("Total: %d failed operation(s) (and %d that failed and later completed, marked recovered)\n", failing, recovered)
		} else {
			p.printf("Total: %d failed operation(s)\n", failing)
		}
	}
	return p.err
}

// displayName shows an operation name as sequencer:status does, with the
// file's ".php".
func displayName(name string) string { return Sanitize(name, 255) + ".php" }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateTime)
}

func stampPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

const (
	reset  = "\x1b[0m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
)

type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) section(title, color string) {
	if p.color {
		p.printf("%s%s%s\n", color, title, reset)
		return
	}
	p.printf("%s\n", title)
}

func (p *printer) pendingTable(files []PendingFile) {
	if len(files) == 0 {
		return
	}
	rows := make([][]string, 0, len(files))
	for _, f := range files {
		rows = append(rows, []string{f.Timestamp, Sanitize(f.File, 255)})
	}
	p.table([]string{"Timestamp", "Name"}, rows)
}

func (p *printer) table(header []string, rows [][]string) {
	if p.err != nil {
		return
	}
	t := tablewriter.NewTable(p.w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		p.err = err
		return
	}
	p.err = t.Render()
}
