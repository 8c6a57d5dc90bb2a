package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// aliasBomb is a channel entry whose to: list nests aliases levels deep,
// each level nine of the one below: 9^levels values from a few hundred
// bytes.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("app: /srv/x\nchannels:\n  - name: m\n    email:\n      host: h\n      from: a@b.c\n      to:\n")
	b.WriteString("        - &l0 [" + strings.TrimSuffix(strings.Repeat(`"lol", `, 9), ", ") + "]\n")
	for i := 1; i < levels; i++ {
		b.WriteString(fmt.Sprintf("        - &l%d [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", ")))
	}
	return b.String()
}

// aliasChain nests one alias in the next, depth deep.
func aliasChain(depth int) string {
	var b strings.Builder
	b.WriteString("app: /srv/x\npaths:\n  operations:\n    - &c0 [database/operations]\n")
	for i := 1; i <= depth; i++ {
		b.WriteString(fmt.Sprintf("    - &c%d [*c%d]\n", i, i-1))
	}
	return b.String()
}

func TestAliasesExpandOnlyWithinTheirBounds(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string // "" accepts
	}{
		{"six levels of nine", aliasBomb(6), "aliases stand for more than 10000 values"},
		{"eight levels of nine", aliasBomb(8), "aliases stand for more than 10000 values"},
		{"four levels of nine", aliasBomb(4), ""},
		{"wide rather than deep", "app: /srv/x\nx: &w [" + strings.TrimSuffix(strings.Repeat(`"a", `, 2000), ", ") + "]\npaths:\n  operations: [" +
			strings.TrimSuffix(strings.Repeat("*w, ", 6), ", ") + "]\n", "line 4: the file's aliases stand for more than 10000 values"},
		{"nested five deep", aliasChain(5), ""},
		{"nested six deep", aliasChain(6), "line 10: aliases nest more than 5 deep"},
		{"a shared channel configuration", "app: /srv/x\nchannels:\n  - name: a\n    email: &mail {host: h, from: a@b.c, to: [d@e.f]}\n  - name: b\n    email: *mail\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("seqwatch.yaml", []byte(tc.yaml), func(string) string { return "" })
			switch {
			case tc.want == "" && err != nil && strings.Contains(err.Error(), "alias"):
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestAConfigurationFileIsAtMostOneMebibyte(t *testing.T) {
	// Valid YAML of a mebibyte and one byte: a comment does it.
	big := "app: /srv/x\n#" + strings.Repeat("x", MaxFileSize) + "\n"
	if _, err := Parse("seqwatch.yaml", []byte(big), os.Getenv); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("Parse: %v, want the size named", err)
	}
	p := filepath.Join(t.TempDir(), "seqwatch.yaml")
	if err := os.WriteFile(p, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), p); err == nil || !strings.Contains(err.Error(), p+" is larger than 1 MiB") {
		t.Errorf("Load: %v, want the file and its size named", err)
	}
	// Just under the limit is read.
	fits := "app: /srv/x\n#" + strings.Repeat("x", MaxFileSize-20) + "\n"
	if err := os.WriteFile(p, []byte(fits), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), p); err != nil {
		t.Errorf("a file under 1 MiB: %v", err)
	}
}
