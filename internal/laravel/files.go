package laravel

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
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

// Listing is the matching files of some directories, sorted by name and
// held compactly: every file name in one string, and per file the end of
// its name and the index of its directory, about 50 bytes a file. A
// []check.PendingFile of the same files holds about 250 (the struct, the
// name and the full path): with 10,050 files an application and 8
// applications ticking at once, 23 MB of a first tick's live heap. Only
// the files a caller keeps (the pending ones, File) get their own strings.
type Listing struct {
	prefixes []string // per directory, the directory joined to "" (as filepath.Join(dir, name) would)
	names    string   // every file name, with ".php", in order
	ends     []uint32 // the end of each file's name in names
	dirs     []uint16 // the index in prefixes of each file's directory; nil when there is one
}

// Len is the number of files.
func (l *Listing) Len() int {
	if l == nil {
		return 0
	}
	return len(l.ends)
}

func (l *Listing) file(i int) string {
	start := uint32(0)
	if i > 0 {
		start = l.ends[i-1]
	}
	return l.names[start:l.ends[i]]
}

// Name is the i-th file's operation or migration name, without ".php".
// It shares the listing's memory: keep File's, which does not.
func (l *Listing) Name(i int) string { return StripPHP(l.file(i)) }

// File is the i-th file, with strings of its own (the listing's memory
// is not kept alive by it).
func (l *Listing) File(i int) check.PendingFile {
	file := l.file(i)
	prefix := l.prefixes[0]
	if l.dirs != nil {
		prefix = l.prefixes[l.dirs[i]]
	}
	path := prefix + file
	file = path[len(prefix):]
	name := StripPHP(file)
	ts, _ := fileTimestamp(file)
	return check.PendingFile{Timestamp: ts, Name: name, File: file, Path: path}
}

// Files are every file of the listing.
func (l *Listing) Files() []check.PendingFile {
	out := make([]check.PendingFile, l.Len())
	for i := range out {
		out[i] = l.File(i)
	}
	return out
}

// Discover lists the matching files in dirs, sorted by name, and the
// directories that do not exist (missing): they hold nothing, and the
// caller says so. A directory that cannot be read is an error. It runs on
// every full read of every application (ten thousand files each, a
// thousand applications): the entries are read unsorted and in batches
// (they are sorted once, here), and only the names are kept.
func Discover(dirs []string) (l *Listing, missing []string, err error) {
	if len(dirs) > 1<<16 {
		return nil, nil, &check.ConfigError{Err: fmt.Errorf("%d discovery directories: at most %d", len(dirs), 1<<16)}
	}
	type found struct {
		file string
		dir  uint16
	}
	var files []found
	// Within one directory the names are unique (every match ends in
	// .php); across directories the first one's file is kept.
	var seen map[string]bool
	if len(dirs) > 1 {
		seen = map[string]bool{}
	}
	l = &Listing{}
	for _, dir := range dirs {
		names, err := readNames(dir)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, dir)
			continue
		}
		if err != nil {
			return nil, nil, &check.ConfigError{Reason: check.UnreadableFiles, Err: fmt.Errorf("read directory %s: %w", dir, text.PlainFSError(err))}
		}
		prefix := filepath.Join(dir, "x")
		l.prefixes = append(l.prefixes, prefix[:len(prefix)-1]) // filepath.Join(dir, name) for any file name
		d := uint16(len(l.prefixes) - 1)
		for _, file := range names {
			if seen != nil {
				name := StripPHP(file)
				if seen[name] {
					continue
				}
				seen[name] = true
			}
			files = append(files, found{file, d})
		}
	}
	// By name without ".php", which orders a few names ("a-b", "a")
	// otherwise than their files.
	slices.SortFunc(files, func(a, b found) int { return strings.Compare(StripPHP(a.file), StripPHP(b.file)) })
	size := 0
	for _, f := range files {
		size += len(f.file)
	}
	if size > math.MaxUint32 {
		return nil, nil, &check.ConfigError{Reason: check.UnreadableFiles, Err: fmt.Errorf("the discovery directories %s hold %d bytes of file names: at most %d", strings.Join(dirs, ", "), size, math.MaxUint32)}
	}
	var b strings.Builder
	b.Grow(size)
	l.ends = make([]uint32, len(files))
	if len(l.prefixes) > 1 {
		l.dirs = make([]uint16, len(files))
	}
	for i, f := range files {
		b.WriteString(f.file)
		l.ends[i] = uint32(b.Len())
		if l.dirs != nil {
			l.dirs[i] = f.dir
		}
	}
	l.names = b.String()
	return l, missing, nil
}

// readNames returns the names in dir that follow the files' pattern and
// are not directories, unsorted. The entries are read a batch at a time,
// so that only the matching names, not every entry, are held at once.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	for {
		entries, err := f.ReadDir(1024)
		for _, e := range entries {
			if _, ok := fileTimestamp(e.Name()); ok && !e.IsDir() {
				names = append(names, e.Name())
			}
		}
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
