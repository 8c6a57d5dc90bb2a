// Package render writes the status of an application for people and
// programs: the box-drawn tables `seqwatch status` prints (what
// `php artisan sequencer:status` prints, plus an In Progress section and a
// marker on failures that later completed), streamed from the database a
// row at a time or drawn from a Snapshot, and the `status --json` document
// (check.Snapshot, streamed the same way).
//
// It holds only rendering: the lists come from internal/reader's History,
// and all text from the database goes through internal/text before it
// reaches a terminal. Of seqwatch it imports check (the Snapshot it
// renders), internal/reader (the History it streams) and internal/text.
// It must not import state, notify, internal/daemon or cmd/seqwatch
// (internal/layering holds it to that), nor internal/laravel directly,
// and it asks the database nothing itself.
package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/text"
)

// StatusOptions choose the sections and detail of Status, as the
// flags of `sequencer:status` do.
type StatusOptions struct {
	Pending, Completed, Failed bool // none set = all sections
	Verbose                    bool // stack traces
	Color                      bool // ANSI colour for section titles
	// HasFile says whether an operation's file exists (nil: never), Now
	// is when status runs and RetryGrace is thresholds.async_retry_grace:
	// with them a failure that check.RunsAgain says the next
	// sequencer:process runs again is marked so.
	HasFile    func(name string) bool
	Now        time.Time
	RetryGrace time.Duration
}

// runsAgain applies check.RunsAgain to a failure of the failed list.
func (o StatusOptions) runsAgain(f *check.Failure) bool {
	if o.HasFile == nil || f.Recovered || f.OperationCompleted {
		return false
	}
	return check.RunsAgain(f.Attempt, o.HasFile(f.Name), o.Now, o.RetryGrace)
}

// sections says which parts of the snapshot a status with o prints.
func (o StatusOptions) sections() (pending, inProgress, completed, failed bool) {
	all := !o.Pending && !o.Completed && !o.Failed
	return all || o.Pending, all, all || o.Completed, all || o.Failed
}

// Status writes the snapshot as `php artisan sequencer:status` does,
// with the completed and failed sections taken from s.Completed and
// s.Failed. StreamStatus is the same from a History, for any size.
func Status(w io.Writer, s *check.Snapshot, o StatusOptions) error {
	return renderStatus(context.Background(), w, s, memHistory{s}, o)
}

// StreamStatus writes what `php artisan sequencer:status` writes:
// box-drawn tables, "Total: N ..." lines, traces only when verbose; plus an
// In Progress section and a marker on failures that later completed. The
// pending and in-progress sections come from s (which may be nil when o
// asks for neither); the completed and failed sections are read from h row
// by row as they are written (h may be nil when o asks for neither).
func StreamStatus(ctx context.Context, w io.Writer, s *check.Snapshot, h *reader.History, o StatusOptions) error {
	pending, inProgress, completed, failed := o.sections()
	if (pending || inProgress) && s == nil || (completed || failed) && h == nil {
		return errors.New("status: the sections asked for need both a snapshot and the history")
	}
	return renderStatus(ctx, w, s, dbHistory{h}, o)
}

// history is where the completed and failed sections come from: the
// database (dbHistory) or the lists of a snapshot (memHistory).
type history interface {
	completedWidths(ctx context.Context) ([4]int, error)
	completedRows(ctx context.Context, fn func(*check.Attempt) error) error
	failed(ctx context.Context, traces bool, fn func(*check.Failure) error) error
	// unreadable is what check.Snapshot.Unreadable and
	// Counts.UnreadableRows hold for everything read so far.
	unreadable() ([]check.Unreadable, int)
}

// dbHistory serves the sections from the database, a row at a time.
type dbHistory struct{ h *reader.History }

