package laravel

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/seqwatch/seqwatch/internal/text"
)

// ScheduledContract is the full name of Sequencer's Scheduled interface:
// an operation that implements it runs at its executeAt(), not when
// sequencer:scheduled queues it.
const ScheduledContract = `Cline\Sequencer\Contracts\Scheduled`

// maxOperationFile bounds what is read of an operation file to tell which
// interfaces it implements: operation files are a few KB, and the class
// declaration comes first.
const maxOperationFile = 256 << 10

// OperationFile returns the path of the operation file of name (without
// ".php") in the first of dirs that holds it, or "" when none does.
func OperationFile(dirs []string, name string) string {
	for _, dir := range dirs {
		p := filepath.Join(dir, StripPHP(name)+".php")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// ImplementsScheduled reports whether the operation file at path declares
// a class that implements Sequencer's Scheduled contract, directly
// (implements Scheduled, with Cline\Sequencer\Contracts\Scheduled
// imported or nothing else imported under that name) or by its full name
// (implements \Cline\Sequencer\Contracts\Scheduled). It reads at most
// maxOperationFile bytes. What it cannot see: an interface or a parent
// class that itself extends Scheduled.
func ImplementsScheduled(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("read %s: %w", path, text.PlainFSError(err))
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxOperationFile))
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, text.PlainFSError(err))
	}
	return implementsContract(string(src), ScheduledContract), nil
}

// implementsContract reports whether the PHP source declares a class that
// implements the interface full (a fully qualified name without the
// leading backslash), resolving the names of its implements lists
// through the file's namespace and use imports as PHP does (class names
// are case-insensitive).
func implementsContract(src, full string) bool {
	toks := phpTokens(src)
	namespace := ""
	imports := map[string]string{} // lower-case alias → full name
	for i := 0; i < len(toks); i++ {
		switch strings.ToLower(toks[i]) {
		case "namespace":
			if i+1 < len(toks) && isName(toks[i+1]) {
				namespace = strings.Trim(toks[i+1], `\`)
			}
		case "use":
			i = readUse(toks, i+1, imports)
		case "implements":
			for j := i + 1; j < len(toks) && toks[j] != "{"; j++ {
				if !isName(toks[j]) {
					continue
				}
				if strings.EqualFold(resolve(toks[j], namespace, imports), full) {
					return true
				}
				// A bare name that nothing imports: PHP would look it up
				// in the file's namespace (or the global one); Sequencer's
				// contract is the one an operation file means.
				if _, imported := imports[strings.ToLower(toks[j])]; !imported && strings.EqualFold(toks[j], lastSegment(full)) {
					return true
				}
			}
		}
	}
	return false
}

// readUse reads the use statement starting at toks[i] (after "use") into
// imports and returns the index of its last token. Function and constant
// imports, and the use of closures (use ($x)) and of traits inside a
// class body, import no class name that matters here.
func readUse(toks []string, i int, imports map[string]string) int {
	if i >= len(toks) || !isName(toks[i]) || strings.EqualFold(toks[i], "function") || strings.EqualFold(toks[i], "const") {
		return i - 1
	}
	prefix := ""
	for ; i < len(toks) && toks[i] != ";"; i++ {
		switch {
		case toks[i] == "{":
			// Group use: use Cline\Sequencer\Contracts\{Scheduled, Asynchronous};
			prefix = strings.Trim(toks[i-1], `\`) + `\`
			if i >= 1 && isName(toks[i-1]) {
				delete(imports, strings.ToLower(lastSegment(toks[i-1])))
			}
		case toks[i] == "}":
			prefix = ""
		case isName(toks[i]) && !strings.EqualFold(toks[i], "as"):
			name := prefix + strings.Trim(toks[i], `\`)
			alias := lastSegment(name)
			if i+2 < len(toks) && strings.EqualFold(toks[i+1], "as") && isName(toks[i+2]) {
				alias = toks[i+2]
				i += 2
			}
			imports[strings.ToLower(alias)] = name
		}
	}
	return i
}

// resolve makes a class name as written fully qualified (without the
// leading backslash).
func resolve(name, namespace string, imports map[string]string) string {
	if strings.HasPrefix(name, `\`) {
		return name[1:]
	}
	first, rest, qualified := strings.Cut(name, `\`)
	if full, ok := imports[strings.ToLower(first)]; ok {
		if qualified {
			return full + `\` + rest
		}
		return full
	}
	if namespace != "" {
		return namespace + `\` + name
	}
	return name
}

func lastSegment(name string) string {
	name = strings.TrimRight(name, `\`)
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// isName reports whether tok is a (possibly qualified) PHP name.
func isName(tok string) bool {
	if tok == "" || tok == `\` {
		return false
	}
	for _, r := range tok {
		if !(r == '\\' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 0x80) {
			return false
		}
	}
	return true
}

// phpTokens splits PHP source into names (with their backslashes) and
// single punctuation characters, leaving out whitespace, comments,
// strings, variables and everything outside <?php ... ?>. It is enough to
// read use statements and implements lists, not a PHP parser.
func phpTokens(src string) []string {
	var toks []string
	inPHP := false
	for i := 0; i < len(src); {
		if !inPHP {
			j := strings.Index(src[i:], "<?php")
			if j < 0 {
				break
			}
			i += j + len("<?php")
			inPHP = true
			continue
		}
		c := src[i]
		switch {
		case strings.HasPrefix(src[i:], "?>"):
			inPHP = false
			i += 2
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			if j := strings.Index(src[i+2:], "*/"); j >= 0 {
				i += 2 + j + 2
			} else {
				i = len(src)
			}
		case c == '#' && !strings.HasPrefix(src[i:], "#["), c == '/' && strings.HasPrefix(src[i:], "//"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				i = len(src)
			} else {
				i += j
			}
		case c == '\'' || c == '"' || c == '`':
			i = skipString(src, i)
		case c == '<' && strings.HasPrefix(src[i:], "<<<"):
			i = skipHeredoc(src, i)
		case c == '$':
			i++
			for i < len(src) && isNameByte(src[i]) {
				i++
			}
		case isNameByte(c) || c == '\\':
			j := i
			for j < len(src) && (isNameByte(src[j]) || src[j] == '\\') {
				j++
			}
			toks = append(toks, src[i:j])
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			toks = append(toks, src[i:i+1])
			i++
		}
	}
	return toks
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// skipString returns the index after the string literal starting at i.
func skipString(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j + 1
		}
	}
	return len(src)
}

// skipHeredoc returns the index after the heredoc or nowdoc starting at i
// (<<<ID, <<<"ID" or <<<'ID', ended by ID on a line of its own, indented
// or not).
func skipHeredoc(src string, i int) int {
	j := i + 3
	for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
		j++
	}
	k := j
	for k < len(src) && src[k] != '\n' {
		k++
	}
	id := strings.Trim(strings.TrimSpace(src[j:k]), `'"`)
	if id == "" {
		return k
	}
	for pos := k; pos < len(src); {
		nl := strings.IndexByte(src[pos+1:], '\n')
		line := src[pos+1:]
		if nl >= 0 {
			line = src[pos+1 : pos+1+nl]
		}
		if t := strings.TrimLeft(line, " \t"); strings.HasPrefix(t, id) && (len(t) == len(id) || !isNameByte(t[len(id)])) {
			return pos + 1 + (len(line) - len(t)) + len(id)
		}
		if nl < 0 {
			break
		}
		pos += 1 + nl
	}
	return len(src)
}
