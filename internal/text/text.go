// Package text is seqwatch's one toolkit for text that comes from outside
// (the database, a peer's answer, a configuration file) on its way to a
// person: sanitising for a terminal line or block, dropping invisible
// format characters, one-lining, truncating with a marker, and redacting
// secrets; with the two small checks that configuration validation and
// error messages share (loopback hosts, path-free file errors), and the
// cells of the commands' plain lists (NewTable, Stamp, Cell).
//
// It is a leaf: it must not import anything of seqwatch, so that every
// command, every channel and the database reader can use it without
// depending on one another.
package text

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes untrusted text safe to show while keeping its lines: Block
// (terminal control sequences, control characters, bidi overrides, invalid
// UTF-8), and also every other Unicode format character (category Cf:
// zero-width spaces and joiners, the byte order mark, soft hyphens,
// invisible operators, tags), which would make text read or match
// differently from what it shows.
func Clean(s string) string {
	s = Block(s)
	if !strings.ContainsFunc(s, isFormat) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isFormat(r) {
			return -1
		}
		return r
	}, s)
}

// isFormat reports a non-ASCII format character (ASCII has none, and the
// check keeps the common case cheap).
func isFormat(r rune) bool { return r > 0x7f && unicode.Is(unicode.Cf, r) }

// Line makes untrusted text safe for a single line of plugin or terminal
// output: invalid UTF-8 replaced; control characters, format characters
// and the perfdata separator '|' turned into spaces; whitespace collapsed;
// and the result cut to at most n runes followed by an ellipsis (n <= 0:
// no cut).
//
// '|' becomes a space rather than a look-alike: "<https://evil.example|click>"
// must not turn into a plausible URL such as "https://evil.example/click",
// and no URL or IRI can contain a space.
func Line(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	count := 0
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '|' || unicode.Is(unicode.Cf, r) {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
				count++
			}
			space = true
			continue
		}
		space = false
		if n > 0 && count >= n {
			return strings.TrimSpace(b.String()) + "…"
		}
		b.WriteRune(r)
		count++
	}
	out := strings.TrimSpace(b.String())
	if !utf8.ValidString(out) {
		return strings.ToValidUTF8(out, "\uFFFD")
	}
	return out
}

// OneLine turns every run of white space in s (line breaks included) into
// one space and trims both ends. It does not clean: callers showing
// untrusted text pass it through Clean first.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// CleanLine is s cleaned (Clean) on one line (OneLine): a channel's title,
// header or label, which database text must not break.
func CleanLine(s string) string { return OneLine(Clean(s)) }

// Truncate returns s when it has at most n runes; otherwise its first runes
// followed by marker, n runes in all, marker included. When n leaves no
// room for any text, it is the first n runes of marker.
func Truncate(s string, n int, marker string) string {
	return TruncateFunc(s, n, marker, nil)
}

// TruncateFunc is Truncate with trim applied to the kept text before the
// marker is added, for text whose encoding a cut may break (an escaped
// entity cut in half): trim drops the broken tail. A nil trim keeps the
// text as cut.
func TruncateFunc(s string, n int, marker string, trim func(string) string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	keep := n - utf8.RuneCountInString(marker)
	if keep <= 0 {
		return string([]rune(marker)[:max(n, 0)])
	}
	i := 0
	for range keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	cut := s[:i]
	if trim != nil {
		cut = trim(cut)
	}
	return cut + marker
}

// CutHashed returns s when it has at most n runes; otherwise its first
// runes, "~" and 16 hex digits of the SHA-256 of the whole of s, n runes in
// all. It shortens an identifier a peer limits (a PagerDuty dedup_key, 255
// characters) without making two long identifiers that share their first
// runes equal, and always shortens the same s to the same result, so a
// restart or another instance names the same thing alike. When n leaves no
// room for any of s, it is the first n hex digits of the hash.
func CutHashed(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	tail := "~" + hex.EncodeToString(sum[:8])
	keep := n - len(tail)
	if keep <= 0 {
		return hex.EncodeToString(sum[:])[:max(n, 0)]
	}
	i := 0
	for range keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + tail
}

// CutBytes returns s cut to at most n bytes, never inside a UTF-8 sequence,
// for limits counted in bytes (a message size) rather than runes.
func CutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n = max(n, 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// CutLines returns s cut to at most n bytes after its last line break within
// the limit, so that every line kept is whole (the frames of a stack
// trace); when the first line alone is longer, it is cut at a rune
// boundary like CutBytes. No marker is added.
func CutLines(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:max(n, 0)], '\n'); i > 0 {
		return s[:i]
	}
	return CutBytes(s, n)
}

// MinSecretLen is the shortest secret, in bytes, that Redact replaces. A
// shorter value (a one-letter test password, an empty field) also occurs
// in ordinary words, numbers and ports, so replacing it would garble the
// message while hiding nothing a guess would not find.
const MinSecretLen = 4

// Redacted is what Redact writes in place of a secret.
const Redacted = "<redacted>"

// Redact replaces every occurrence of each secret of at least MinSecretLen
// bytes in s with Redacted, in the order given (put a whole URL before its
// parts).
func Redact(s string, secrets ...string) string { return RedactAs(s, Redacted, secrets...) }

// RedactAs is Redact with another marker, for output where "<redacted>"
// would not read as text (HTML) or where a marker is already promised.
func RedactAs(s, mark string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= MinSecretLen && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, mark)
		}
	}
	return s
}

// IsLoopback reports whether host (a URL's Hostname) is this machine:
// "localhost" or a loopback address, where plain http does not cross a
// network.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PlainFSError drops the *fs.PathError wrapper of err, whose path the
// caller's message already names, so the path is not said twice. Other
// errors are returned as they are.
func PlainFSError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
