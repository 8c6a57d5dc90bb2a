package text

import (
	"io"
	"text/tabwriter"
	"time"
)

// NewTable is the writer of the commands' plain lists (outbox list, mute
// --list): tab-separated cells aligned in columns two spaces apart. Flush
// it after the last line.
func NewTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// Stamp is a time in a list's cell: UTC to the second, "-" for none.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// Cell makes text from the database, a peer or a person safe for one
// cell: one line (control and format characters, tabs and newlines
// become spaces), cut to limit runes; "-" when nothing is left.
func Cell(s string, limit int) string {
	if s = Line(s, limit); s == "" {
		return "-"
	}
	return s
}
