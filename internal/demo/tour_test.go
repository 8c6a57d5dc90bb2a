package demo_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/demo"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
	"github.com/seqwatch/seqwatch/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The tour on the sample application: check's line and exit status, the
// first tick's digest on the console, a wait during which the demo's
// queue worker completes an asynchronous operation after 3 seconds of
// the wait's clock, and the next steps; with --keep, where the
// application stays. The status drawing is the caller's.
func TestTourShowsEachStageOnTheSampleApplication(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, tc := range []struct {
		name string
		kept bool
	}{{"tour", false}, {"tour_kept", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := ""
			if tc.kept {
				dir = t.TempDir()
			}
			var out bytes.Buffer
			slept := time.Duration(0)
			err := demo.Tour{Dir: dir, Now: now, Out: &out,
				// The wait's clock moves by what it sleeps; the test does not.
				Sleep: func(ctx context.Context, d time.Duration) error { slept += d; return ctx.Err() },
				Status: func(ctx context.Context, w io.Writer, src laravel.Source, at time.Time) (*check.Snapshot, error) {
					snap, err := reader.ReadOnce(ctx, src, at, reader.ReadOptions{})
					if err == nil {
						fmt.Fprintf(w, "(the caller draws the status of %s: %d failing, %d in progress)\n", snap.App, snap.Counts.Failing, snap.Counts.InProgress)
					}
					return snap, err
				}}.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if slept < 3*time.Second || slept > 10*time.Second {
				t.Errorf("the wait slept %s, want the 3s of the worker and a poll or so", slept)
			}
			// The second line names the directory.
			lines := strings.SplitN(out.String(), "\n", 3)
			if len(lines) < 3 || (tc.kept && strings.TrimSpace(lines[1]) != dir) {
				t.Fatalf("the directory is not on the second line:\n%s", out.String())
			}
			dir = strings.TrimSpace(lines[1])
			if _, err := os.Stat(filepath.Join(dir, ".env")); tc.kept == os.IsNotExist(err) {
				t.Errorf("after the tour, %s/.env: %v; want it kept only when asked", dir, err)
			}
			got := strings.ReplaceAll(out.String(), dir, "DIR")
			testkit.Golden(t, filepath.Join("testdata", tc.name+".golden"), []byte(got), update)
		})
	}
}
