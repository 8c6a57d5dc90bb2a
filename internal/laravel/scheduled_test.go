package laravel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/internal/laravel"
)

// TestImplementsScheduled reads operation files as Sequencer's users write
// them: the contract imported, named in full, aliased, in a group import,
// among other interfaces, on named and anonymous classes; and the files
// that only mention it.
func TestImplementsScheduled(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want bool
	}{
		{"imported, anonymous class (the make:operation stub)", `<?php
use Cline\Sequencer\Contracts\Scheduled;
use DateTimeInterface;

return new class implements Scheduled
{
    public function executeAt(): DateTimeInterface { return now()->addHour(); }
    public function handle(): void {}
};`, true},
		{"by its full name, among other interfaces", `<?php
return new class() implements \Cline\Sequencer\Contracts\Operation, \Cline\Sequencer\Contracts\Scheduled {
    public function handle(): void {}
};`, true},
		{"full name without the leading backslash in a namespace-less file", `<?php
return new class implements Cline\Sequencer\Contracts\Scheduled {};`, true},
		{"aliased", `<?php
use Cline\Sequencer\Contracts\Scheduled as RunsLater;
final class ArchiveOldRecords implements Operation, RunsLater {}
return new ArchiveOldRecords();`, true},
		{"group import", `<?php
use Cline\Sequencer\Contracts\{Asynchronous, Scheduled};
return new class implements Asynchronous, Scheduled {};`, true},
		{"namespace imported, then qualified", `<?php
namespace App\Operations;
use Cline\Sequencer\Contracts;
final readonly class Nightly implements Contracts\Scheduled {}`, true},
		{"case does not matter to PHP", `<?php
use cline\sequencer\contracts\scheduled;
return new class implements SCHEDULED {};`, true},
		{"imported but not implemented", `<?php
use Cline\Sequencer\Contracts\Scheduled;
use Cline\Sequencer\Contracts\Asynchronous;
// implements Scheduled later, maybe
return new class implements Asynchronous {
    public string $note = 'implements Scheduled';
};`, false},
		{"another package's Scheduled", `<?php
use App\Contracts\Scheduled;
return new class implements Scheduled {};`, false},
		{"in a comment or a string only", `<?php
/* return new class implements Scheduled {}; */
# implements Scheduled
$doc = <<<TXT
class X implements Scheduled {}
TXT;
return new class implements Operation {};`, false},
		{"a plain operation", `<?php
use Cline\Sequencer\Contracts\Operation;
return new class() implements Operation { public function handle(): void {} };`, false},
		{"closures' use and traits do not confuse it", `<?php
use Cline\Sequencer\Contracts\Scheduled;
return new class implements Scheduled {
    use SomeTrait;
    public function handle(): void { $f = function () use ($x) { return $x; }; }
};`, true},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.Repeat("x", i+1)+".php")
			if err := os.WriteFile(p, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := laravel.ImplementsScheduled(p)
			if err != nil || got != tc.want {
				t.Errorf("ImplementsScheduled = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if got, err := laravel.ImplementsScheduled(filepath.Join(dir, "gone.php")); got || err != nil {
		t.Errorf("a file that is gone: %v, %v; want false and no error", got, err)
	}
}

func TestOperationFileFindsTheFirstDirectoryThatHoldsIt(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	const name = "2024_01_15_130000_NotifyUsers"
	if err := os.WriteFile(filepath.Join(b, name+".php"), []byte("<?php"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := laravel.OperationFile([]string{a, b}, name+".php"); got != filepath.Join(b, name+".php") {
		t.Errorf("OperationFile = %q", got)
	}
	if got := laravel.OperationFile([]string{a}, name); got != "" {
		t.Errorf("OperationFile of a missing file = %q", got)
	}
}

// A relative application root is taken from the working directory once:
// the discovery paths and the SQLite file are absolute, never the root
// joined twice (shop/shop/database/operations).
func TestResolveMakesARelativeApplicationRootAbsolute(t *testing.T) {
	parent := t.TempDir()
	shop := filepath.Join(parent, "shop")
	if err := os.MkdirAll(shop, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shop, ".env"), []byte("DB_CONNECTION=sqlite\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, app string }{
		{parent, "shop"}, {parent, "./shop"}, {filepath.Join(shop, "database"), "../../shop"}, {shop, "."},
	} {
		t.Run(tc.app, func(t *testing.T) {
			if err := os.MkdirAll(tc.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Chdir(tc.dir)
			src, err := laravel.Resolve(laravel.Settings{AppDir: tc.app})
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(shop, "database", "operations"); len(src.OperationPaths) != 1 || src.OperationPaths[0] != want {
				t.Errorf("operation paths %q, want %q", src.OperationPaths, want)
			}
			if want := filepath.Join(shop, "database", "database.sqlite"); src.Conn.Database != want || src.Name != "shop" {
				t.Errorf("database %q, name %q; want %q, shop", src.Conn.Database, src.Name, want)
			}
		})
	}
}
