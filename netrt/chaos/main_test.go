//go:build chaos

package chaos

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/pkg/errors"
)

var (
	// shortRun is -short or CHAOS_SHORT=1: fewer and shorter cases.
	shortRun bool
	// peerFlags (CHAOS_PEER_FLAGS, split on spaces) go to every peer:
	// -v to see reconnects, or other timing to compare with the default.
	peerFlags []string

	binDir     string // holds the peer binary; removed when the tests end
	setupOnce  sync.Once
	skipReason string // why the network tests cannot run here, if they cannot
	setupErr   error
	peerBinary string

	resultsMu sync.Mutex
	results   []figures // one per case run, for the summary
)

func TestMain(m *testing.M) {
	flag.Parse()
	shortRun = testing.Short() || os.Getenv("CHAOS_SHORT") == "1"
	peerFlags = strings.Fields(os.Getenv("CHAOS_PEER_FLAGS"))
	dir, err := os.MkdirTemp("", "memberly-chaos")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	binDir = dir
	removeOnSignal()
	code := m.Run()
	printSummary(os.Stdout)
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
	bin := filepath.Join(dir, "peer")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/memberly/memberly/cmd/peer").CombinedOutput()
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

// record keeps a case's figures for the summary.
func record(f figures) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	results = append(results, f)
}

// printSummary prints the figures of every case run, beside the targets.
func printSummary(w io.Writer) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return
	}
	mode := "full"
	if shortRun {
		mode = "short"
	}
	timing := "default timing"
	if len(peerFlags) > 0 {
		timing = "peer flags " + strings.Join(peerFlags, " ")
	}
	fmt.Fprintf(w, "\nchaos summary (%s run, %d peers, %s)\n", mode, peerCount, timing)
	fmt.Fprintf(w, "targets: every live peer in one view within %v of a heal; no false removal over 60 s of 20%% loss, at most one at 40%%\n\n", healTarget)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tfault\tfor\theal to agreement\twithin target\tfalse removals\tsuspicions\tviews decided")
	for _, f := range results {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\t%d\t%d\n",
			f.name, f.fault, f.faultFor, f.healFigure(), f.healVerdict(), f.removalFigure(), f.suspicions, f.views)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nfalse removals show their target in brackets where the case has one; in the other cases a peer cut off from the quorum, or silent for longer than -suspect-after, is rightly removed.")
}

// figures is what one case measured.
type figures struct {
	name     string
	fault    string
	faultFor time.Duration
	// healed: every live peer agreed on one view of them all within
	// waited of the heal, healToAgreement after it.
	healed          bool
	healToAgreement time.Duration
	waited          time.Duration
	falseRemovals   []removal
	removalsMax     *int // the target for false removals, if any
	suspicions      int  // "unreachable" lines printed from the fault on
	views           int  // views decided from the fault on
}

func (f figures) healFigure() string {
	switch {
	case !f.healed:
		return fmt.Sprintf("none within %v", f.waited)
	case f.healToAgreement == 0:
		// Nothing was left to repair when the fault ended.
		return "0 (held at the heal)"
	}
	return fmt.Sprintf("%.3f s", f.healToAgreement.Seconds())
}

func (f figures) healVerdict() string {
	if f.healed && f.healToAgreement <= healTarget {
		return "yes"
	}
	return "no"
}

func (f figures) removalFigure() string {
	s := fmt.Sprint(len(f.falseRemovals))
	if f.removalsMax != nil {
		s += fmt.Sprintf(" (at most %d)", *f.removalsMax)
	}
	return s
}
