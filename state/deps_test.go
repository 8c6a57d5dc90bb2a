package state_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// forbiddenDeps are what state must not depend on, directly or not (see
// the package comment): a package here, or any below it.
var forbiddenDeps = []string{
	"database/sql",
	"github.com/jackc/pgx",
	"github.com/go-sql-driver/mysql",
	"modernc.org/sqlite",
	"github.com/seqwatch/seqwatch/internal/reader",
	"github.com/seqwatch/seqwatch/internal/laravel",
	"github.com/seqwatch/seqwatch/internal/render",
	"github.com/seqwatch/seqwatch/cmd",
}

// TestDependencies keeps the daemon's state apart from the database it
// watches: it keeps the read mark (check.Mark) but never reads.
func TestDependencies(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const self = "github.com/seqwatch/seqwatch/state"
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, self) {
		t.Fatalf("go list -deps did not list the package itself: %q", deps)
	}
	for _, d := range deps {
		for _, bad := range forbiddenDeps {
			if d == bad || strings.HasPrefix(d, bad+"/") {
				t.Errorf("%s depends on %s", self, d)
			}
		}
	}
}
