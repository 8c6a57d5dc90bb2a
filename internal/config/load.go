package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/text"
)

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Load reads and strictly decodes a seqwatch.yaml: unknown keys, unset
// ${VAR} references and unreadable *_file keys are errors that name the
// file and line.
// ctx bounds the reading of the file and of its secrets.
func Load(ctx context.Context, path string) (*Config, error) {
	return load(ctx, path, false, os.Getenv)
}

// LoadWithEnvFile is Load with ${VAR} resolved first from envFile, a file
// of NAME=value lines such as the systemd unit's EnvironmentFile, then
// from the environment: the configuration as the daemon will see it.
func LoadWithEnvFile(ctx context.Context, path, envFile string) (*Config, error) {
	vars, err := laravel.ReadEnvFile(envFile)
	if err != nil {
		return nil, fmt.Errorf("environment file %s: %w", envFile, err)
	}
	return load(ctx, path, false, func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return os.Getenv(name)
	})
}

// LoadForReading is Load for status and check, which read the application
// but send nothing: a channel's ${VAR} or *_file secret that is not
// available (as on a monitoring host without the daemon's environment) is
// left empty instead of being an error.
func LoadForReading(ctx context.Context, path string) (*Config, error) {
	return load(ctx, path, true, os.Getenv)
}

// The limits of a configuration file: its size, and how far its aliases
// (*name) may expand. yaml.v3 bounds its own alias expansion, but a
// channel entry is decoded from a copy with the aliases written out, which
// only these bounds keep small.
const (
	// MaxFileSize is the largest configuration file read.
	MaxFileSize = 1 << 20
	// MaxAliasValues is how many values all the aliases of a file may
	// stand for, together.
	MaxAliasValues = 10000
	// MaxAliasDepth is how deeply aliases may nest: an alias to a node
	// that holds an alias is 2 deep.
	MaxAliasDepth = 5
)

func load(ctx context.Context, path string, readOnly bool, getenv func(string) string) (*Config, error) {
	// Not only regular files: --config <(envsubst < seqwatch.yaml.in)
	// gives a pipe.
	data, err := readFile(ctx, path, MaxFileSize, false)
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return nil, fmt.Errorf("read configuration %s: %w", path, pe.Err)
	case err != nil:
		return nil, fileError(path, err, "1 MiB")
	}
	return parse(ctx, path, data, getenv, readOnly)
}

// Parse decodes configuration bytes; getenv resolves ${VAR}.
func Parse(path string, data []byte, getenv func(string) string) (*Config, error) {
	return parse(context.Background(), path, data, getenv, false)
}

func parse(ctx context.Context, path string, data []byte, getenv func(string) string, readOnly bool) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than 1 MiB, the most seqwatch reads of a configuration file: is it the right file?", path)
	}
	root, err := oneDocument(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, err)
	}
	if root == nil {
		return nil, fmt.Errorf("%s is empty: see seqwatch.yaml in the seqwatch repository for a commented example", path)
	}
	if err := checkAliases(root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l := &loader{ctx: ctx, getenv: getenv, readOnly: readOnly, lines: map[string]int{}}
	l.p = &problems{lines: l.lines}
	l.resolve(root, "")
	cfg := &Config{path: path, lines: l.lines}
	// Strict decoding: re-encode the resolved tree so that KnownFields
	// applies (Node.Decode is never strict). It runs even when resolving
	// found problems, so that every problem is told at once.
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(fixLines(err, root), &te) {
			return nil, fmt.Errorf("%s: %s", path, redact(yamlMessage(err), l.secrets))
		}
		for _, m := range te.Errors {
			l.p.list = append(l.p.list, l.describe(m))
		}
	}
	if len(l.p.list) > 0 {
		return nil, fmt.Errorf("%s: %s", path, redact(strings.Join(l.p.sorted(), "\n  "), l.secrets))
	}
	cfg.secrets = l.secrets
	for _, ch := range cfg.Channels {
		for _, g := range ch.given {
			cfg.secrets = append(cfg.secrets, g.typ.Secrets(g.cfg)...)
		}
	}
	cfg.secrets = append(cfg.secrets, cfg.HTTP.Password)
	if cfg.Heartbeat != nil {
		cfg.secrets = append(cfg.secrets, cfg.Heartbeat.URL)
	}
	for _, u := range []string{cfg.Database.URL.Reveal(), cfg.State.Postgres.Reveal()} {
		cfg.secrets = append(cfg.secrets, u)
		if pw := urlPassword(u); pw != "" {
			cfg.secrets = append(cfg.secrets, pw)
		}
	}
	for _, a := range cfg.Apps {
		u := a.Database.URL.Reveal()
		cfg.secrets = append(cfg.secrets, u)
		if pw := urlPassword(u); pw != "" {
			cfg.secrets = append(cfg.secrets, pw)
		}
	}
	return cfg, nil
}

