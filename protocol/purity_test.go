package protocol_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// forbiddenImports would give the state machine a clock, randomness,
// concurrency or I/O. The protocol must be a pure function of its events.
var forbiddenImports = []string{
	"net", "os", "os/exec", "os/signal", "syscall", "io/fs", "io/ioutil",
	"math/rand", "math/rand/v2", "crypto/rand",
	"sync", "sync/atomic", "runtime", "unsafe", "log", "log/slog",
}

// forbiddenTimeCalls read the clock or wait.
var forbiddenTimeCalls = []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker"}

// impurities lists every impure construct in one Go source file.
func impurities(fset *token.FileSet, f *ast.File) []string {
	var found []string
	timeName := ""
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		for _, bad := range forbiddenImports {
			// Every net/... package is I/O too.
			if path == bad || (bad == "net" && strings.HasPrefix(path, "net/")) {
				found = append(found, fset.Position(imp.Pos()).String()+": imports "+path)
			}
		}
		if path == "time" {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			found = append(found, fset.Position(n.Pos()).String()+": starts a goroutine")
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName {
				for _, bad := range forbiddenTimeCalls {
					if n.Sel.Name == bad {
						found = append(found, fset.Position(n.Pos()).String()+": uses time."+bad)
					}
				}
			}
		case *ast.SelectStmt:
			found = append(found, fset.Position(n.Pos()).String()+": select statement")
		case *ast.SendStmt:
			found = append(found, fset.Position(n.Pos()).String()+": channel send")
		}
		return true
	})
	return found
}

func TestPurity_ProtocolPackage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		full, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range impurities(fset, full) {
			t.Errorf("protocol must stay pure: %s", problem)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("checked only %d source files: is the test running in protocol/?", checked)
	}
}

// The checker must be able to fail: feed it a file with every impurity.
func TestPurity_DetectsImpurities(t *testing.T) {
	src := `package bad
import (
	"math/rand"
	"net/http"
	"os"
	"sync"
	clock "time"
)
var _ = http.StatusOK
var _ sync.Mutex
func f(c chan int) {
	_ = rand.Int()
	_ = os.Args
	_ = clock.Now()
	clock.Sleep(1)
	go f(c)
	c <- 1
	select {}
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "bad.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range impurities(fset, f) {
		got = append(got, p[strings.Index(p, ": ")+2:])
	}
	want := []string{
		"imports math/rand", "imports net/http", "imports os", "imports sync",
		"uses time.Now", "uses time.Sleep", "starts a goroutine", "channel send", "select statement",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("impurities (-want +got):\n%s", diff)
	}
}
