package laravel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/joho/godotenv"
)

// MaxEnvFileSize is the largest .env read: a Laravel .env is a few
// kilobytes.
const MaxEnvFileSize = 1 << 20

// EnvSyntaxError is a line of a .env that is not NAME=value. It says where
// and what is wrong, never what the line holds: the rest of the file has
// the database password.
type EnvSyntaxError struct {
	Line, Column int
	// Problem says what is wrong, in words of its own.
	Problem string
}

func (e *EnvSyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Problem)
}

// ReadEnvFile reads a .env as Laravel's would be read: a regular file of at
// most MaxEnvFileSize, opened without blocking. Its syntax is checked
// first, so that a mistake is an *EnvSyntaxError with its line; the values
// are then godotenv's, whose own errors quote the rest of the file.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, errors.New("is not a regular file (a pipe, a device or a directory)")
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxEnvFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxEnvFileSize {
		return nil, errors.New("is larger than 1 MiB, the most seqwatch reads of a .env")
	}
	return ParseEnv(data)
}

// ParseEnv parses the contents of a .env (see ReadEnvFile).
func ParseEnv(data []byte) (map[string]string, error) {
	// Line ends as godotenv reads them, once: it makes its own copy.
	if err := checkEnvSyntax(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))); err != nil {
		return nil, err
	}
	env, err := godotenv.UnmarshalBytes(data)
	if err != nil {
		// The check above and godotenv disagree; its words would quote
		// the file.
		return nil, errors.New("cannot be read as NAME=value lines")
	}
	return env, nil
}

// checkEnvSyntax walks data statement by statement, as a .env is read:
// blank lines and # comments are skipped; a statement is an optional
// "export ", a name of letters, digits, _ and ., = (or :), and a value to
// the end of the line, or in quotes that may span lines.
func checkEnvSyntax(data []byte) error {
	at := func(pos int, problem string) error {
		line := 1 + bytes.Count(data[:pos], []byte("\n"))
		col := 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:pos], '\n')+1:pos])
		return &EnvSyntaxError{Line: line, Column: col, Problem: problem}
	}
	// sizes bounds the length of each variable's value once expanded.
	sizes := map[string]int{}
	pos := 0
	for {
		// The next statement: past white space, new lines and comments.
		for pos < len(data) {
			r, size := utf8.DecodeRune(data[pos:])
			if r == '#' {
				if nl := bytes.IndexByte(data[pos:], '\n'); nl >= 0 {
					pos += nl
					continue
				}
				return nil
			}
			if !unicode.IsSpace(r) {
				break
			}
			pos += size
		}
		if pos == len(data) {
			return nil
		}
		if rest := data[pos:]; bytes.HasPrefix(rest, []byte("export")) && len(rest) > len("export") && envBlank(rune(rest[len("export")])) {
			pos += len("export")
			for pos < len(data) && envBlank(rune(data[pos])) {
				pos++
			}
		}
		start := pos
		// The name, up to = or :. A name is read a byte at a time, and
		// blanks within it are passed over, as godotenv reads it.
		named := false
		for ; pos < len(data); pos++ {
			c := rune(data[pos])
			if c == '=' || c == ':' {
				named = true
				break
			}
			if envBlank(c) || c == '_' || c == '.' || unicode.IsLetter(c) || unicode.IsNumber(c) {
				continue
			}
			if c == '\n' {
				return at(pos, "the line has no =: write NAME=value, or start a comment with #")
			}
			return at(pos, "a name may hold only letters, digits, _ and ., and ends at =: write NAME=value, quote a value that has spaces, or start a comment with #")
		}
		if !named {
			return at(start, "the last line has no =: write NAME=value, or start a comment with #")
		}
		if len(bytes.TrimFunc(data[start:pos], envBlank)) == 0 {
			return at(start, "the line has no name before its =: write NAME=value")
		}
		name := string(bytes.TrimRightFunc(data[start:pos], unicode.IsSpace))
		pos++ // past =
		for pos < len(data) && envBlank(rune(data[pos])) {
			pos++
		}
		valueAt, expands := pos, true
		var value []byte
		if pos < len(data) && (data[pos] == '"' || data[pos] == '\'') {
			quote := data[pos]
			pos++
			for pos < len(data) && (data[pos] != quote || data[pos-1] == '\\') {
				pos++
			}
			if pos == len(data) {
				return at(valueAt, fmt.Sprintf("the value opens a quote (%c) that is never closed: close it at the end of the value", quote))
			}
			value, expands = data[valueAt+1:pos], quote == '"'
			pos++ // past the closing quote
		} else {
			for pos < len(data) && data[pos] != '\n' && data[pos] != '\r' {
				pos++
			}
			value = data[valueAt:pos]
		}
		// A value may name earlier ones ($NAME, ${NAME}): bound what it
		// grows to, or a small file could stand for gigabytes.
		size := len(value)
		if expands {
			for _, ref := range envRef.FindAllSubmatch(value, -1) {
				size += sizes[string(ref[1])]
				if size > MaxEnvFileSize {
					return at(valueAt, "the value names other variables ($NAME) that make it longer than 1 MiB: write it out")
				}
			}
		}
		sizes[name] = size
	}
}

// envRef is a reference to a variable in a value, as godotenv expands it
// (an upper bound: a reference it would not expand costs nothing).
var envRef = regexp.MustCompile(`\$\{?([A-Z0-9_]+)`)

// envBlank is white space within a line.
func envBlank(r rune) bool {
	switch r {
	case '\t', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	return false
}