// oneDocument parses data as one YAML document; nil for an empty file. A
// second document (after ---) would be ignored by a plain decode: it is
// refused instead.
func oneDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, errors.New(yamlMessage(err))
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("line %d: a second YAML document begins here (after ---): seqwatch.yaml is one document, and the second would be ignored; remove that --- and merge what follows into the first, or delete it", next.Line)
	case !errors.Is(err, io.EOF):
		return nil, errors.New(yamlMessage(err))
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	return &root, nil
}

// loader is what resolving a file gathers: each key's line, the secret
// values, each value's node (to name the key of a decoding error), and
// the problems.
type loader struct {
	// ctx bounds the reading of *_file secrets.
	ctx      context.Context
	getenv   func(string) string
	readOnly bool
	lines    map[string]int
	secrets  []string
	values   []keyedNode
	p        *problems
}

// keyedNode is a value in the file and the key path it is the value of.
type keyedNode struct {
	path string
	node *yaml.Node
}

// resolve expands ${VAR} in scalars, replaces "key_file: path" with
// "key: <file contents>", and records each key's line and value.
func (l *loader) resolve(n *yaml.Node, prefix string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			path := prefix
			if n.Kind == yaml.SequenceNode {
				path = fmt.Sprintf("%s[%d]", prefix, i)
				l.lines[path] = c.Line
				l.values = append(l.values, keyedNode{path, c})
			}
			l.resolve(c, path)
		}
	case yaml.MappingNode:
		keys := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			keys[n.Content[i].Value] = n.Content[i]
		}
		kept := n.Content[:0:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := strings.TrimPrefix(prefix+"."+k.Value, ".")
			l.lines[path] = k.Line
			l.values = append(l.values, keyedNode{path, v})
			if strings.HasSuffix(k.Value, "_file") && v.Kind == yaml.ScalarNode {
				if !l.secretFile(k, v, path, keys) {
					continue // reported; decoding goes on without it
				}
			} else {
				l.resolve(v, path)
			}
			kept = append(kept, k, v)
		}
		n.Content = kept
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		var missing []string
		n.Value = expand(n.Value, l.getenv, &missing, &l.secrets)
		if l.readOnly && daemonOnly(prefix) {
			missing = nil
		}
		for _, m := range missing {
			l.p.addAt(n.Line, prefix, "environment variable %s is not set (export it, or put it in the systemd unit's EnvironmentFile)", m)
		}
		if n.Tag != "!!str" {
			n.Tag = "" // let the expanded value resolve to its natural type
		}
		l.secrets = append(l.secrets, n.Value)
	}
}

// secretFile turns "key_file: path" (k, v) into "key: <the file's
// contents>"; keys are the keys of the mapping it is in. It reports false,
// and a problem, when the key cannot be kept.
func (l *loader) secretFile(k, v *yaml.Node, path string, keys map[string]*yaml.Node) bool {
	base := strings.TrimSuffix(k.Value, "_file")
	if other, both := keys[base]; both {
		l.p.addAt(k.Line, path, "%s (line %d) is given too: keep one of them, %s: for a file that holds the secret or %s: for the secret itself", base, other.Line, k.Value, base)
		return false
	}
	// The path may come from ${VAR}s: their values are secrets too, kept
	// out of the messages like every other ${VAR}.
	var missing []string
	file := expand(v.Value, l.getenv, &missing, &l.secrets)
	if len(missing) > 0 && !(l.readOnly && daemonOnly(path)) {
		for _, m := range missing {
			l.p.addAt(k.Line, path, "environment variable %s is not set (export it, or put it in the systemd unit's EnvironmentFile)", m)
		}
		return false
	}
	content, err := readSecretFile(l.ctx, file)
	if err != nil && l.readOnly && daemonOnly(path) {
		content = ""
	} else if err != nil {
		l.p.addAt(k.Line, path, "%v", err)
		return false
	}
	k.Value, v.Value, v.Tag, v.Style = base, content, "!!str", 0
	l.secrets = append(l.secrets, content)
	l.lines[strings.TrimSuffix(path, "_file")] = k.Line
	return true
}

