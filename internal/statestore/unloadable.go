package statestore

import (
	"fmt"
	"strings"
)

// Err is an error naming the applications whose state would not load,
// nil when every one would.
func (r Report) Err() error {
	if bad := r.Unloadable(); len(bad) > 0 {
		return fmt.Errorf("the state of %s would not load: this seqwatch would not start on it", strings.Join(bad, ", "))
	}
	return nil
}
