package config

import (
	"fmt"
	"sort"
	"strings"
)

// problems collects what is wrong with a file, each problem as
// "line N: key: what is wrong and how to fix it", with the line of the
// key that the file gives (or of the nearest enclosing key it gives).
type problems struct {
	lines map[string]int
	list  []string
}

// add records a problem with key, at the key's line if the file gives
// the key.
func (p *problems) add(key, format string, args ...any) {
	line := ""
	if l, ok := p.lines[key]; ok {
		line = fmt.Sprintf("line %d: ", l)
	}
	p.list = append(p.list, line+key+": "+fmt.Sprintf(format, args...))
}

// addNear is add for a key the file may leave out: the problem then has
// the line of the nearest enclosing key the file gives (maintenance[0]
// for a missing maintenance[0].duration).
func (p *problems) addNear(key, format string, args ...any) {
	p.list = append(p.list, p.lineNear(key)+key+": "+fmt.Sprintf(format, args...))
}

// addAt records a problem with key at a line known otherwise (the loader
// knows its nodes' lines).
func (p *problems) addAt(line int, key, format string, args ...any) {
	prefix := ""
	if line > 0 {
		prefix = fmt.Sprintf("line %d: ", line)
	}
	p.list = append(p.list, prefix+key+": "+fmt.Sprintf(format, args...))
}

// addLines records each line of a multi-line message (a channel's or the
// listener's Validate) as a problem with key.
func (p *problems) addLines(key, msg string) {
	for _, line := range strings.Split(msg, "\n") {
		p.add(key, "%s", line)
	}
}

// lineNear is "line N: " for key, or for the nearest enclosing key the
// file gives; "" when there is none.
func (p *problems) lineNear(key string) string {
	for k := key; k != ""; k = parentKey(k) {
		if l, ok := p.lines[k]; ok {
			return fmt.Sprintf("line %d: ", l)
		}
	}
	return ""
}

// parentKey is the key that encloses key: channels[1] for channels[1].name,
// channels for channels[1], "" for a top-level key.
func parentKey(key string) string {
	if i := strings.LastIndexAny(key, ".["); i > 0 {
		return key[:i]
	}
	return ""
}

// sorted returns the problems in the order of their lines in the file
// (those without a line first, as given).
func (p *problems) sorted() []string {
	sort.SliceStable(p.list, func(i, j int) bool { return lineOf(p.list[i]) < lineOf(p.list[j]) })
	return p.list
}

// lineOf is the line number a message starts with ("line 3: ..."), 0 for
// none.
func lineOf(s string) int {
	var n int
	fmt.Sscanf(s, "line %d:", &n)
	return n
}
