package text

import "sync"

// SecretSet is the secret values to scrub from text, which a reload may
// replace while other goroutines scrub (the daemon's logs and its status
// page). The zero value holds none.
type SecretSet struct {
	mu   sync.RWMutex
	vals []string
}

// Set replaces the values with a copy of v.
func (s *SecretSet) Set(v []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals = append([]string(nil), v...)
}

// Redact is msg with every value replaced (Redact).
func (s *SecretSet) Redact(msg string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Redact(msg, s.vals...)
}

// RedactAs is msg with every value replaced by mark (RedactAs).
func (s *SecretSet) RedactAs(msg, mark string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return RedactAs(msg, mark, s.vals...)
}