// completedWidths returns the display widths of the completed table's
// cells (name, type, executed at, completed at), the widest of each
// column, before any row is printed. The database measures the plain
// names and types (all of them, in practice), whose width is their length;
// any other row, which text.Line may shorten or which may hold wide
// characters, is read and measured here the way the table measures it.
func (d dbHistory) completedWidths(ctx context.Context) ([4]int, error) {
	var w [4]int
	m, err := d.h.CompletedText(ctx)
	if err != nil {
		return w, err
	}
	if m.NameLen >= 0 {
		w[0] = plainWidth(m.NameLen, nameMax) + len(".php")
	}
	if m.TypeLen >= 0 {
		w[1] = plainWidth(m.TypeLen, typeMax)
	}
	if m.Stamped {
		w[2] = len(timeLayout)
	}
	// Every completed row has a completion time; a rolled-back one its
	// marker after it.
	w[3] = len(timeLayout)
	if m.RolledBack {
		w[3] += len(rolledBackMarker) + len(timeLayout) + len("]")
	}
	if !m.Odd {
		return w, nil
	}
	err = d.h.CompletedOdd(ctx, func(name, typ string) error {
		w[0] = max(w[0], cellWidth(displayName(name)))
		w[1] = max(w[1], cellWidth(sanitize(typ, typeMax)))
		return nil
	})
	return w, err
}

func (d dbHistory) completedRows(ctx context.Context, fn func(*check.Attempt) error) error {
	return d.h.CompletedTable(ctx, fn)
}

func (d dbHistory) failed(ctx context.Context, traces bool, fn func(*check.Failure) error) error {
	return d.h.Failed(ctx, traces, fn)
}

// unreadable is the History's (which include the snapshot's when both
// were read in one transaction), or the snapshot's without a History.
func (d dbHistory) unreadable() ([]check.Unreadable, int) {
	if d.h == nil {
		return nil, 0
	}
	return d.h.Unreadable()
}

// memHistory serves a snapshot's Completed and Failed lists.
type memHistory struct{ s *check.Snapshot }

func (m memHistory) completedWidths(context.Context) ([4]int, error) {
	var w [4]int
	for i := range m.s.Completed {
		for c, cell := range completedRow(&m.s.Completed[i]) {
			w[c] = max(w[c], cellWidth(cell))
		}
	}
	return w, nil
}

func (m memHistory) unreadable() ([]check.Unreadable, int) {
	return m.s.Unreadable, m.s.Counts.UnreadableRows
}

func (m memHistory) completedRows(_ context.Context, fn func(*check.Attempt) error) error {
	for i := range m.s.Completed {
		if err := fn(&m.s.Completed[i]); err != nil {
			return err
		}
	}
	return nil
}

func (m memHistory) failed(_ context.Context, _ bool, fn func(*check.Failure) error) error {
	for i := range m.s.Failed {
		if err := fn(&m.s.Failed[i]); err != nil {
			return err
		}
	}
	return nil
}