// daemonOnly reports the keys only the daemon uses (a channel type's
// configuration, its HTTP listener and heartbeat), whose secrets status and
// check need not have.
func daemonOnly(path string) bool {
	if path == "state.postgres" {
		return true // status and check never need it; outbox and mute say so when it is empty
	}
	for _, p := range []string{"http.", "heartbeat."} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return inChannelType(path)
}

// expand replaces each ${VAR} in s, noting the variables that are not set
// in missing and their values in values (when not nil).
func expand(s string, getenv func(string) string, missing, values *[]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		v := getenv(name)
		if v == "" && missing != nil {
			*missing = append(*missing, name)
		}
		if values != nil {
			*values = append(*values, v)
		}
		return v
	})
}

// redact removes the secrets from msg, also where a message quoted one
// (%q) and so escaped some of its characters.
func redact(msg string, secrets []string) string {
	all := slices.Clone(secrets)
	for _, s := range secrets {
		if q := strconv.Quote(s); q[1:len(q)-1] != s {
			all = append(all, q[1:len(q)-1])
		}
	}
	return text.Redact(msg, all...)
}

// readSecretFile reads a *_file value: a regular file of at most
// MaxSecretFileSize bytes. A bare name is looked up in
// $CREDENTIALS_DIRECTORY (systemd LoadCredential=) when that is set.
func readSecretFile(ctx context.Context, p string) (string, error) {
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" && !strings.ContainsRune(p, filepath.Separator) {
		p = filepath.Join(dir, p)
	}
	b, err := readFile(ctx, p, MaxSecretFileSize, true)
	if err != nil {
		return "", fileError(p, err, "64 KiB")
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", p)
	}
	return s, nil
}

// checkAliases refuses a file whose aliases stand for more than
// MaxAliasValues values, or nest deeper than MaxAliasDepth, naming the
// line of the alias that goes past the bound. It counts without copying:
// each node's expanded size and alias depth are worked out once.
func checkAliases(root *yaml.Node) error {
	size := map[*yaml.Node]int{}
	depth := map[*yaml.Node]int{}
	var measure func(n *yaml.Node) (int, int)
	measure = func(n *yaml.Node) (int, int) {
		if n == nil {
			return 0, 0
		}
		if s, ok := size[n]; ok {
			return s, depth[n]
		}
		// A node being measured counts as too big, should an alias lead
		// back into it.
		size[n], depth[n] = MaxAliasValues+1, MaxAliasDepth+1
		s, d := 1, 0
		if n.Kind == yaml.AliasNode {
			as, ad := measure(n.Alias)
			s, d = as, ad+1
		}
		for _, c := range n.Content {
			cs, cd := measure(c)
			s, d = min(s+cs, MaxAliasValues+1), max(d, cd)
		}
		size[n], depth[n] = s, d
		return s, d
	}
	total := 0
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n.Kind == yaml.AliasNode {
			s, d := measure(n)
			if d > MaxAliasDepth {
				return fmt.Errorf("line %d: aliases nest more than %d deep here (an alias to something that holds aliases, and so on): write the values out instead", n.Line, MaxAliasDepth)
			}
			if total += s; total > MaxAliasValues {
				return fmt.Errorf("line %d: the file's aliases stand for more than %d values by here, the most seqwatch expands: write the values out instead", n.Line, MaxAliasValues)
			}
			return nil
		}
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root)
}

// unalias copies n with every alias replaced by a copy of its anchored
// node (and anchors dropped). depth stops a self-referencing alias.
func unalias(n *yaml.Node, depth int) *yaml.Node {
	if n == nil || depth > 100 {
		return n
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		c := unalias(n.Alias, depth+1)
		// Report the alias's own line, as a decode of the whole file does.
		c.Line, c.Column = n.Line, n.Column
		return c
	}
	c := *n
	c.Anchor = ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = unalias(k, depth+1)
	}
	return &c
}

// decodeStrict decodes n into out with unknown keys as errors (Node.Decode
// is never strict) and reports n's own line numbers.
func decodeStrict(n *yaml.Node, out any) error {
	// An alias may refer to an anchor outside n, which the encoder would
	// not find: decode a copy with the aliases replaced by what they name.
	doc := &yaml.Node{Kind: yaml.DocumentNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{unalias(n, 0)}}
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(doc); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return fixLines(err, doc)
	}
	return nil
}
