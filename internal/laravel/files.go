package laravel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/text"
)

// fileTimestamp returns the YYYY_MM_DD_HHMMSS prefix of a name that
// follows Sequencer's and Laravel's pattern for operation and migration
// files (YYYY_MM_DD_HHMMSS_Name.php); other files in the directories are
// ignored, as Sequencer ignores them. Written out rather than as a regular
// expression: an application can have ten thousand files.
func fileTimestamp(name string) (string, bool) {
	const layout = "dddd_dd_dd_dddddd_"
	if len(name) <= len(layout)+len(".php") || !strings.HasSuffix(name, ".php") {
		return "", false
	}
	for i := 0; i < len(layout); i++ {
		c := name[i]
		if layout[i] == 'd' && (c < '0' || c > '9') || layout[i] == '_' && c != '_' {
			return "", false
		}
	}
	return name[:len(layout)-1], true
}

// StripPHP returns an operation or migration name without a ".php" suffix:
// Sequencer stores names with and without it.
func StripPHP(name string) string { return strings.TrimSuffix(name, ".php") }

// Discover lists the matching files in dirs, sorted by name, and the
// directories that do not exist (missing): they hold nothing, and the
// caller says so. A directory that cannot be read is an error. It runs on
// every full read of every application (ten thousand files each, a
// thousand applications): the entries are read unsorted (they are sorted
// once, here) and each path is one concatenation.
func Discover(dirs []string) (files []check.PendingFile, missing []string, err error) {
	// Within one directory the names are unique (every match ends in
	// .php); across directories the first one's file is kept.
	var seen map[string]bool
	if len(dirs) > 1 {
		seen = map[string]bool{}
	}
	for _, dir := range dirs {
		entries, err := readDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, dir)
			continue
		}
		if err != nil {
			return nil, nil, &check.ConfigError{Reason: check.UnreadableFiles, Err: fmt.Errorf("read directory %s: %w", dir, text.PlainFSError(err))}
		}
		prefix := filepath.Join(dir, "x")
		prefix = prefix[:len(prefix)-1] // filepath.Join(dir, name) for any file name
		// The names are sorted, not the files: strings move for a third
		// of the cost, and the files then come (almost always) in order.
		var names []string
		for _, e := range entries {
			if _, ok := fileTimestamp(e.Name()); ok && !e.IsDir() {
				names = append(names, e.Name())
			}
		}
		slices.Sort(names)
		for _, file := range names {
			ts, _ := fileTimestamp(file)
			name := StripPHP(file)
			if seen != nil {
				if seen[name] {
					continue
				}
				seen[name] = true
			}
			files = append(files, check.PendingFile{Timestamp: ts, Name: name, File: file, Path: prefix + file})
		}
	}
	// By name without ".php", which orders a few names ("a-b", "a")
	// otherwise than their files.
	slices.SortFunc(files, func(a, b check.PendingFile) int { return strings.Compare(a.Name, b.Name) })
	return files, missing, nil
}

// readDir is os.ReadDir without its sort.
func readDir(dir string) ([]fs.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}
