package laravel

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

// A .env that is not NAME=value lines is named by line and column, and
// never quoted: the rest of the file holds the database password.
func TestEnvSyntaxErrorsNameTheLineNeverTheText(t *testing.T) {
	const pw = "pa55-w0rd!Secret"
	for _, tc := range []struct {
		name, env string
		line, col int
		problem   string
	}{
		{"a line of text", "APP_NAME=shop\nthis is garbage\nDB_PASSWORD=" + pw + "\n", 2, 16, "the line has no ="},
		{"a line of text before the password", "this is garbage\nDB_PASSWORD=" + pw + "\n", 1, 16, "the line has no ="},
		{"an unterminated double quote", "APP_NAME=\"shop\nDB_PASSWORD=" + pw + "\n", 1, 10, `opens a quote (") that is never closed`},
		{"an unterminated single quote", "DB_PASSWORD='" + pw + "\nAPP_ENV=x\n", 1, 13, `opens a quote (') that is never closed`},
		{"a dash in a name", "DB_HOST=db\nDB-PORT=5432\nDB_PASSWORD=" + pw + "\n", 2, 3, "a name may hold only letters"},
		{"no = on the last line", "DB_PASSWORD=" + pw + "\nAPP_ENV", 2, 1, "the last line has no ="},
		{"no name", "=" + pw + "\n", 1, 1, "no name before its ="},
		{"CRLF line ends", "APP_NAME=shop\r\nthis is garbage\r\nDB_PASSWORD=" + pw + "\r\n", 2, 16, "the line has no ="},
		{"an expansion to gigabytes", "A=" + strings.Repeat("x", 1000) + "\nB=" + strings.Repeat("$A", 2000) + "\nDB_PASSWORD=" + pw + "\n", 2, 3, "longer than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEnv([]byte(tc.env))
			se, ok := err.(*EnvSyntaxError)
			if !ok {
				t.Fatalf("error %v (%T), want an *EnvSyntaxError", err, err)
			}
			if se.Line != tc.line || se.Column != tc.col || !strings.Contains(se.Problem, tc.problem) {
				t.Errorf("error %q, want line %d, column %d, %q", err, tc.line, tc.col, tc.problem)
			}
			for _, leak := range []string{pw, "garbage", "shop"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("the error quotes the file (%q): %s", leak, err)
				}
			}
		})
	}
}

// What godotenv read before, ParseEnv reads the same.
func TestEnvFilesReadAsGodotenvReadThem(t *testing.T) {
	laravelEnv, err := os.ReadFile(filepath.Join("testdata", "laravel.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{
		string(laravelEnv),
		"",
		"# only a comment",
		"A=1\nB=2",
		"export A=1\n  export   B = two words # comment\n",
		"A=\"multi\nline\"\nB='single $A'\nC=\"double $A\"\nD=${A}x\n",
		"A=\"esc \\\" quote\\n\"\nB='it''s'\n",
		"A: yaml style\nB.C=dotted\n",
		"A=\r\nB=x\r\n",
		"A=x#not a comment\nB=x # a comment\n",
		"\uFEFF\n",
		"  \n\t\nA=1",
		"A=\"x\" \nB=2\n",
	} {
		want, werr := godotenv.UnmarshalBytes([]byte(env))
		got, gerr := ParseEnv([]byte(env))
		if werr != nil {
			continue // godotenv refused it too; the test above says how
		}
		if gerr != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %v (%v)\nwant %v", env, got, gerr, want)
		}
	}
}

func TestEnvFilesAreRegularAndSmall(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.env")
	if err := os.WriteFile(big, []byte("A="+strings.Repeat("x", MaxEnvFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEnvFile(big); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("a .env over 1 MiB: %v", err)
	}
	if _, err := ReadEnvFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}

// FuzzParseEnv: whatever the file, ParseEnv does not panic, allocates in
// proportion to the file, reads what godotenv reads, and no error carries
// the password that follows the fuzzed text.
func FuzzParseEnv(f *testing.F) {
	for _, s := range []string{"A=1\n", "this is garbage\n", "A=\"open\n", "export A=$B${C}\n", "A='x'\nB=\"y\\\"\"\n", "# c\n\nA: b\n"} {
		f.Add(s)
	}
	const pw = "fuzz-Pa55!word"
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 64<<10 {
			return
		}
		data := []byte(text + "\nDB_PASSWORD=" + pw + "\n")
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		env, err := ParseEnv(data)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(64*len(data))+(4<<20) {
			t.Errorf("parsing %d bytes allocated %d", len(data), grew)
		}
		if err != nil {
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "fuzz-Pa55") {
				t.Errorf("the error carries the password: %v", err)
			}
			if strings.Contains(text, pw) {
				return
			}
			if _, ok := err.(*EnvSyntaxError); !ok && !strings.Contains(err.Error(), "cannot be read") {
				t.Errorf("error %T %v", err, err)
			}
			return
		}
		want, werr := godotenv.UnmarshalBytes(data)
		if werr != nil || !reflect.DeepEqual(env, want) {
			t.Errorf("godotenv read %v (%v), ParseEnv %v", want, werr, env)
		}
	})
}
