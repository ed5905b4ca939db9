package transformers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// codeDirs are the packages whose findings carry render's codes.
var codeDirs = []string{".", "../render"}

// TestCodeTable: every code is well formed, in render's range and unique,
// and has a title and a meaning.
func TestCodeTable(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Codes {
		n, err := strconv.Atoi(strings.TrimPrefix(c.Code, "GS"))
		if !strings.HasPrefix(c.Code, "GS") || len(c.Code) != 5 || err != nil || n < 1 || n > 199 && (n < 401 || n > 499) {
			t.Errorf("%q is not a code in render's ranges GS001-GS199 and GS401-GS499", c.Code)
		}
		if seen[c.Code] {
			t.Errorf("%s appears twice in Codes", c.Code)
		}
		seen[c.Code] = true
		if c.Title == "" || c.Meaning == "" {
			t.Errorf("%s has no title or meaning", c.Code)
		}
	}
}

// TestCodesUsed reads the source: every Code constant a finding uses is in
// the table, every code of the table is used by some finding, and no code
// is written as a bare string outside codes.go.
func TestCodesUsed(t *testing.T) {
	declared := codeConstants(t)
	inTable := map[string]bool{}
	for _, c := range Codes {
		inTable[c.Code] = true
	}
	used := usedCodes(t, declared)
	for name, value := range declared {
		switch {
		case used[name] && !inTable[value]:
			t.Errorf("%s (%s) is used but missing from the table Codes", name, value)
		case !used[name] && inTable[value]:
			t.Errorf("%s (%s) is in the table Codes but no finding uses it", name, value)
		case !used[name]:
			t.Errorf("%s (%s) is declared but neither used nor in the table", name, value)
		}
	}
}

// codeConstants are the Code* constants of codes.go, by name.
func codeConstants(t *testing.T) map[string]string {
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if spec, ok := n.(*ast.ValueSpec); ok {
			for i, name := range spec.Names {
				if lit, ok := spec.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(name.Name, "Code") {
					out[name.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
		return true
	})
	if len(out) == 0 {
		t.Fatal("no Code constants in codes.go")
	}
	return out
}

var bareCode = regexp.MustCompile(`^"GS[0-9]{3}"$`)

// usedCodes are the Code constants named in the non-test source of
// codeDirs, codes.go aside.
func usedCodes(t *testing.T, declared map[string]string) map[string]bool {
	used := map[string]bool{}
	for _, dir := range codeDirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") || filepath.Base(file) == "codes.go" && dir == "." {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && x.Name == "transformers" {
						if _, ok := declared[n.Sel.Name]; ok {
							used[n.Sel.Name] = true
						}
					}
				case *ast.Ident:
					if _, ok := declared[n.Name]; ok && dir == "." {
						used[n.Name] = true
					}
				case *ast.BasicLit:
					if bareCode.MatchString(n.Value) {
						t.Errorf("%s: code %s written as a string; use its constant from codes.go", file, n.Value)
					}
				}
				return true
			})
		}
	}
	return used
}
