package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seqwatch/seqwatch/internal/text"
)

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Load reads and strictly decodes a seqwatch.yaml: unknown keys, unset
// ${VAR} references and unreadable *_file keys are errors that name the
// file and line.
func Load(path string) (*Config, error) {
	return load(path, false)
}

// LoadForReading is Load for status and check, which read the application
// but send nothing: a channel's ${VAR} or *_file secret that is not
// available (as on a monitoring host without the daemon's environment) is
// left empty instead of being an error.
func LoadForReading(path string) (*Config, error) {
	return load(path, true)
}

func load(path string, readOnly bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration %s: %w", path, text.PlainFSError(err))
	}
	return parse(path, data, os.Getenv, readOnly)
}

// Parse decodes configuration bytes; getenv resolves ${VAR}.
func Parse(path string, data []byte, getenv func(string) string) (*Config, error) {
	return parse(path, data, getenv, false)
}

func parse(path string, data []byte, getenv func(string) string, readOnly bool) (*Config, error) {
	cfg := &Config{path: path, lines: map[string]int{}, readOnly: readOnly}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", path, yamlMessage(err))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s is empty: see seqwatch.yaml in the seqwatch repository for a commented example", path)
	}
	p := &problems{lines: cfg.lines}
	resolve(&root, "", cfg, getenv, p)
	if len(p.list) > 0 {
		return nil, fmt.Errorf("%s:\n  %s", path, strings.Join(p.list, "\n  "))
	}
	// Strict decoding: re-encode the resolved tree so that KnownFields
	// applies (Node.Decode is never strict).
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", path, text.Redact(yamlMessage(fixLines(err, &root)), cfg.secrets...))
	}
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

// resolve expands ${VAR} in scalars, replaces "key_file: path" with
// "key: <file contents>", and records each key's line.
func resolve(n *yaml.Node, prefix string, cfg *Config, getenv func(string) string, p *problems) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			path := prefix
			if n.Kind == yaml.SequenceNode {
				path = fmt.Sprintf("%s[%d]", prefix, i)
				cfg.lines[path] = c.Line
			}
			resolve(c, path, cfg, getenv, p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := strings.TrimPrefix(prefix+"."+k.Value, ".")
			cfg.lines[path] = k.Line
			if strings.HasSuffix(k.Value, "_file") && v.Kind == yaml.ScalarNode {
				base := strings.TrimSuffix(k.Value, "_file")
				content, err := readSecretFile(expand(v.Value, getenv, nil))
				if err != nil && cfg.readOnly && daemonOnly(path) {
					content = ""
				} else if err != nil {
					p.addAt(k.Line, path, "%v", err)
					continue
				}
				k.Value, v.Value, v.Tag, v.Style = base, content, "!!str", 0
				cfg.secrets = append(cfg.secrets, content)
				cfg.lines[strings.TrimSuffix(path, "_file")] = k.Line
				continue
			}
			resolve(v, path, cfg, getenv, p)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		var missing []string
		n.Value = expand(n.Value, getenv, &missing)
		if cfg.readOnly && daemonOnly(prefix) {
			missing = nil
		}
		for _, m := range missing {
			p.addAt(n.Line, prefix, "environment variable %s is not set (export it, or put it in the systemd unit's EnvironmentFile)", m)
		}
		if n.Tag != "!!str" {
			n.Tag = "" // let the expanded value resolve to its natural type
		}
		cfg.secrets = append(cfg.secrets, n.Value)
	}
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

func expand(s string, getenv func(string) string, missing *[]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		v := getenv(name)
		if v == "" && missing != nil {
			*missing = append(*missing, name)
		}
		return v
	})
}

// readSecretFile reads a *_file value. A bare name is looked up in
// $CREDENTIALS_DIRECTORY (systemd LoadCredential=) when that is set.
func readSecretFile(p string) (string, error) {
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" && !strings.ContainsRune(p, filepath.Separator) {
		p = filepath.Join(dir, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, text.PlainFSError(err))
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", p)
	}
	return s, nil
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
