package text_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/text"
)

func TestBlockKeepsLinesAndDropsTerminalControl(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text unchanged", "tab\there\nnext line ünïcode", "tab\there\nnext line ünïcode"},
		{"CSI colours dropped, CRLF becomes LF", "\x1b[31mred\x1b[0m text\r\n", "red text\n"},
		{"OSC title with BEL dropped", "a\x1b]0;pwned\x07b", "ab"},
		{"OSC with ST dropped", "a\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"unterminated OSC swallows the tail", "a\x1b]0;rest", "a"},
		{"C1 CSI dropped", "a\u009b2Jb", "ab"},
		{"two-byte escape with intermediate dropped", "a\x1b(Bb", "ab"},
		{"bare CR and backspace dropped", "abc\rX\bY", "abcXY"},
		{"bidi override dropped", "abc\u202edef", "abcdef"},
		{"invalid UTF-8 replaced", "bad \xff byte", "bad \uFFFD byte"},
		{"zero-width space kept (Clean drops it)", "a\u200bb", "a\u200bb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.Block(tt.in); got != tt.want {
				t.Errorf("Block(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanAlsoDropsFormatCharacters(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"zero-width space and joiner", "pay\u200bment\u200d", "payment"},
		{"byte order mark and soft hyphen", "\ufeffin\u00advoice", "invoice"},
		{"tag characters", "ok\U000E0041\U000E0042", "ok"},
		{"terminal control too", "\x1b[2Jx\r\ny", "x\ny"},
		{"lines and tabs kept", "a\tb\nc", "a\tb\nc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.Clean(tt.in); got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLineMakesOneSafePluginLine(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"whitespace collapses", "line one\r\n\tline two\n\n", 0, "line one line two"},
		{"pipe becomes a space", "<https://evil.example|click>", 0, "<https://evil.example click>"},
		{"format character becomes a space", "a\u200bb", 0, "a b"},
		{"cut after n runes with an ellipsis", "日本語テキスト", 3, "日本語…"},
		{"exactly n runes not cut", "abc", 3, "abc"},
		{"no trailing space before the ellipsis", "ab cd", 3, "ab…"},
		{"plain text as it is", "Connection refused", 0, "Connection refused"},
		{"escapes removed", "\x1b[31mred\x1b[0m\x07", 0, "[31mred [0m"},
		{"invalid UTF-8 replaced", "bad \xff\xfe byte", 0, "bad \uFFFD byte"},
		{"bidi override removed", "abc\u202edef", 0, "abc def"},
		{"C1 controls removed", "a\u009b31mb\u0085c", 0, "a 31mb c"},
		{"markup kept as text", "<!channel> <@U1>", 0, "<!channel> <@U1>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.Line(tt.in, tt.n); got != tt.want {
				t.Errorf("Line(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestOneLineCollapsesWhiteSpace(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"line breaks and tabs", " a\n\tb \r\n c ", "a b c"},
		{"unicode spaces", "a\u00a0\u2028b", "a b"},
		{"empty", " \n ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.OneLine(tt.in); got != tt.want {
				t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncateCountsTheMarkerInTheLimit(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		n      int
		marker string
		want   string
	}{
		{"short enough", "abc", 3, "…", "abc"},
		{"one over", "abcd", 3, "…", "ab…"},
		{"runes not bytes", "日本語テキスト", 4, "…", "日本語…"},
		{"long marker", "abcdefghijklmnop", 15, "… (truncated)", "ab… (truncated)"},
		{"no room for text", "abcdefghijklmnop", 5, "… (truncated)", "… (tr"},
		{"zero limit", "abc", 0, "…", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := text.Truncate(tt.in, tt.n, tt.marker)
			if got != tt.want {
				t.Errorf("Truncate(%q, %d, %q) = %q, want %q", tt.in, tt.n, tt.marker, got, tt.want)
			}
		})
	}
}

func TestTruncateFuncTrimsTheKeptText(t *testing.T) {
	dropAmp := func(s string) string {
		if i := strings.LastIndexByte(s, '&'); i >= 0 && !strings.Contains(s[i:], ";") {
			return s[:i]
		}
		return s
	}
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"cut inside an entity", "ab&amp;cd", 5, "ab…"},
		{"cut after an entity", "&lt;abcdef", 6, "&lt;a…"},
		{"not cut, not trimmed", "ab&am", 5, "ab&am"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.TruncateFunc(tt.in, tt.n, "…", dropAmp); got != tt.want {
				t.Errorf("TruncateFunc(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestCutBytesNeverSplitsARune(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short enough", "abc", 3, "abc"},
		{"ascii", "abcdef", 4, "abcd"},
		{"inside a three-byte rune", "a日本", 3, "a"},
		{"on a rune boundary", "a日本", 4, "a日"},
		{"zero", "abc", 0, ""},
		{"negative", "abc", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.CutBytes(tt.in, tt.n); got != tt.want {
				t.Errorf("CutBytes(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestRedactReplacesSecretsOfTheMinimumLength(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"every occurrence", "token abcd and abcd again", []string{"abcd"}, "token <redacted> and <redacted> again"},
		{"shorter than MinSecretLen kept", "port 543 pw abc", []string{"abc", "543"}, "port 543 pw abc"},
		{"exactly MinSecretLen replaced", "pw wxyz", []string{"wxyz"}, "pw <redacted>"},
		{"empty secret ignored", "nothing to hide", []string{""}, "nothing to hide"},
		{"whole URL before its parts", "POST https://h.example/hook/s3cr3t failed",
			[]string{"https://h.example/hook/s3cr3t", "/hook/s3cr3t", "s3cr3t"}, "POST <redacted> failed"},
		{"parts still caught alone", "path /hook/s3cr3t", []string{"https://h.example/hook/s3cr3t", "/hook/s3cr3t"}, "path <redacted>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.Redact(tt.in, tt.secrets...); got != tt.want {
				t.Errorf("Redact(%q, %q) = %q, want %q", tt.in, tt.secrets, got, tt.want)
			}
		})
	}
	if got := text.RedactAs("pw hunter2", "[redacted]", "hunter2"); got != "pw [redacted]" {
		t.Errorf("RedactAs wrote %q, want its own marker", got)
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"10.0.0.1", false},
		{"localhost.example.com", false},
		{"", false},
		{"[::1]", false}, // a Hostname has no brackets; a raw host with them is not trusted
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.host), func(t *testing.T) {
			if got := text.IsLoopback(tt.host); got != tt.want {
				t.Errorf("IsLoopback(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestPlainFSErrorDropsThePath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.env")
	_, err := os.ReadFile(missing)
	tests := []struct {
		name string
		in   error
		want string
	}{
		{"path error loses its path", err, "no such file or directory"},
		{"wrapped path error too", fmt.Errorf("read: %w", err), "no such file or directory"},
		{"other errors unchanged", errors.New("boom"), "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := text.PlainFSError(tt.in)
			if got.Error() != tt.want {
				t.Errorf("PlainFSError(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if !errors.Is(text.PlainFSError(err), fs.ErrNotExist) {
		t.Error("PlainFSError lost fs.ErrNotExist")
	}
}

func TestCutLinesKeepsWholeLines(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"short enough", "#0 a\n#1 b", 20, "#0 a\n#1 b"},
		{"cut after the last whole line", "#0 a\n#1 b\n#2 c", 11, "#0 a\n#1 b"},
		{"limit just before a line break", "#0 a\n#1 b", 4, "#0 a"},
		{"first line longer: at a rune boundary", "ééé\nx", 3, "é"},
		{"zero limit", "abc\ndef", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := text.CutLines(tc.in, tc.n); got != tc.want {
				t.Errorf("CutLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

func TestCutHashedShortensStablyAndKeepsLongNamesApart(t *testing.T) {
	long := strings.Repeat("operation.failed/2024_01_13_120000_Ä/", 20)
	tests := []struct {
		name string
		in   string
		n    int
	}{
		{"short enough is unchanged", "shop/operation.failed/x/42", 255},
		{"exactly the limit is unchanged", strings.Repeat("a", 255), 255},
		{"one over is cut", strings.Repeat("a", 256), 255},
		{"multibyte runes are counted as runes", long, 255},
		{"a tiny limit gives the hash alone", long, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := text.CutHashed(tt.in, tt.n)
			if n := utf8.RuneCountInString(got); n > tt.n {
				t.Errorf("%d runes, limit %d", n, tt.n)
			}
			if !utf8.ValidString(got) {
				t.Errorf("invalid UTF-8: %q", got)
			}
			if again := text.CutHashed(tt.in, tt.n); again != got {
				t.Errorf("not stable: %q then %q", got, again)
			}
			if utf8.RuneCountInString(tt.in) <= tt.n && got != tt.in {
				t.Errorf("changed a string within the limit: %q", got)
			}
		})
	}
	a, b := text.CutHashed(long+"1", 255), text.CutHashed(long+"2", 255)
	if a == b {
		t.Errorf("two long names that differ only at the end were cut to the same %q", a)
	}
}
