package protocol_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The module's rule for errors, one errors package per side:
//
//   - protocol, the pure core, uses the standard library's errors and
//     fmt.Errorf with %w: it depends on nothing, so anyone can embed it;
//   - everything else (netrt, cmd, scenarios, sim, check) uses
//     github.com/pkg/errors, whose Wrap and Wrapf add what and where at
//     the boundary, and whose New, Is and As serve the rest, so that a
//     file never imports both.
//
// Tests may use either.
func TestErrors_OnePackagePerSide(t *testing.T) {
	var bad []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		var imports []string
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports = append(imports, p)
		}
		core := filepath.Dir(path) == filepath.Join("..", "protocol")
		switch {
		case core && slices.Contains(imports, "github.com/pkg/errors"):
			bad = append(bad, path+": the pure core imports github.com/pkg/errors")
		case !core && slices.Contains(imports, "errors"):
			bad = append(bad, path+`: imports "errors"; code that does I/O uses github.com/pkg/errors`)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string(nil), bad); diff != "" {
		t.Errorf("files breaking the errors rule (-want +got):\n%s", diff)
	}
}
