package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a webhook-timestamp may be from the
// receiver's clock when Verify is given a zero tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors returned (wrapped) by Verify.
var (
	// ErrMissingHeader: webhook-id, webhook-timestamp or webhook-signature
	// is absent.
	ErrMissingHeader = errors.New("missing Standard Webhooks header")
	// ErrInvalidTimestamp: webhook-timestamp is not unix seconds or is
	// outside the tolerance (a replay, or a clock far off).
	ErrInvalidTimestamp = errors.New("webhook-timestamp invalid or outside tolerance")
	// ErrInvalidSignature: no v1 signature matches the body.
	ErrInvalidSignature = errors.New("no matching webhook signature")
)

// Verify checks a received webhook by the Standard Webhooks rules: the
// webhook-id, webhook-timestamp and webhook-signature headers are present,
// the timestamp is within tolerance of now (either way; zero means
// DefaultTolerance), and one of the space-separated "v1,<base64>"
// signatures equals HMAC-SHA256(key, "<id>.<timestamp>.<body>"), compared in
// constant time. secret takes the same forms as Config.Secrets. The body
// must be the raw request body, before any JSON decoding.
func Verify(secret string, headers http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := signingKey(secret)
	if err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id := headers.Get("webhook-id")
	ts := headers.Get("webhook-timestamp")
	sigs := headers.Get("webhook-signature")
	for _, h := range []struct{ name, value string }{
		{"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature", sigs},
	} {
		if h.value == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeader, h.name)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: not unix seconds", ErrInvalidTimestamp)
	}
	sent := time.Unix(sec, 0)
	if sent.Before(now.Add(-tolerance)) {
		return fmt.Errorf("%w: too old", ErrInvalidTimestamp)
	}
	if sent.After(now.Add(tolerance)) {
		return fmt.Errorf("%w: in the future", ErrInvalidTimestamp)
	}
	want := sign(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue // other schemes (e.g. v1a) are not ours to check
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrInvalidSignature
}

// sign returns the raw HMAC-SHA256 of "<id>.<timestamp>.<body>".
func sign(key []byte, id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
