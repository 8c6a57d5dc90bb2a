package render

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/seqwatch/seqwatch/internal/text"
)

// tablewriterTable draws a table as status drew it with tablewriter.
func tablewriterTable(t *testing.T, header []string, rows [][]string) string {
	t.Helper()
	var b bytes.Buffer
	tbl := tablewriter.NewTable(&b,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tbl.Header(header)
	if err := tbl.Bulk(rows); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Render(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestBoxTableDrawsWhatTablewriterDraws: the completed table is drawn a row
// at a time from widths known beforehand; it must be byte for byte the
// table tablewriter draws from all the rows at once (today's output), for
// any text text.Line lets through: ASCII, wide CJK, emoji, combining marks,
// ambiguous-width characters, the ellipsis, empty cells.
func TestBoxTableDrawsWhatTablewriterDraws(t *testing.T) {
	pieces := []string{"a", "Z", "0", "_", "/", "\\", ".", "-", " ", "日本", "語", "🚀", "é", "e\u0301", "…", "ß", "Ω", "한", "ｱ", "\u00a0", "·", "×", "→"}
	rng := rand.New(rand.NewPCG(1, 2))
	cell := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return text.Line(b.String(), 1+rng.IntN(20))
	}
	for i := range 300 {
		cols := 1 + rng.IntN(4)
		header := make([]string, cols)
		for c := range header {
			header[c] = "H" + cell()
		}
		rows := make([][]string, 1+rng.IntN(5))
		for r := range rows {
			rows[r] = make([]string, cols)
			for c := range rows[r] {
				rows[r][c] = cell()
			}
		}
		want := tablewriterTable(t, header, rows)
		var got, whole bytes.Buffer
		widths := make([]int, cols)
		for c := range widths {
			widths[c] = cellWidth(header[c])
			for _, r := range rows {
				widths[c] = max(widths[c], cellWidth(r[c]))
			}
		}
		p := &printer{w: &got}
		bt := boxTable{p: p, widths: widths}
		bt.top(header)
		for _, r := range rows {
			bt.row(r)
		}
		bt.bottom()
		(&printer{w: &whole}).table(header, rows)
		if whole.String() != want {
			t.Fatalf("table %d: printer.table differs:\nheader %q\nrows %q\ntablewriter:\n%s\nprinter.table:\n%s", i, header, rows, want, whole.String())
		}
		if got.String() != want {
			t.Fatalf("table %d differs:\nheader %q\nrows %q\ntablewriter:\n%s\nboxTable:\n%s", i, header, rows, want, got.String())
		}
	}
}

// TestPlainWidthIsSanitizesWidth: the width the database's length gives a
// name of printable ASCII is the width of the cell text.Line makes of it,
// on both sides of the cut.
func TestPlainWidthIsSanitizesWidth(t *testing.T) {
	for _, n := range []int{0, 1, 39, 40, 41, 254, 255, 256, 300} {
		s := strings.Repeat("x", n)
		if got, want := plainWidth(n, nameMax)+len(".php"), cellWidth(displayName(s)); got != want {
			t.Errorf("name of %d: plainWidth %d, cell width %d", n, got, want)
		}
		if got, want := plainWidth(n, typeMax), cellWidth(text.Line(s, typeMax)); got != want {
			t.Errorf("type of %d: plainWidth %d, cell width %d", n, got, want)
		}
	}
}

// TestFastPathsGiveWhatTheyStandFor: sanitize and appendStamp, which spare
// a million rows text.Line's and Format's cost, give the same text.
func TestFastPathsGiveWhatTheyStandFor(t *testing.T) {
	for _, s := range []string{"", "a", "2024_01_01_000000_Op", "a b", " a", "a|b", "|", "a\tb", "a\x7f", "é", "日本", strings.Repeat("x", 40), strings.Repeat("x", 41), strings.Repeat("y", 255), strings.Repeat("y", 256), "~!{}"} {
		for _, n := range []int{typeMax, nameMax} {
			if got, want := sanitize(s, n), text.Line(s, n); got != want {
				t.Errorf("sanitize(%q, %d) = %q, text.Line gives %q", s, n, got, want)
			}
		}
	}
	loc, err := time.LoadLocation("Asia/Kathmandu")
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{{}, time.Date(2024, 6, 1, 9, 5, 7, 999, time.UTC), time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(999, 12, 31, 23, 59, 59, 0, loc), time.Date(9999, 12, 31, 23, 59, 59, 0, loc), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2038, 1, 19, 3, 14, 8, 0, loc)} {
		if got, want := string(appendStamp(nil, at)), stamp(at); got != want {
			t.Errorf("appendStamp(%v) = %q, stamp gives %q", at, got, want)
		}
	}
}