func renderStatus(ctx context.Context, w io.Writer, s *check.Snapshot, h history, o StatusOptions) error {
	pending, inProgress, completed, failed := o.sections()
	p := &printer{w: w, color: o.Color}
	if pending {
		p.section("Pending Migrations", yellow)
		p.pendingTable(s.PendingMigrations)
		p.printf("Total: %d pending migration(s)\n\n", len(s.PendingMigrations))
		p.section("Pending Operations", yellow)
		p.pendingTable(s.PendingOperations)
		p.printf("Total: %d pending operation(s)\n\n", len(s.PendingOperations))
	}
	if inProgress {
		p.section("In Progress", cyan)
		if len(s.InProgress) > 0 {
			rows := make([][]string, 0, len(s.InProgress))
			for _, a := range s.InProgress {
				started, runFor := stamp(a.ExecutedAt), check.HumanDuration(a.RunningFor.Std())
				if a.ExecutedAt.IsZero() {
					started, runFor = unknown, unknown // see Warnings
				}
				rows = append(rows, []string{displayName(a.Name), text.Line(a.Type, typeMax), started, runFor})
			}
			p.table([]string{"Name", "Type", "Executed At", "Running For"}, rows)
		}
		p.printf("Total: %d operation(s) in progress\n\n", len(s.InProgress))
		p.section("Scheduled", cyan)
		if len(s.Scheduled) > 0 {
			rows := make([][]string, 0, len(s.Scheduled))
			for _, a := range s.Scheduled {
				rows = append(rows, []string{displayName(a.Name), stamp(a.ExecutedAt), check.HumanDuration(a.RunningFor.Std())})
			}
			p.table([]string{"Name", "Queued At", "Waiting For"}, rows)
		}
		p.printf("Total: %d scheduled operation(s) waiting for their time\n\n", len(s.Scheduled))
	}
	if completed && p.err == nil {
		completedHeader := [4]string{"Name", "Type", "Executed At", "Completed At"}
		p.section("Completed Operations", green)
		widths, err := h.completedWidths(ctx)
		if err != nil {
			return err
		}
		for i, head := range completedHeader {
			widths[i] = max(widths[i], cellWidth(head))
		}
		t := boxTable{p: p, widths: widths[:]}
		n := 0
		err = h.completedRows(ctx, func(a *check.Attempt) error {
			if n == 0 {
				t.top(completedHeader[:])
			}
			n++
			// completedRow, written straight into the row.
			t.begin()
			t.cell(0, sanitize(a.Name, nameMax), ".php")
			t.cell(1, sanitize(a.Type, typeMax), "")
			t.stamp(2, &a.ExecutedAt)
			if check.RolledBack(*a) {
				t.rolledBack(3, a.CompletedAt, a.RolledBackAt)
			} else {
				t.stamp(3, a.CompletedAt)
			}
			t.end()
			return p.err
		})
		if err != nil {
			return err
		}
		if n > 0 {
			t.bottom()
		}
		p.printf("Total: %d completed operation(s)\n\n", n)
	}
	if failed && p.err == nil {
		p.section("Failed Operations", red)
		p.printf("\n")
		// The Total counts operations, as check's failed= does: an
		// operation whose run failed twice is one failed operation (a
		// set of the failing names, which are few: the problems). The
		// runs are counted beside it.
		failing, failingRuns, recovered := map[string]struct{}{}, 0, 0
		err := h.failed(ctx, o.Verbose, func(f *check.Failure) error {
			if f.Recovered {
				recovered++
			} else {
				failing[f.Name] = struct{}{}
				failingRuns++
			}
			p.failure(f, o.Verbose, o.runsAgain(f))
			return p.err
		})
		if err != nil {
			return err
		}
		p.printf("Total: %d failed operation(s)%s\n", len(failing), failedTotalNote(len(failing), failingRuns, recovered))
	}
	if p.err == nil {
		var warnings []string
		if s != nil {
			warnings = s.Warnings
		}
		named, n := h.unreadable()
		if named == nil && n == 0 && s != nil {
			named, n = s.Unreadable, s.Counts.UnreadableRows
		}
		p.warnings(warnings, named, n, failed)
	}
	return p.err
}

// unknown stands for a time that cannot be read (it is named under
// Warnings).
const unknown = "unknown"

