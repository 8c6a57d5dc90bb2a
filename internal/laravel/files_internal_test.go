package laravel

import (
	"os"
	"path/filepath"
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
	for _, f := range files {
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
