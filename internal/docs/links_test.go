package docs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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
	problems, checked := brokenLinks(root, "the repository", pages(t))
	for _, p := range problems {
		t.Error(p)
	}
	if checked == 0 {
		t.Fatal("no relative link found: the link pattern no longer matches the documents")
	}
}

// envShipped names a tree as the release ships it (an unpacked archive's
// directory, or /usr/share/doc/seqwatch of the installed package):
// release/test.sh sets it for TestShippedDocsLinksResolve.
const envShipped = "SEQWATCH_SHIPPED_DOCS"

// The README and docs/ travel in the release archives and in the packages'
// /usr/share/doc/seqwatch without the source, so their links must resolve
// among what ships: a link into the source (a .go file, a golden file) is
// dead on the server that reads them. Without SEQWATCH_SHIPPED_DOCS the
// test lays out what release/build.sh puts beside the README (LICENSE,
// seqwatch.yaml, docs/) from the repository; release/test.sh runs it on the
// real archive and the installed package.
func TestShippedDocsLinksResolve(t *testing.T) {
	tree := os.Getenv(envShipped)
	if tree == "" {
		tree = t.TempDir()
		for _, f := range []string{"README.md", "LICENSE", "seqwatch.yaml"} {
			copyFile(t, filepath.Join(root, f), filepath.Join(tree, f))
		}
		docs, err := os.ReadDir(filepath.Join(root, "docs"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(tree, "docs"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			copyFile(t, filepath.Join(root, "docs", d.Name()), filepath.Join(tree, "docs", d.Name()))
		}
	}
	readme := filepath.Join(tree, "README.md")
	if _, err := os.Stat(readme); err != nil {
		t.Fatalf("%s: no README.md in the shipped tree", tree)
	}
	shipped, err := filepath.Glob(filepath.Join(tree, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	problems, checked := brokenLinks(tree, "the shipped tree "+tree, append([]string{readme}, shipped...))
	for _, p := range problems {
		t.Error(p)
	}
	if checked == 0 {
		t.Fatalf("%s: no relative link found in its README.md and docs/*.md", tree)
	}
	t.Logf("%s: checked %d relative links of README.md and %d docs pages", tree, checked, len(shipped))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// brokenLinks checks every relative link of pages (files under tree, which
// where names in messages): each names a file or directory inside tree, and each #anchor a heading of the
// Markdown page it points into. It returns one line per broken link, and
// how many links it checked.
func brokenLinks(tree, where string, pages []string) (problems []string, checked int) {
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
	for _, page := range pages {
		name, _ := filepath.Rel(tree, page)
		text, ok := read(page)
		if !ok {
			problems = append(problems, fmt.Sprintf("cannot read %s", name))
			continue
		}
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
					if rel, err := filepath.Rel(tree, dest); err != nil || strings.HasPrefix(rel, "..") {
						problems = append(problems, fmt.Sprintf("%s:%d: %s points outside %s", name, numbers[i], target, where))
						continue
					}
					if _, err := os.Stat(dest); err != nil {
						problems = append(problems, fmt.Sprintf("%s:%d: %s: no such file in %s", name, numbers[i], target, where))
						continue
					}
				}
				if fragment == "" {
					continue
				}
				if !strings.HasSuffix(dest, ".md") {
					problems = append(problems, fmt.Sprintf("%s:%d: %s: an anchor into a file that is not Markdown", name, numbers[i], target))
					continue
				}
				destText, _ := read(dest)
				if !anchors(destText)[fragment] {
					problems = append(problems, fmt.Sprintf("%s:%d: %s: %s has no heading with the anchor #%s", name, numbers[i], target, filepath.Base(dest), fragment))
				}
			}
		}
	}
	return problems, checked
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

// TestTheMapNamesEveryPackage: docs/development.md's map for a newcomer
// (its package tables) names every package of the module but the
// benchmarks, so that a package added without a row fails here. A
// package is named in backquotes in a row's first cell, by its path or,
// after its parent, by the rest of it (`cmd/testsummary`).
func TestTheMapNamesEveryPackage(t *testing.T) {
	const module = "github.com/seqwatch/seqwatch/"
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	page, err := os.ReadFile(filepath.Join(root, "docs", "development.md"))
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	code := regexp.MustCompile("`([^`]+)`")
	for line := range strings.Lines(string(page)) {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		parent := ""
		for _, m := range code.FindAllStringSubmatch(first, -1) {
			name := strings.TrimSuffix(m[1], "/")
			if parent != "" && !named[name] && !strings.HasPrefix(name, "internal/") && !strings.HasPrefix(name, "notify") {
				named[parent+"/"+name] = true
			}
			named[name] = true
			parent = name
		}
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 20 {
		t.Fatalf("go list ./... listed only %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p, module)
		if strings.HasPrefix(rel, "bench") {
			continue
		}
		if !named[rel] {
			t.Errorf("docs/development.md's map has no row naming %s: add one (what it holds, the one rule it keeps)", rel)
		}
	}
}
