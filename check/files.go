package check

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// fileName is Sequencer's and Laravel's pattern for operation and
// migration files; other files in the directories are ignored, as
// Sequencer ignores them.
var fileName = regexp.MustCompile(`^(\d{4}_\d{2}_\d{2}_\d{6})_[^/]+\.php$`)

// StripPHP returns an operation or migration name without a ".php" suffix:
// Sequencer stores names with and without it.
func StripPHP(name string) string { return strings.TrimSuffix(name, ".php") }

// discover lists the matching files in dirs, sorted by name. A directory
// that does not exist holds nothing (an application without operations);
// one that cannot be read is an error.
func discover(dirs []string) ([]PendingFile, []string, error) {
	var files []PendingFile
	var warnings []string
	seen := map[string]bool{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			warnings = append(warnings, fmt.Sprintf("directory %s does not exist", dir))
			continue
		}
		if err != nil {
			return nil, nil, &ConfigError{Err: fmt.Errorf("read directory %s: %w (seqwatch needs read access to the application's operation and migration files)", dir, plainFSError(err))}
		}
		for _, e := range entries {
			m := fileName.FindStringSubmatch(e.Name())
			if m == nil || e.IsDir() {
				continue
			}
			name := StripPHP(e.Name())
			if seen[name] {
				continue
			}
			seen[name] = true
			files = append(files, PendingFile{Timestamp: m[1], Name: name, File: e.Name(), Path: filepath.Join(dir, e.Name())})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, warnings, nil
}
