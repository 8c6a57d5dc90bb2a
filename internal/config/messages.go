package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
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
