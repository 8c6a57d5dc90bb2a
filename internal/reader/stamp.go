package reader

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/text"
)

// wallTime scans one time stamp column: a Laravel wall-clock value
// without a zone (PostgreSQL timestamp, MySQL timestamp text, SQLite
// text) read in the application's zone, never the monitoring host's.
//
// A value that is not NULL and not a time stamp (empty, garbage, MySQL's
// zero date, a REAL, PostgreSQL's infinity) is not an error: the row is
// read without it, and the value is kept (raw) for the read to name.
// One such row must not make the whole read fail.
type wallTime struct {
	t time.Time
	// valid says t was read; set says the value is not NULL (valid, or a
	// value that cannot be read: raw).
	valid, set bool
	raw        string
	// col names the column, for the note of an unreadable value.
	col string
	loc *time.Location
}

// stamp returns the scanner of the time stamp column col, in r's zone.
func (r *reader) stamp(col string) *wallTime { return &wallTime{col: col, loc: r.loc} }

// ptr is the time, or nil when the value is NULL or cannot be read.
func (w *wallTime) ptr() *time.Time {
	if !w.valid {
		return nil
	}
	t := w.t
	return &t
}

// unreadable says the value is set but is not a time stamp.
func (w *wallTime) unreadable() bool { return w.set && !w.valid }

// Scan implements sql.Scanner. It never fails.
func (w *wallTime) Scan(v any) error {
	w.t, w.valid, w.set, w.raw = time.Time{}, false, v != nil, ""
	if v == nil {
		return nil
	}
	if t, ok := parseStamp(v, w.loc); ok {
		w.t, w.valid = t, true
		return nil
	}
	w.raw = rawValue(v)
	return nil
}

var wallLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02"}

// parseStamp is the one reading of a time stamp as a driver returns it
// (every read's time stamps go through it): a time.Time (PostgreSQL),
// text (MySQL without parseTime, SQLite), or an integer (Unix seconds in
// SQLite). Zone-less values are wall-clock times in loc (nil: UTC). ok is
// false for anything else: text that is not a date (MySQL's zero date
// "0000-00-00 00:00:00" among it), a REAL, PostgreSQL's "infinity" (which
// pgx returns as text).
func parseStamp(v any, loc *time.Location) (_ time.Time, ok bool) {
	if loc == nil {
		loc = time.UTC
	}
	switch x := v.(type) {
	case time.Time:
		if x.Location() == time.UTC || x.Location() == time.Local {
			// A zone-less column: keep the wall clock, put it in the app's zone.
			return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), loc), true
		}
		return x.In(loc), true
	case []byte:
		return parseStamp(string(x), loc)
	case string:
		s := strings.TrimSpace(x)
		for _, layout := range wallLayouts {
			if strings.HasSuffix(layout, "Z07:00") {
				if t, err := time.Parse(layout, s); err == nil {
					return t.In(loc), true
				}
			} else if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, true
			}
		}
	case int64:
		return time.Unix(x, 0).In(loc), true
	}
	return time.Time{}, false
}

// rawValue is an unreadable value as it may be shown: cleaned, one line,
// cut short.
func rawValue(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	default:
		s = fmt.Sprint(x)
	}
	return text.Line(text.Clean(s), check.UnreadableValueLen)
}

// maxUnreadableRows bounds the rows an unreadableSet tells apart: past it,
// rows are still counted, but a row met twice may count twice.
const maxUnreadableRows = 10000

// unreadableSet collects the unreadable values a read meets, each row and
// column once: the first check.MaxUnreadable named, every row counted.
// One set serves a whole read transaction (Read and the History that
// follows it in ReadWithHistory), so that a row both read as a problem
// and listed is named once.
type unreadableSet struct {
	values map[[3]string]bool
	rows   map[[2]string]bool
	list   []check.Unreadable
	// over counts the rows met after maxUnreadableRows.
	over int
}

func newUnreadableSet() *unreadableSet {
	return &unreadableSet{values: map[[3]string]bool{}, rows: map[[2]string]bool{}}
}

// add records u once.
func (s *unreadableSet) add(u check.Unreadable) {
	row := [2]string{u.Table, u.ID}
	value := [3]string{u.Table, u.ID, u.Column}
	if s.values[value] {
		return
	}
	if !s.rows[row] {
		if len(s.rows) >= maxUnreadableRows {
			s.over++
			return
		}
		s.rows[row] = true
	}
	s.values[value] = true
	if len(s.list) < check.MaxUnreadable {
		s.list = append(s.list, u)
	}
}

// count is the number of rows with an unreadable value.
func (s *unreadableSet) count() int { return len(s.rows) + s.over }

// named returns a copy of the values named so far.
func (s *unreadableSet) named() []check.Unreadable {
	if len(s.list) == 0 {
		return nil
	}
	return append([]check.Unreadable(nil), s.list...)
}

// fill puts what the set holds into the snapshot.
func (s *unreadableSet) fill(snap *check.Snapshot) {
	snap.Unreadable, snap.Counts.UnreadableRows = s.named(), s.count()
}

// note records the unreadable values among stamps, of the row of table
// with id (and, for an error row, its operation's id).
func (r *reader) note(table, id, operationID string, stamps ...*wallTime) {
	if r.bad == nil {
		return
	}
	for _, w := range stamps {
		if w.unreadable() {
			r.bad.add(check.Unreadable{Table: table, ID: text.Line(id, 64), OperationID: text.Line(operationID, 64), Column: w.col, Value: w.raw})
		}
	}
}
