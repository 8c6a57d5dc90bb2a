package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository's root, from this package's directory.
const root = "../.."

// pages are the documents whose links are checked: the README and every
// page under docs/.
func pages(t *testing.T) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("no docs/*.md found")
	}
	return append([]string{filepath.Join(root, "README.md")}, found...)
}

var (
	fence = regexp.MustCompile("^\\s*(```|~~~)")
	// A link or an image: [text](target) or ![alt](target), with an
	// optional "title"; text may hold code spans but no nested brackets.
	link       = regexp.MustCompile(`!?\[[^\]]*\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	heading    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	htmlAnchor = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
)

// prose returns the document's lines outside fenced code blocks, with
// their line numbers (from 1).
func prose(text string) (lines []string, numbers []int) {
	in := false
	for i, l := range strings.Split(text, "\n") {
		if fence.MatchString(l) {
			in = !in
			continue
		}
		if !in {
			lines = append(lines, l)
			numbers = append(numbers, i+1)
		}
	}
	return lines, numbers
}

// slug is GitHub's anchor for a heading: lower case, the text of code
// spans and links kept, every character that is not a letter, a digit, a
// space, a hyphen or an underscore dropped, and spaces turned into hyphens.
func slug(h string) string {
	h = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(h, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors are the #fragments a document has: one per heading (a repeated
// heading gets -1, -2, ... as on GitHub) and any <a name="..."> or id.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	count := map[string]int{}
	lines, _ := prose(text)
	for _, l := range lines {
		if m := heading.FindStringSubmatch(l); m != nil {
			s := slug(m[2])
			if n := count[s]; n > 0 {
				out[s+"-"+strconv.Itoa(n)] = true
			} else {
				out[s] = true
			}
			count[s]++
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(l, -1) {
			out[m[1]] = true
		}
	}
	return out
}

// Every relative link in README.md and docs/*.md names a file or
// directory of the repository, and every #anchor a heading of the page it
// points into, so that moving a section cannot leave a link behind.
func TestEveryRelativeLinkAndAnchorResolves(t *testing.T) {
	texts := map[string]string{}
	read := func(path string) (string, bool) {
		if s, ok := texts[path]; ok {
			return s, true
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", false
		}
		texts[path] = string(b)
		return texts[path], true
	}
	checked := 0
	for _, page := range pages(t) {
		text, ok := read(page)
		if !ok {
			t.Fatalf("cannot read %s", page)
		}
		name, _ := filepath.Rel(root, page)
		lines, numbers := prose(text)
		for i, l := range lines {
			for _, m := range link.FindAllStringSubmatch(codeSpan.ReplaceAllString(l, ""), -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				file, fragment, _ := strings.Cut(target, "#")
				dest := page
				if file != "" {
					dest = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
					if rel, err := filepath.Rel(root, dest); err != nil || strings.HasPrefix(rel, "..") {
						t.Errorf("%s:%d: %s points outside the repository", name, numbers[i], target)
						continue
					}
					if _, err := os.Stat(dest); err != nil {
						t.Errorf("%s:%d: %s: no such file in the repository", name, numbers[i], target)
						continue
					}
				}
				if fragment == "" {
					continue
				}
				if !strings.HasSuffix(dest, ".md") {
					t.Errorf("%s:%d: %s: an anchor into a file that is not Markdown", name, numbers[i], target)
					continue
				}
				destText, _ := read(dest)
				if !anchors(destText)[fragment] {
					t.Errorf("%s:%d: %s: %s has no heading with the anchor #%s", name, numbers[i], target, filepath.Base(dest), fragment)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative link found: the link pattern no longer matches the documents")
	}
}

// The anchors are GitHub's: the slug rules on headings this repository has.
func TestSlugFollowsGitHub(t *testing.T) {
	for _, c := range []struct{ heading, want string }{
		{"`seqwatch status` and `seqwatch check`", "seqwatch-status-and-seqwatch-check"},
		{"Retries, backoff and Retry-After", "retries-backoff-and-retry-after"},
		{"Debian, Ubuntu (.deb) and RHEL, Fedora (.rpm)", "debian-ubuntu-deb-and-rhel-fedora-rpm"},
		{"`--json`", "--json"},
		{"Watching the watcher: metrics, health, status page, heartbeat", "watching-the-watcher-metrics-health-status-page-heartbeat"},
		{"The alerting daemon: `seqwatch run`", "the-alerting-daemon-seqwatch-run"},
		{"Telegram, PagerDuty and Opsgenie", "telegram-pagerduty-and-opsgenie"},
	} {
		if got := slug(c.heading); got != c.want {
			t.Errorf("slug(%q) = %q, want %q", c.heading, got, c.want)
		}
	}
	got := anchors("# A\n## Same\n```\n## Not a heading\n```\n## Same\n")
	for _, want := range []string{"a", "same", "same-1"} {
		if !got[want] {
			t.Errorf("anchors: want #%s in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("anchors: a heading inside a code block counted")
	}
}
