package config

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// keyPaths are the keys seqwatch.yaml takes, as dotted paths
// (state.postgres, channels[].slack.webhook_url, apps[].thresholds.max_pending),
// read from the yaml tags of the configuration's types, so that a key
// added to a type is a key the reference must document.
func keyPaths() []string {
	var out []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == reflect.TypeFor[Channel]() {
			walk(prefix, reflect.TypeFor[channelFields]())
			for _, ct := range ChannelTypes() {
				key := prefix + ct.Key
				out = append(out, key)
				walk(key+".", reflect.TypeOf(ct.NewConfig()))
			}
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || tag == "-" {
				continue
			}
			if tag == "" && strings.Contains(opts, "inline") {
				walk(prefix, f.Type)
				continue
			}
			if tag == "" {
				continue
			}
			key := prefix + tag
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && ft.NumField() > 0 && ft.Field(0).Tag.Get("yaml") != "":
				walk(key+".", ft)
			case ft.Kind() == reflect.Slice && (ft.Elem().Kind() == reflect.Struct):
				walk(key+"[].", ft.Elem())
			default:
				out = append(out, key)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	sort.Strings(out)
	return out
}

// documentedKeys are the keys in the first column of the tables under
// "## Every key" in docs/configuration.md (a row such as
// | `state.postgres` | ... |), with their lines.
func documentedKeys(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\|")
	keys := map[string]int{}
	in := false
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "## ") {
			in = l == "## Every key"
		}
		if !in {
			continue
		}
		if m := row.FindStringSubmatch(l); m != nil {
			keys[m[1]] = i + 1
		}
	}
	if len(keys) == 0 {
		t.Fatal(`docs/configuration.md has no "## Every key" section with key tables`)
	}
	return keys
}

// Every key the configuration's types take is documented in
// docs/configuration.md, and every key documented there is one they take:
// the reference cannot go stale in either direction.
func TestConfigurationReferenceNamesEveryKey(t *testing.T) {
	paths := keyPaths()
	if len(paths) < 50 {
		t.Fatalf("found only %d keys in the configuration's types: %v", len(paths), paths)
	}
	documented := documentedKeys(t)
	known := map[string]bool{}
	for _, p := range paths {
		known[p] = true
		if _, ok := documented[p]; !ok {
			t.Errorf("docs/configuration.md does not document %s (add a row | `%s` | ... |)", p, p)
		}
	}
	for k, line := range documented {
		if !known[k] {
			t.Errorf("docs/configuration.md:%d documents %s, which no configuration type takes", line, k)
		}
	}
}