// warnings prints the Warnings section, after everything else (the
// unreadable values are found as the lists stream past), when there is
// anything to say: each warning, each unreadable value once, and how many
// more rows hold one than are named. No line of it says "Total:", which
// the guide's monitoring script reads.
func (p *printer) warnings(warnings []string, named []check.Unreadable, rows int, afterFailed bool) {
	if len(warnings) == 0 && len(named) == 0 && rows == 0 {
		return
	}
	if afterFailed {
		p.printf("\n")
	}
	p.section("Warnings", yellow)
	for _, w := range warnings {
		p.printf("- %s\n", text.Line(w, 400))
	}
	seen := map[[2]string]bool{}
	for _, u := range named {
		seen[[2]string{u.Table, u.ID}] = true
		p.printf("- %s: the row is shown without it\n", u.String())
	}
	if more := rows - len(seen); more > 0 {
		p.printf("- and %d more %s with a value that cannot be read (the first %d values are named)\n", more, plural(more, "row"), check.MaxUnreadable)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// failure prints one failed row with its error table (a few rows, so it
// is measured and drawn whole) and, when verbose, the traces.
func (p *printer) failure(f *check.Failure, verbose, runsAgain bool) {
	msgLen := 200
	if verbose {
		msgLen = 4000
	}
	marker := ""
	if f.Recovered {
		marker = " [recovered: a later run started " + stampPtr(f.RecoveredAt) + " completed]"
		if check.RecoveredInPlace(f.Attempt) {
			// The queue's retry reused the row: nothing later started.
			marker = " [recovered: the queue's retry completed it at " + stampPtr(f.CompletedAt) + "]"
		}
		if p.color {
			marker = green + marker + reset
		}
	}
	if runsAgain {
		// The queue gave up on it; its file is pending, so the next
		// deploy dispatches it again, as a new row.
		marker = " [" + check.RunsAgainNote + "]"
		if p.color {
			marker = yellow + marker + reset
		}
	}
	failedAt := stampPtr(f.FailedAt)
	if f.FailedAt == nil {
		failedAt = unknown // it failed; when cannot be read (see Warnings)
	}
	p.printf("%s (Failed at: %s)%s\n", displayName(f.Name), failedAt, marker)
	if len(f.Errors) == 0 {
		p.printf("No error recorded (SEQUENCER_RECORD_ERRORS may be off).\n\n")
		return
	}
	rows := make([][]string, 0, len(f.Errors))
	for _, e := range f.Errors {
		rows = append(rows, []string{text.Line(e.Exception, 255), text.Line(e.Message, msgLen), stampPtr(e.CreatedAt)})
	}
	p.table([]string{"Exception", "Message", "Occurred At"}, rows)
	if verbose {
		for _, e := range f.Errors {
			p.printf("\nStack trace (%s):\n%s\n", text.Line(e.Exception, 255), text.Block(e.Trace))
			if e.Context != "" {
				p.printf("Context: %s\n", text.Line(e.Context, 4000))
			}
		}
	} else if n := tracesHidden(f.Errors); n > 0 {
		// As sequencer:status, traces only with -v; but say that there
		// is one, and how to see it.
		p.printf("%s\n", traceHint(n))
	}
	p.printf("\n")
}

// tracesHidden counts the error rows with a stack trace, read or not
// (History.Failed reads none without -v; a snapshot holds them).
func tracesHidden(errs []check.ErrorRecord) int {
	n := 0
	for _, e := range errs {
		if e.TraceNotRead || e.Trace != "" {
			n++
		}
	}
	return n
}

// traceHint is the line printed under an error table, without -v, when n
// of its errors have a stack trace.
func traceHint(n int) string {
	if n == 1 {
		return "A stack trace was recorded: -v shows it."
	}
	return fmt.Sprintf("%d stack traces were recorded: -v shows them.", n)
}

// failedTotalNote is what the failed list's Total line says after its
// number (failing operations): how many failed runs of them are listed,
// when it is not one each, and how many listed runs failed and later
// completed (marked recovered), which the Total does not count.
func failedTotalNote(operations, runs, recovered int) string {
	var parts []string
	if runs != operations {
		parts = append(parts, fmt.Sprintf("%d failed %s", runs, plural(runs, "run")))
	}
	if recovered > 0 {
		parts = append(parts, fmt.Sprintf("and %d that failed and later completed, marked recovered", recovered))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// Cell lengths the tables cut text to (text.Line's n).
const (
	nameMax = 255
	typeMax = 40
)

// timeLayout is how time stamps are shown.
const timeLayout = time.DateTime

// completedRow is a row of the completed table.
func completedRow(a *check.Attempt) [4]string {
	done := stampPtr(a.CompletedAt)
	if check.RolledBack(*a) {
		done += rolledBackMarker + stampPtr(a.RolledBackAt) + "]"
	}
	return [4]string{displayName(a.Name), sanitize(a.Type, typeMax), stamp(a.ExecutedAt), done}
}

// rolledBackMarker follows the completion time of a rolled-back run in
// the completed table, before the time of its rollback: Sequencer counts
// the run as done, but its effect was undone.
const rolledBackMarker = " [rolled back at "

// displayName shows an operation name as sequencer:status does, with the
// file's ".php".
func displayName(name string) string { return sanitize(name, nameMax) + ".php" }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(timeLayout)
}

func stampPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

// sanitize is text.Line(s, n), without its cost for the text it would
// leave as it is: printable ASCII without spaces or '|', at most n long.
// Nearly every name and type is such text, and status prints a million.
func sanitize(s string, n int) string {
	if len(s) > n {
		return text.Line(s, n)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == '|' {
			return text.Line(s, n)
		}
	}
	return s
}

// appendStamp appends stamp(t): time.DateTime's layout, without Format's
// cost for four-digit years.
func appendStamp(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	hour, minute, sec := t.Clock()
	d2 := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = d2(b, year/100)
	b = d2(b, year%100)
	b = append(b, '-')
	b = d2(b, int(month))
	b = append(b, '-')
	b = d2(b, day)
	b = append(b, ' ')
	b = d2(b, hour)
	b = append(b, ':')
	b = d2(b, minute)
	b = append(b, ':')
	return d2(b, sec)
}

// cellWidth is the width a table gives s: its length when it is printable
// ASCII, otherwise what tablewriter measures.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return twwidth.Width(s)
		}
	}
	return len(s)
}

