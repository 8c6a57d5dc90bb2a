package webhook

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// maxVerifyProgram is the size a program that only verifies deliveries may
// build to: a receiver should not carry seqwatch's database drivers (it was
// 14.7 MB when the channels imported the reader; 5.3 MB without them).
const maxVerifyProgram = 8_000_000

// forbiddenDeps are packages no channel may pull in: the database reader
// and what comes with it.
var forbiddenDeps = []string{
	"github.com/seqwatch/seqwatch/check",
	"github.com/seqwatch/seqwatch/internal/reader",
	"github.com/seqwatch/seqwatch/internal/laravel",
	"github.com/seqwatch/seqwatch/internal/render",
	"github.com/seqwatch/seqwatch/state",
	"github.com/seqwatch/seqwatch/cmd/",
	"github.com/jackc/pgx",
	"github.com/go-sql-driver/mysql",
	"modernc.org/sqlite",
	"github.com/olekukonko/tablewriter",
}

// goTool runs the go command in dir with a deadline and returns its
// standard output.
func goTool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func TestChannelsDoNotDependOnTheReader(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
	}{
		{"every channel and the notify core", "./notify/..."},
		{"a program that only calls Verify", "./notify/webhook/testdata/verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deps := strings.Fields(goTool(t, "../..", "list", "-deps", tt.pattern))
			if len(deps) == 0 {
				t.Fatal("go list -deps listed nothing")
			}
			for _, d := range deps {
				for _, bad := range forbiddenDeps {
					if d == bad || strings.HasPrefix(d, strings.TrimSuffix(bad, "/")+"/") {
						t.Errorf("%s depends on %s", tt.pattern, d)
					}
				}
			}
		})
	}
}

func TestVerifyOnlyProgramStaysSmall(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "verify")
	goTool(t, ".", "build", "-o", bin, "./testdata/verify")
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() >= maxVerifyProgram {
		t.Errorf("a program importing only notify/webhook builds to %d bytes, want under %d", fi.Size(), maxVerifyProgram)
	}
}
