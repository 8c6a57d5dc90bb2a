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
func Unmarshal(data []byte) (*State, error) { return decode(data) }