// plainWidth is the width of the cell text.Line(s, limit) makes of a text
// s of n printable ASCII characters without spaces.
func plainWidth(n, limit int) int {
	if n > limit {
		return limit + cellWidth("…")
	}
	return n
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

func (p *printer) write(b []byte) {
	if p.err == nil {
		_, p.err = p.w.Write(b)
	}
}

func (p *printer) section(title, color string) {
	if p.color {
		p.printf("%s%s%s\n", color, title, reset)
		return
	}
	p.printf("%s\n", title)
}

// pendingTable draws the pending files as sequencer:status does, with a
// Last Skipped column when one of them was skipped (its newest skip: when,
// and the reason on one line): it runs again at the next
// sequencer:process, and the reason says why it did not the last time.
func (p *printer) pendingTable(files []check.PendingFile) {
	if len(files) == 0 {
		return
	}
	skipped := false
	for _, f := range files {
		skipped = skipped || f.SkippedAt != nil
	}
	rows := make([][]string, 0, len(files))
	for _, f := range files {
		row := []string{f.Timestamp, text.Line(f.File, 255)}
		if skipped {
			last := ""
			if f.SkippedAt != nil {
				last = stamp(*f.SkippedAt)
				if r := text.Line(f.SkipReason, 120); r != "" {
					last += ": " + r
				}
			}
			row = append(row, last)
		}
		rows = append(rows, row)
	}
	header := []string{"Timestamp", "Name"}
	if skipped {
		header = append(header, "Last Skipped")
	}
	p.table(header, rows)
}

// table draws a table whose rows are all at hand, measuring them first:
// the same table tablewriter draws (a test holds the two to it), without
// the cost of a tablewriter per table, which would dominate a status with
// thousands of failures.
func (p *printer) table(header []string, rows [][]string) {
	if p.err != nil {
		return
	}
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = cellWidth(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], cellWidth(c))
		}
	}
	t := boxTable{p: p, widths: widths}
	t.top(header)
	for _, r := range rows {
		t.row(r)
	}
	t.bottom()
}

// boxTable draws a box table a row at a time, given the columns' widths
// beforehand (the widest cell or header of each column, as tablewriter
// measures them): what tablewriter draws from all its rows at once, with
// its defaults (one space of padding, left aligned, no wrapping).
type boxTable struct {
	p      *printer
	widths []int
	buf    []byte
}

// top draws the top border and the header.
func (t *boxTable) top(header []string) {
	t.rule("┌", "┬", "┐")
	t.row(header)
	t.rule("├", "┼", "┤")
}

// bottom draws the bottom border.
func (t *boxTable) bottom() { t.rule("└", "┴", "┘") }

func (t *boxTable) rule(left, mid, right string) {
	b := append(t.buf[:0], left...)
	for i, w := range t.widths {
		if i > 0 {
			b = append(b, mid...)
		}
		for range w + 2 {
			b = append(b, "─"...)
		}
	}
	b = append(b, right...)
	b = append(b, '\n')
	t.buf = b
	t.p.write(b)
}

func (t *boxTable) row(cells []string) {
	t.begin()
	for i, c := range cells {
		t.cell(i, c, "")
	}
	t.end()
}

// begin, cell and end draw a row cell by cell; cell's text is s+suffix.
func (t *boxTable) begin() { t.buf = append(t.buf[:0], "│"...) }

func (t *boxTable) cell(i int, s, suffix string) {
	b := append(t.buf, ' ')
	b = append(b, s...)
	b = append(b, suffix...)
	for range t.widths[i] - cellWidth(s) - cellWidth(suffix) {
		b = append(b, ' ')
	}
	t.buf = append(b, " │"...)
}

