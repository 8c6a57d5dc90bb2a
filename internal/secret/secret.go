// Package secret holds the Secret type: a configuration value that must
// never be printed. It is a leaf, so that the configuration, the state
// store and every channel can carry secrets without importing each other.
package secret

// Secret is a configuration value (token, password, webhook URL) that must
// never be printed: it formats as "<redacted>" in logs, errors and JSON.
// Use string(s) where the real value is needed.
type Secret string

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// GoString implements fmt.GoStringer so %#v does not leak it either.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }
