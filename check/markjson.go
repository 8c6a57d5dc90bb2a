package check

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes the mark as its fields say, except that a run's
// rolled_back_at is left out when it is null (status --json shows it on
// every run): a mark lives in the daemon's state file, which loading and
// saving must leave byte for byte as it was, and marks written before
// runs carried the field have none.
func (m Mark) MarshalJSON() ([]byte, error) {
	type plain Mark // without this method
	b, err := json.Marshal(plain(m))
	if err != nil {
		return nil, err
	}
	// Compact JSON, and never the first member of a run (id is): inside
	// a string the quotes would be escaped, so only members match.
	return bytes.ReplaceAll(b, []byte(`,"rolled_back_at":null`), nil), nil
}
