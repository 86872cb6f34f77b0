//go:build chaos

package chaos

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/pkg/errors"
)

var (
	binDir     string // holds the peer binary; removed when the tests end
	setupOnce  sync.Once
	skipReason string // why the network tests cannot run here, if they cannot
	setupErr   error
	peerBinary string
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "memberly-chaos")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	binDir = dir
	removeOnSignal()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireNetwork skips t when the network tests cannot run here, and
// otherwise, once per run, removes what an earlier run left behind and
// builds the peer binary.
func requireNetwork(t *testing.T) {
	t.Helper()
	setupOnce.Do(func() {
		if skipReason = probeNetwork(); skipReason != "" {
			return
		}
		removed, err := removeStale()
		for _, r := range removed {
			fmt.Printf("chaos: removed %s, left behind by an earlier run\n", r)
		}
		if err != nil {
			setupErr = errors.Wrap(err, "removing what an earlier run left behind")
			return
		}
		peerBinary, setupErr = buildPeer(binDir)
	})
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// buildPeer builds the peer binary into dir.
func buildPeer(dir string) (string, error) {
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		goCmd = "go"
	}
	bin := filepath.Join(dir, "peer")
	out, err := exec.Command(goCmd, "build", "-o", bin, "github.com/memberly/memberly/cmd/peer").CombinedOutput()
	if err != nil {
		return "", errors.Wrapf(err, "go build ./cmd/peer: %s", out)
	}
	return bin, nil
}

// removeOnSignal removes this run's namespaces, and with them its peers,
// when the run is interrupted: t.Cleanup does not run then.
func removeOnSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "chaos: %v: removing this run's namespaces\n", sig)
		if names, err := namespaces(fmt.Sprintf("%s%d-", namePrefix, os.Getpid())); err == nil {
			for _, ns := range names {
				_ = deleteNamespace(ns)
			}
		}
		os.RemoveAll(binDir)
		os.Exit(1)
	}()
}
