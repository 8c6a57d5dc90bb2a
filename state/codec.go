package state

// Marshal returns the bytes a State is stored as, the same bytes FileStore
// writes: JSON, deterministic (map keys sorted), so an unchanged state
// marshals to the same bytes and a store can skip writing it. Stores other
// than FileStore (internal/pgstate) use it to keep one document per
// application.
func Marshal(st *State) ([]byte, error) { return encode(st) }

// Unmarshal parses bytes made by Marshal (or read from a state file),
// upgrading older versions as Load does. A document written by a newer
// seqwatch is an error matching ErrNewerVersion; one without a usable
// version matches ErrBadVersion; anything else that is not a state is the
// JSON decoder's error.
func Unmarshal(data []byte) (*State, error) {
	st, _, err := decode(data)
	return st, err
}

// Upgrade is what reading a stored state changes: the format version it
// was written as (From), the version this binary writes (To), and what
// each step between them changes, in order.
type Upgrade struct {
	From, To int
	Steps    []string
}

// Needed reports whether the state is in another format than the one this
// binary writes (the next save rewrites it as To).
func (u Upgrade) Needed() bool { return u.From != u.To }

// CheckUpgrade says what Unmarshal would change in data: it upgrades and
// decodes a copy in memory, so a document that would not load is an error
// here too (the same errors as Unmarshal's), and it writes nothing.
func CheckUpgrade(data []byte) (Upgrade, error) {
	_, u, err := decode(data)
	return u, err
}
