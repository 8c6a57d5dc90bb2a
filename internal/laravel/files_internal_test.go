package laravel

import "testing"

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
