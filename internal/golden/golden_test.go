package golden

import (
	"strings"
	"testing"
)

func TestDiffMarksOnlyTheChangedLinesAndTheirNeighbours(t *testing.T) {
	a := "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n"
	b := "one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\nnine\n"
	got := Diff(a, b)
	for _, want := range []string{"- four\n", "+ FOUR\n", "+ nine\n", "  three\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "  one\n") {
		t.Errorf("diff shows a line far from any change:\n%s", got)
	}
	if Diff(a, a) != "" {
		t.Errorf("equal texts give a diff: %q", Diff(a, a))
	}
}

func TestDiffIsBounded(t *testing.T) {
	a := strings.Repeat("x\n", 1000)
	b := strings.Repeat("y\n", 1000)
	if n := strings.Count(Diff(a, b), "\n"); n > maxDiffLines+2 {
		t.Errorf("diff of two 1000-line texts has %d lines", n)
	}
}
