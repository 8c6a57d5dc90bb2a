package laravel

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestFileTimestampFollowsSequencersPattern(t *testing.T) {
	for _, tc := range []struct {
		name, ts string
		ok       bool
	}{
		{"2024_01_15_130000_NotifyUsers.php", "2024_01_15_130000", true},
		{"0001_01_01_000000_create_users_table.php", "0001_01_01_000000", true},
		{"2024_01_15_130000_x.php", "2024_01_15_130000", true},
		{"2024_01_15_130000_.php", "", false},
		{"2024_01_15_130000_NotifyUsers.php.bak", "", false},
		{"2024_01_15_13000_NotifyUsers.php", "", false},
		{"2024-01-15_130000_NotifyUsers.php", "", false},
		{"README.md", "", false},
		{".gitkeep", "", false},
		{"2024_bad.php", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, ok := fileTimestamp(tc.name)
			if ts != tc.ts || ok != tc.ok {
				t.Errorf("fileTimestamp(%q) = %q, %v; want %q, %v", tc.name, ts, ok, tc.ts, tc.ok)
			}
		})
	}
}

// TestDiscoverListsMatchingFilesOnceSortedByName: files of Sequencer's
// pattern, not directories nor other files, each name once (the first
// directory's file), sorted by name, with the path each was found at.
func TestDiscoverListsMatchingFilesOnceSortedByName(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	for path, dir := range map[string]bool{
		"a/2024_01_16_090000_Second.php":  false,
		"a/2024_01_15_130000_First.php":   false,
		"a/README.md":                     false,
		"a/2024_01_17_000000_Dir.php":     true,
		"b/2024_01_15_130000_First.php":   false,
		"b/2023_12_01_000000_Earlier.php": false,
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if dir {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gone := filepath.Join(root, "gone")
	files, missing, err := Discover([]string{a + "/", b, gone})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files.Files() {
		got = append(got, f.Timestamp+" "+f.Name+" "+f.File+" "+f.Path)
	}
	want := []string{
		"2023_12_01_000000 2023_12_01_000000_Earlier 2023_12_01_000000_Earlier.php " + filepath.Join(b, "2023_12_01_000000_Earlier.php"),
		"2024_01_15_130000 2024_01_15_130000_First 2024_01_15_130000_First.php " + filepath.Join(a, "2024_01_15_130000_First.php"),
		"2024_01_16_090000 2024_01_16_090000_Second 2024_01_16_090000_Second.php " + filepath.Join(a, "2024_01_16_090000_Second.php"),
	}
	if !slices.Equal(got, want) || !slices.Equal(missing, []string{gone}) {
		t.Errorf("Discover = %q, missing %q; want %q, missing %q", got, missing, want, []string{gone})
	}
}

// heapHeld is the live heap after collections (two: what sync.Pools
// held survives one).
func heapHeld() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestDiscoverHoldsTheNamesAndFewBytesMore: a listing of 2,000 files holds
// their names and at most 8 bytes more per file (not a struct, a name and
// a full path each: 250 bytes a file, 23 MB of a thousand applications'
// first tick with 8 ticking at once), and a file taken from it to keep (a
// pending file) does not keep the listing alive.
func TestDiscoverHoldsTheNamesAndFewBytesMore(t *testing.T) {
	dir := t.TempDir()
	const n = 2000
	names := 0
	for i := range n {
		name := fmt.Sprintf("2024_01_15_%06d_SendTheWelcomeEmailToUsers%04d.php", i, i)
		names += len(name)
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := heapHeld()
	l, _, err := Discover([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	held := int64(heapHeld()) - int64(before)
	if l.Len() != n {
		t.Fatalf("Discover listed %d files; want %d", l.Len(), n)
	}
	if budget := int64(names + 8*n + 4096); held > budget {
		t.Errorf("a listing of %d files (%d bytes of names) holds %d bytes of heap (%.0f a file); want at most %d", n, names, held, float64(held)/n, budget)
	}
	t.Logf("%d files, %d bytes of names: %d bytes held", n, names, held)
	kept := l.File(n / 2)
	l = nil
	runtime.KeepAlive(l)
	if left := int64(heapHeld()) - int64(before); left > 4096 {
		t.Errorf("one file kept from a listing holds %d bytes of heap; want at most 4096 (the listing's names are %d bytes)", left, names)
	}
	if want := filepath.Join(dir, fmt.Sprintf("2024_01_15_%06d_SendTheWelcomeEmailToUsers%04d.php", n/2, n/2)); kept.Path != want {
		t.Errorf("File(%d).Path = %q; want %q", n/2, kept.Path, want)
	}
}
