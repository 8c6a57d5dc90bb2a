package text

import (
	"strings"
	"unicode/utf8"
)

// Block strips terminal control sequences from untrusted text: ESC
// sequences (CSI, OSC, DCS and two-byte ones), C1 controls (0x80-0x9F,
// which some terminals treat like ESC sequences), DEL and every C0 control
// except newline and tab, and the bidirectional overrides that can make
// text read differently from what it is. Invalid UTF-8 becomes U+FFFD. CR is dropped (a
// CRLF becomes LF) because a bare CR lets text overwrite its own line.
func Block(s string) string {
	if !needsCleaning(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b: // ESC
			i += size
			i = skipEscape(s, i)
			continue
		case r == 0x9b: // C1 CSI
			i += size
			i = skipCSI(s, i)
			continue
		case r == 0x9d || r == 0x90 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, PM, APC
			i += size
			i = skipString(s, i)
			continue
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f), bidiControl(r):
			// dropped
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// needsCleaning reports whether s has anything clean would change.
func needsCleaning(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || bidiControl(r) {
			return true
		}
	}
	return false
}

// skipEscape skips the rest of an escape sequence whose ESC ended at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', '^', '_', 'X':
		return skipString(s, i+1)
	}
	// Two-byte sequence (ESC c, ESC 7, ...) possibly with intermediates
	// (ESC ( B): skip intermediates 0x20-0x2F, then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI skips parameters and intermediates up to and including the
// final byte (0x40-0x7E).
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		i++
		if c >= 0x40 && c <= 0x7e {
			return i
		}
		if c < 0x20 || c > 0x3f {
			// Not a parameter or intermediate byte: the sequence is
			// malformed; stop here and let the caller clean the rest.
			return i - 1
		}
	}
	return i
}

// skipString skips an OSC/DCS/PM/APC string up to BEL or ST (ESC \ or
// C1 0x9C). An unterminated string runs to the end of s: printing its tail
// could still be swallowed by the terminal.
func skipString(s string, i int) int {
	for i < len(s) {
		if s[i] == 0x07 {
			return i + 1
		}
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
			return i + 2
		}
		if strings.HasPrefix(s[i:], "\u009c") {
			return i + len("\u009c")
		}
		i++
	}
	return i
}

// bidiControl reports the bidirectional embedding, override and isolate
// characters (U+202A-U+202E, U+2066-U+2069).
func bidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