// stamp is cell with a time stamp, formatted as stamp does.
func (t *boxTable) stamp(i int, at *time.Time) {
	b := append(t.buf, ' ')
	n := len(b)
	if at != nil {
		b = appendStamp(b, *at)
	}
	for range t.widths[i] - (len(b) - n) {
		b = append(b, ' ')
	}
	t.buf = append(b, " │"...)
}

// rolledBack is cell with the completion time of a rolled-back run and
// its marker, as completedRow writes them.
func (t *boxTable) rolledBack(i int, done, rolledBack *time.Time) {
	b := append(t.buf, ' ')
	n := len(b)
	if done != nil {
		b = appendStamp(b, *done)
	}
	b = append(b, rolledBackMarker...)
	if rolledBack != nil {
		b = appendStamp(b, *rolledBack)
	}
	b = append(b, ']')
	for range t.widths[i] - (len(b) - n) {
		b = append(b, ' ')
	}
	t.buf = append(b, " │"...)
}

func (t *boxTable) end() {
	t.buf = append(t.buf, '\n')
	t.p.write(t.buf)
}

// StreamStatusJSON writes the document `status --json` prints: what
// json.Encoder with SetIndent("", "  ") writes for s with its Completed and
// Failed lists (and their counts) read from h, written a list element at a
// time instead of held whole. Traces are included.
func StreamStatusJSON(ctx context.Context, w io.Writer, s *check.Snapshot, h *reader.History) error {
	p := &printer{w: w}
	doc := *s
	doc.Completed, doc.Failed = nil, nil
	doc.Counts.CompletedRows, doc.Counts.FailedRows = 0, 0
	head, err := topLevel(&doc)
	if err != nil {
		return err
	}
	p.printf("{")
	sep := "\n"
	field := func(f jsonField) {
		p.printf("%s  %s: ", sep, f.key)
		var b bytes.Buffer
		if err := json.Indent(&b, f.raw, "  ", "  "); err != nil && p.err == nil {
			p.err = err
		}
		p.write(b.Bytes())
		sep = ",\n"
	}
	// The lists follow "failing" in the check.Snapshot type.
	at := -1
	for i, f := range head {
		if f.name == "failing" {
			at = i
		}
	}
	if at < 0 {
		return errors.New("status JSON: the snapshot has no \"failing\" field to put the history after")
	}
	for _, f := range head[:at+1] {
		field(f)
	}
	// A list is left out, as omitempty does, until it has an element.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	list := func(key string) (elem func(v any) error, end func()) {
		n := 0
		elem = func(v any) error {
			if n == 0 {
				p.printf("%s  %q: [\n    ", sep, key)
			} else {
				p.printf(",\n    ")
			}
			n++
			buf.Reset()
			if err := enc.Encode(v); err != nil {
				return err
			}
			p.write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
			return p.err
		}
		end = func() {
			if n > 0 {
				p.printf("\n  ]")
				sep = ",\n"
			}
		}
		return elem, end
	}
	elem, end := list("completed")
	err = h.Completed(ctx, func(a *check.Attempt) error {
		doc.Counts.CompletedRows++
		return elem(a)
	})
	if err != nil {
		return err
	}
	end()
	elem, end = list("failed")
	err = h.Failed(ctx, true, func(f *check.Failure) error {
		doc.Counts.FailedRows++
		return elem(f)
	})
	if err != nil {
		return err
	}
	end()
	if doc.Counts.Rows, err = h.Rows(ctx); err != nil {
		return err
	}
	// Found as the lists streamed past; the snapshot's are among them.
	doc.Unreadable, doc.Counts.UnreadableRows = h.Unreadable()
	tail, err := topLevel(&doc)
	if err != nil {
		return err
	}
	for _, f := range tail {
		if !containsField(head[:at+1], f.name) {
			field(f)
		}
	}
	p.printf("\n}\n")
	return p.err
}

// jsonField is one top-level member of an encoded object.
type jsonField struct {
	name string // unquoted
	key  string // as encoded
	raw  json.RawMessage
}

// topLevel encodes v (an object) and returns its members in order.
func topLevel(v any) ([]jsonField, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out []jsonField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		key, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, jsonField{name: name, key: string(key), raw: raw})
	}
	return out, nil
}

func containsField(fs []jsonField, name string) bool {
	for _, f := range fs {
		if f.name == name {
			return true
		}
	}
	return false
}
