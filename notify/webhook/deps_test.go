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

// What a receiver's program may depend on is checked with the other
// layering rules (internal/layering); here, what it weighs.
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
