package check_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// forbiddenDeps are what check must not depend on, directly or not (see
// the package comment): a package here, or any below it.
var forbiddenDeps = []string{
	"database/sql",
	"github.com/jackc/pgx",
	"github.com/go-sql-driver/mysql",
	"modernc.org/sqlite",
	"github.com/olekukonko/tablewriter",
	"github.com/seqwatch/seqwatch/internal/reader",
	"github.com/seqwatch/seqwatch/internal/laravel",
	"github.com/seqwatch/seqwatch/internal/render",
	"github.com/seqwatch/seqwatch/state",
	"github.com/seqwatch/seqwatch/internal/dbtest",
	"github.com/seqwatch/seqwatch/cmd",
}

// TestDependencies keeps check the model and the rules: no database
// driver, no reader, nothing that resolves an application or draws a
// table.
func TestDependencies(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const self = "github.com/seqwatch/seqwatch/check"
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
