package layering

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxFields is the most fields a struct type may have: past it, a type
// usually holds two jobs, and the fields that belong together want a type
// of their own.
const maxFields = 15

// largeStructs are the struct types allowed more than maxFields fields,
// each with its reason. Keep it short.
var largeStructs = map[string]string{
	// Documents promised to scripts and receivers, flat by promise: a
	// field is added, never moved into a sub-object.
	"check/snapshot.go: Snapshot":        "the document seqwatch status --json prints",
	"internal/web/view.go: AppStatus":    "an application in /api/v1/status",
	"notify/webhook/payload.go: Payload": "the webhook's signed JSON document",
}

// TestNoStructHasMoreThanFifteenFields parses every Go file of the module
// (tests included, testdata left out) and fails on a struct type, named
// or not, with more than maxFields fields, naming where it is. An
// embedded field counts as one.
func TestNoStructHasMoreThanFifteenFields(t *testing.T) {
	root := "../.."
	fset := token.NewFileSet()
	files := 0
	excepted := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		// Each struct is named by the type it declares or sits in; one
		// outside every type declaration (a variable's, a literal's) is
		// anonymous.
		owner := map[*ast.StructType]string{}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				ast.Inspect(ts.Type, func(n ast.Node) bool {
					if st, ok := n.(*ast.StructType); ok {
						if _, seen := owner[st]; !seen {
							owner[st] = ts.Name.Name
						}
					}
					return true
				})
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			st, ok := n.(*ast.StructType)
			if !ok {
				return true
			}
			name, ok := owner[st]
			if !ok {
				name = "(anonymous)"
			}
			if c := fieldCount(st); c > maxFields {
				if _, ok := largeStructs[rel+": "+name]; ok {
					excepted[rel+": "+name] = true
				} else {
					t.Errorf("%s: struct %s has %d fields (at most %d): group the fields that belong together into a type of their own",
						fset.Position(st.Pos()), name, c, maxFields)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range largeStructs {
		if !excepted[key] {
			t.Errorf("largeStructs lists %s, which no longer has more than %d fields: take it off the list", key, maxFields)
		}
	}
	if files < 100 {
		t.Fatalf("read only %d Go files: is the test run from internal/layering?", files)
	}
}

func fieldCount(st *ast.StructType) int {
	n := 0
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			n++ // embedded
		}
		n += len(f.Names)
	}
	return n
}
