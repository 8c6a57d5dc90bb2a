package check

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestBoxTableDrawsWhatTablewriterDraws: the completed table is drawn a row
// at a time from widths known beforehand; it must be byte for byte the
// table tablewriter draws from all the rows at once (today's output), for
// any text Sanitize lets through: ASCII, wide CJK, emoji, combining marks,
// ambiguous-width characters, the ellipsis, empty cells.
func TestBoxTableDrawsWhatTablewriterDraws(t *testing.T) {
	pieces := []string{"a", "Z", "0", "_", "/", "\\", ".", "-", " ", "日本", "語", "🚀", "é", "e\u0301", "…", "ß", "Ω", "한", "ｱ", "\u00a0", "·", "×", "→"}
	rng := rand.New(rand.NewPCG(1, 2))
	cell := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return Sanitize(b.String(), 1+rng.IntN(20))
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
		var want, got bytes.Buffer
		(&printer{w: &want}).table(header, rows)

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
		if got.String() != want.String() {
			t.Fatalf("table %d differs:\nheader %q\nrows %q\ntablewriter:\n%s\nboxTable:\n%s", i, header, rows, want.String(), got.String())
		}
	}
}

// TestPlainWidthIsSanitizesWidth: the width the database's length gives a
// name of printable ASCII is the width of the cell Sanitize makes of it,
// on both sides of the cut.
func TestPlainWidthIsSanitizesWidth(t *testing.T) {
	for _, n := range []int{0, 1, 39, 40, 41, 254, 255, 256, 300} {
		s := strings.Repeat("x", n)
		if got, want := plainWidth(n, nameMax)+len(".php"), cellWidth(displayName(s)); got != want {
			t.Errorf("name of %d: plainWidth %d, cell width %d", n, got, want)
		}
		if got, want := plainWidth(n, typeMax), cellWidth(Sanitize(s, typeMax)); got != want {
			t.Errorf("type of %d: plainWidth %d, cell width %d", n, got, want)
		}
	}
}
