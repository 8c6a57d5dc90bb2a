package testkit

import (
	"fmt"
	"strings"
)

// diffContext is how many unchanged lines a hunk shows around a change.
const diffContext = 3

// maxDiffCells bounds the table of the minimal diff (4 bytes a cell, so
// 16 MiB): past it, the changed middle of the two texts is shown as
// removed and added whole, which is still a correct diff, only not the
// smallest one.
const maxDiffCells = 1 << 22

// Diff returns a unified diff, line by line, from text a (named aName) to
// text b, with three lines of context around each change; "" when the
// texts are equal. A last line without a newline is marked as diff marks
// it ("\ No newline at end of file"), so that a missing newline shows.
func Diff(aName, a, bName, b string) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := editScript(al, bl)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops) {
		writeHunk(&out, al, bl, ops[h[0]:h[1]])
	}
	return out.String()
}

// splitLines cuts s after each newline; a last line without one is kept.
func splitLines(s string) []string {
	var lines []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines
}

// edit is one step from a to b: a line of both (' '), a line of a only
// ('-') or a line of b only ('+'); ai and bi are the positions in a and b
// where the step is taken.
type edit struct {
	op     byte
	ai, bi int
}

// editScript is a shortest edit script from a to b (by their longest
// common subsequence, after the common head and tail are set aside), with
// the removals of a change before its additions.
func editScript(a, b []string) []edit {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	ops := make([]edit, 0, len(a)+len(b))
	for i := range head {
		ops = append(ops, edit{' ', i, i})
	}
	am, bm := a[head:len(a)-tail], b[head:len(b)-tail]
	n, m := len(am), len(bm)
	if n*m > maxDiffCells {
		for i := range n {
			ops = append(ops, edit{'-', head + i, head})
		}
		for j := range m {
			ops = append(ops, edit{'+', head + n, head + j})
		}
	} else {
		// lcs[i*(m+1)+j] is the length of the longest common subsequence
		// of am[i:] and bm[j:].
		lcs := make([]int32, (n+1)*(m+1))
		at := func(i, j int) int32 { return lcs[i*(m+1)+j] }
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if am[i] == bm[j] {
					lcs[i*(m+1)+j] = at(i+1, j+1) + 1
				} else {
					lcs[i*(m+1)+j] = max(at(i+1, j), at(i, j+1))
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && am[i] == bm[j]:
				ops = append(ops, edit{' ', head + i, head + j})
				i, j = i+1, j+1
			case j == m || (i < n && at(i+1, j) >= at(i, j+1)):
				ops = append(ops, edit{'-', head + i, head + j})
				i++
			default:
				ops = append(ops, edit{'+', head + i, head + j})
				j++
			}
		}
	}
	for k := range tail {
		ops = append(ops, edit{' ', len(a) - tail + k, len(b) - tail + k})
	}
	return ops
}

// hunks returns the [start, end) ranges of ops to print: each change with
// its context, changes whose context meets merged into one hunk.
func hunks(ops []edit) [][2]int {
	var out [][2]int
	for k := 0; k < len(ops); k++ {
		if ops[k].op == ' ' {
			continue
		}
		start := max(0, k-diffContext)
		end := k
		// Extend over changes and the unchanged runs short enough to
		// join the next change's context.
		for end < len(ops) {
			if ops[end].op != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].op == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end = min(end+diffContext, len(ops))
				break
			}
			end = run
		}
		out = append(out, [2]int{start, end})
		k = end - 1
	}
	return out
}

// writeHunk writes one hunk: its "@@ -a,n +b,m @@" header and its lines.
func writeHunk(out *strings.Builder, a, b []string, ops []edit) {
	var na, nb int
	for _, e := range ops {
		if e.op != '+' {
			na++
		}
		if e.op != '-' {
			nb++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(ops[0].ai, na), hunkRange(ops[0].bi, nb))
	for _, e := range ops {
		var line string
		if e.op == '-' {
			line = a[e.ai]
		} else {
			line = b[e.bi]
		}
		out.WriteByte(e.op)
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange is one side of a hunk header: the first line (1-based) and
// the count; an empty side names the line before it, as diff -u does.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
