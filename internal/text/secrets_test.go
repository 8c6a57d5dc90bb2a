package text

import (
	"sync"
	"testing"
)

func TestSecretSetRedactsTheValuesLastSet(t *testing.T) {
	var s SecretSet
	if got := s.Redact("token hunter2hunter2"); got != "token hunter2hunter2" {
		t.Errorf("an empty set changed the text: %q", got)
	}
	v := []string{"hunter2hunter2"}
	s.Set(v)
	v[0] = "changed-by-the-caller"
	if got := s.Redact("token hunter2hunter2"); got != "token "+Redacted {
		t.Errorf("Redact = %q", got)
	}
	if got := s.RedactAs("token hunter2hunter2", "[redacted]"); got != "token [redacted]" {
		t.Errorf("RedactAs = %q", got)
	}
	// A reload while others scrub (go test -race tells).
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				s.Redact("x")
			}
		}()
	}
	s.Set([]string{"new-secret-value"})
	wg.Wait()
	if got := s.Redact("hunter2hunter2 new-secret-value"); got != "hunter2hunter2 "+Redacted {
		t.Errorf("after a new Set, Redact = %q", got)
	}
}
