package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var quotedValue = regexp.MustCompile("`[^`]*`")

var (
	typeName     = regexp.MustCompile(` in type [A-Za-z0-9_.*\[\]]+`)
	fieldMissing = regexp.MustCompile(`field (\S+) not found`)
	lineNumber   = regexp.MustCompile(`line (\d+)`)
)

// yamlMessage rewrites yaml.v3's messages for people: "field x not found
// in type config.Thresholds" becomes "unknown key x".
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = fieldMissing.ReplaceAllString(msg, "unknown key \"$1\" (check its spelling and indentation against the example seqwatch.yaml)")
	msg = typeName.ReplaceAllString(msg, "")
	// yaml.v3 quotes the offending value; it may be a secret written in
	// the wrong place, so say where and what type instead.
	msg = quotedValue.ReplaceAllString(msg, "(value not shown)")
	msg = strings.ReplaceAll(msg, "cannot unmarshal !!str", "cannot use the text")
	msg = strings.ReplaceAll(msg, "cannot unmarshal !!seq into", "cannot use a list as")
	msg = strings.ReplaceAll(msg, "cannot unmarshal !!map into", "cannot use a mapping as")
	return msg
}

var (
	typeError     = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `([^`]*)`)? into (\\S+)$")
	durationError = regexp.MustCompile(`^line (\d+): ("(?:[^"\\]|\\.)*") is not a duration`)
)

// describe rewrites one of yaml.v3's decoding errors (its line numbers
// already those of the file) for people: "line 3: cannot unmarshal !!str
// `lots` into int" becomes "line 3: thresholds.max_pending: must be a
// whole number, not text". The value is never shown (it may be a secret
// in the wrong place); the key is named when the line and the value tell
// which it is.
func (l *loader) describe(msg string) string {
	if m := typeError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		key := l.keyAt(line, func(n *yaml.Node) bool {
			switch m[2] {
			case "!!seq":
				return n.Kind == yaml.SequenceNode
			case "!!map":
				return n.Kind == yaml.MappingNode
			}
			return n.Kind == yaml.ScalarNode && sameValue(n.Value, m[3])
		})
		return fmt.Sprintf("line %d: %smust be %s, not %s", line, key, wantWords(m[4]), gotWords(m[2]))
	}
	if m := durationError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		value, _ := strconv.Unquote(m[2])
		key := l.keyAt(line, func(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Value == value })
		return fmt.Sprintf("line %d: %s%s", line, key, strings.TrimPrefix(msg, "line "+m[1]+": "))
	}
	return yamlMessage(errors.New(msg))
}

// sameValue reports whether value is what yaml.v3 quoted as quoted: the
// value itself, or its first 7 bytes and "..." for a longer one.
func sameValue(value, quoted string) bool {
	if short, ok := strings.CutSuffix(quoted, "..."); ok && len(value) > 10 {
		return strings.HasPrefix(value, short)
	}
	return quoted == "" || value == quoted
}

// keyAt is "key: " for the deepest key whose value is on line and matches;
// "" when none does.
func (l *loader) keyAt(line int, match func(*yaml.Node) bool) string {
	best := ""
	for _, v := range l.values {
		if v.node.Line == line && match(v.node) && len(v.path) >= len(best) {
			best = v.path
		}
	}
	if best == "" {
		return ""
	}
	return best + ": "
}

// wantWords names a Go type, as yaml.v3 writes it, in plain words.
func wantWords(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	}
	switch t {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "string", "secret.Secret", "notify.Secret":
		return "text"
	case "time.Duration", "config.Duration":
		return "a duration such as 30s, 15m or 1h30m"
	case "config.Channel":
		return "a channel entry (a mapping with name: and one channel type)"
	}
	return "a mapping"
}

// gotWords names a YAML tag in plain words.
func gotWords(tag string) string {
	switch tag {
	case "!!str":
		return "text"
	case "!!int":
		return "a whole number"
	case "!!float":
		return "a number"
	case "!!bool":
		return "true or false"
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "nothing"
	case "!!timestamp":
		return "a date"
	case "!!binary":
		return "binary data"
	}
	return "a value of type " + strings.TrimPrefix(tag, "!!")
}

// fixLines maps line numbers of the re-encoded document back to the
// original: both have the same keys in the same order, so the n-th key
// occurrence is the same key.
func fixLines(err error, root *yaml.Node) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var orig, re []int
	var walk func(n *yaml.Node, out *[]int)
	walk = func(n *yaml.Node, out *[]int) {
		*out = append(*out, n.Line)
		for _, c := range n.Content {
			walk(c, out)
		}
	}
	walk(root, &orig)
	var buf bytes.Buffer
	_ = yaml.NewEncoder(&buf).Encode(root)
	var again yaml.Node
	if yaml.Unmarshal(buf.Bytes(), &again) != nil {
		return err
	}
	walk(&again, &re)
	mapLine := map[int]int{}
	for i := range re {
		if i < len(orig) {
			if _, ok := mapLine[re[i]]; !ok {
				mapLine[re[i]] = orig[i]
			}
		}
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = lineNumber.ReplaceAllStringFunc(m, func(s string) string {
			var n int
			fmt.Sscanf(s, "line %d", &n)
			if o, ok := mapLine[n]; ok {
				return fmt.Sprintf("line %d", o)
			}
			return s
		})
	}
	return &yaml.TypeError{Errors: msgs}
}
