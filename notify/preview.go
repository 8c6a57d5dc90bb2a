package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/seqwatch/seqwatch/internal/text"
)

// Request is one request a channel would make for a message, as seqwatch
// notify preview shows it: never with a credential.
type Request struct {
	// Method is the HTTP method, or SMTP for a mail.
	Method string
	// Target is where it goes: the URL with the parts that carry a
	// credential redacted, or the mail's recipients.
	Target string
	// Header are the request's headers, without Authorization.
	Header http.Header
	// Body is what would be posted.
	Body []byte
}

// Previewer is a Notifier that can say what it would send for events
// without sending anything: the requests Notify would make, in order, as
// far as they do not depend on the peer's answers (a thread reply names
// its message as "(the message's ts)").
type Previewer interface {
	Preview(events []Event) ([]Request, error)
}

// Write prints the request as seqwatch notify preview shows it: the method
// and target, the headers in order (never Authorization), and the body,
// JSON indented unless raw; secrets are redacted from all of it.
func (r Request) Write(w io.Writer, raw bool, secrets ...string) {
	fmt.Fprintf(w, "%s %s\n", r.Method, text.Redact(r.Target, secrets...))
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		if k == "Authorization" {
			continue
		}
		for _, v := range r.Header[k] {
			fmt.Fprintf(w, "%s: %s\n", k, text.Redact(v, secrets...))
		}
	}
	body := []byte(text.Redact(string(r.Body), secrets...))
	if !raw && strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var pretty bytes.Buffer
		if json.Indent(&pretty, bytes.TrimSpace(body), "", "  ") == nil {
			body = pretty.Bytes()
		}
	}
	fmt.Fprintf(w, "\n%s\n\n", bytes.TrimRight(body, "\n"))
}

// PreviewHTTP turns a request a channel built into its preview: the body
// read, and it, the URL and every header scrubbed of secrets.
func PreviewHTTP(req *http.Request, secrets []string) (Request, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		if err != nil {
			return Request{}, fmt.Errorf("reading the request's body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	h := http.Header{}
	for k, vs := range req.Header {
		if k == "Authorization" || k == "Cookie" {
			continue
		}
		for _, v := range vs {
			h.Add(k, text.Redact(v, secrets...))
		}
	}
	// A body may carry a credential too (PagerDuty's routing_key).
	body = []byte(text.Redact(string(body), secrets...))
	return Request{Method: req.Method, Target: PreviewTarget(req.URL.String(), secrets...), Header: h, Body: body}, nil
}

// PreviewTarget is raw with the parts of its path and query that are
// secrets redacted, the shortest first, so that a webhook's token is
// redacted and its id still shows; a path that is a secret as a whole is
// redacted whole.
func PreviewTarget(raw string, secrets ...string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return text.Redacted
	}
	base := u.Scheme + "://" + u.Host
	rest := strings.TrimPrefix(u.String(), base)
	if rest == "" || rest == "/" {
		return base + rest
	}
	var parts []string
	whole := false
	for _, s := range secrets {
		switch {
		case len(s) < 4:
		case len(s) < len(rest):
			parts = append(parts, s)
		case strings.Contains(s, rest) || len(u.Path) > 1 && strings.Contains(s, u.Path):
			whole = true
		}
	}
	slices.SortStableFunc(parts, func(a, b string) int { return len(a) - len(b) })
	red := text.Redact(rest, parts...)
	if red == rest && whole {
		red = "/" + text.Redacted
	}
	return base + red
}
