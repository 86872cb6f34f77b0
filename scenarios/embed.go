package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// files are the scenario files shipped with the module, so the simulator
// binary runs them from anywhere.
//
//go:embed *.yaml
var files embed.FS

// Names lists the embedded scenarios, sorted: the names Load accepts.
func Names() []string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil { // cannot happen: the directory is compiled in
		panic(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	// Sort the names, not the file names: "join" before "join-storm".
	slices.Sort(names)
	return names
}

// Load parses the embedded scenario called nameOrPath (such as "join"),
// or else the file at path nameOrPath.
func Load(nameOrPath string) (Scenario, error) {
	if slices.Contains(Names(), nameOrPath) {
		return loadEmbedded(nameOrPath)
	}
	data, err := os.ReadFile(nameOrPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Scenario{}, fmt.Errorf("unknown scenario %q: neither an embedded scenario (%s) nor a file",
			nameOrPath, strings.Join(Names(), ", "))
	}
	if err != nil {
		return Scenario{}, err
	}
	return Parse(nameOrPath, data)
}

// All parses every embedded scenario, in Names order.
func All() ([]Scenario, error) {
	names := Names()
	all := make([]Scenario, 0, len(names))
	for _, name := range names {
		s, err := loadEmbedded(name)
		if err != nil {
			return nil, err
		}
		all = append(all, s)
	}
	return all, nil
}

// loadEmbedded parses an embedded file under its path in the repository,
// so messages point at the file to edit.
func loadEmbedded(name string) (Scenario, error) {
	data, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return Scenario{}, err
	}
	return Parse("scenarios/"+name+".yaml", data)
}
