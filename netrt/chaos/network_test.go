//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/errors"
	"golang.org/x/sys/unix"
)

const (
	// namePrefix starts the name of every namespace the tests create, so
	// that stale ones can be found and removed.
	namePrefix = "mchaos"
	// subnet is the peers' /24: 10.231.0.0/24 is private and unlikely to be
	// in use on a development machine (docker takes 172.17/16, libvirt
	// 192.168.122/24).
	subnet = "10.231.0"
	// bridgeName, peerIfName and chainName are names inside our own
	// namespaces, so they need no prefix.
	bridgeName = "br0"
	peerIfName = "eth0"
	chainName  = "MCHAOS"
	// commandTimeout bounds every ip, iptables and sysctl command.
	commandTimeout = 20 * time.Second
)

// peerAddr is peer id's address.
func peerAddr(id int) string { return fmt.Sprintf("%s.%d", subnet, id) }

// switchPort is the name, in the switch namespace, of peer id's port.
func switchPort(id int) string { return fmt.Sprintf("p%d", id) }

// runCommand runs name with args, with stdin as its input, and returns what
// it printed. The error names the command and holds its output.
func runCommand(stdin, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), errors.Wrapf(err, "%s %s: %s", name, strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// ip runs the ip command.
func ip(args ...string) error {
	_, err := runCommand("", "ip", args...)
	return err
}

// network is the namespaces of one test: a switch and one namespace per
// peer.
type network struct {
	t      testing.TB
	prefix string // every namespace name of this network starts with it
	peers  int

	mu       sync.Mutex
	created  []string         // namespaces, in the order they were made
	delayers map[int]*delayer // peers whose traffic is delayed now
}

// networkSeq tells apart the networks of one test process.
var networkSeq int

// newNetwork creates the switch and the namespaces of peers 1..peers. What it
// created is removed when the test ends, whatever happened.
func newNetwork(t testing.TB, peers int) *network {
	t.Helper()
	networkSeq++
	n := &network{
		t:        t,
		prefix:   fmt.Sprintf("%s%d-%d-", namePrefix, os.Getpid(), networkSeq),
		peers:    peers,
		delayers: map[int]*delayer{},
	}
	t.Cleanup(n.remove)
	if err := n.build(); err != nil {
		t.Fatalf("setting up the network: %v", err)
	}
	return n
}

func (n *network) switchNS() string     { return n.prefix + "sw" }
func (n *network) peerNS(id int) string { return n.prefix + strconv.Itoa(id) }

// addNamespace creates a namespace, with IPv6 off so that the only traffic
// in it is the peers' (no router solicitations, no duplicate address
// detection).
func (n *network) addNamespace(name string) error {
	if err := ip("netns", "add", name); err != nil {
		return err
	}
	n.mu.Lock()
	n.created = append(n.created, name)
	n.mu.Unlock()
	// A kernel without IPv6 has no such keys: nothing to turn off then.
	_, _ = runCommand("", "ip", "netns", "exec", name, "sysctl", "-q", "-w",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	return nil
}

func (n *network) build() error {
	sw := n.switchNS()
	if err := n.addNamespace(sw); err != nil {
		return err
	}
	if err := ip("-n", sw, "link", "add", bridgeName, "type", "bridge"); err != nil {
		return err
	}
	if err := ip("-n", sw, "link", "set", bridgeName, "up"); err != nil {
		return err
	}
	for id := 1; id <= n.peers; id++ {
		ns := n.peerNS(id)
		if err := n.addNamespace(ns); err != nil {
			return err
		}
		// Both ends are created where they belong: nothing of ours
		// ever appears in the host's namespace.
		if err := ip("-n", sw, "link", "add", switchPort(id), "type", "veth", "peer", "name", peerIfName, "netns", ns); err != nil {
			return err
		}
		if err := ip("-n", sw, "link", "set", switchPort(id), "master", bridgeName, "up"); err != nil {
			return err
		}
		batch := fmt.Sprintf("addr add %s/24 dev %s\nlink set %s up\nlink set lo up\n", peerAddr(id), peerIfName, peerIfName)
		if _, err := runCommand(batch, "ip", "-n", ns, "-batch", "-"); err != nil {
			return err
		}
		rules := fmt.Sprintf("*filter\n:%s - [0:0]\n-A INPUT -i %s -j %s\nCOMMIT\n", chainName, peerIfName, chainName)
		if _, err := runCommand(rules, "ip", "netns", "exec", ns, "iptables-restore", "--noflush"); err != nil {
			return err
		}
	}
	return nil
}

// remove stops the delayers, kills whatever still runs in the namespaces
// and deletes them, which deletes their links, bridge and rules too.
func (n *network) remove() {
	n.mu.Lock()
	delayed := make([]int, 0, len(n.delayers))
	for id := range n.delayers {
		delayed = append(delayed, id)
	}
	created := slices.Clone(n.created)
	n.mu.Unlock()
	for _, id := range delayed {
		if err := n.undelay(id); err != nil {
			n.t.Errorf("cleanup: %v", err)
		}
	}
	for _, ns := range slices.Backward(created) {
		if err := deleteNamespace(ns); err != nil {
			n.t.Errorf("cleanup: %v", err)
		}
	}
}

// deleteNamespace kills the processes in namespace ns and deletes it.
func deleteNamespace(ns string) error {
	if out, err := runCommand("", "ip", "netns", "pids", ns); err == nil {
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return ip("netns", "del", ns)
}

// namespaces lists the network namespaces whose names start with prefix.
func namespaces(prefix string) ([]string, error) {
	out, err := runCommand("", "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		// Lines read "name" or "name (id: 3)".
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.HasPrefix(fields[0], prefix) {
			names = append(names, fields[0])
		}
	}
	return names, nil
}

// removeStale deletes what an earlier run that did not clean up left
// behind: every namespace named mchaos... whose run is gone, with its
// processes, and any link of the host's named so (a bridge or veth of an
// older layout). It returns what it removed.
func removeStale() ([]string, error) {
	names, err := namespaces(namePrefix)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, ns := range names {
		if runAlive(ns) {
			continue
		}
		if err := deleteNamespace(ns); err != nil {
			return removed, err
		}
		removed = append(removed, "namespace "+ns)
	}
	out, err := runCommand("", "ip", "-o", "link", "show")
	if err != nil {
		return removed, err
	}
	for _, line := range strings.Split(out, "\n") {
		// "7: name@peer: <FLAGS> ..."
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(fields[1], ":"), "@")
		if strings.HasPrefix(name, namePrefix) {
			if err := ip("link", "del", name); err != nil {
				return removed, err
			}
			removed = append(removed, "link "+name)
		}
	}
	return removed, nil
}

// runAlive reports whether namespace ns belongs to another run that is
// still going: its name holds that run's process id (mchaos<pid>-...), and
// the process exists. Two runs at once must not remove each other's.
func runAlive(ns string) bool {
	digits := strings.TrimPrefix(ns, namePrefix)
	end := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		digits = digits[:end]
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid == os.Getpid() {
		return false
	}
	_, err = os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return err == nil
}

// probeNetwork reports why the tests cannot run here, or "" when they can:
// it needs root, ip netns, and iptables with the statistic match inside a
// namespace.
func probeNetwork() string {
	if os.Geteuid() != 0 {
		return "chaos tests need root (they create network namespaces, veth pairs and iptables rules); run make chaos as root"
	}
	for _, tool := range []string{"ip", "iptables", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("chaos tests need %s, which is not installed", tool)
		}
	}
	ns := fmt.Sprintf("%s%d-probe", namePrefix, os.Getpid())
	if err := ip("netns", "add", ns); err != nil {
		return fmt.Sprintf("ip netns does not work here: %v", err)
	}
	defer deleteNamespace(ns)
	if _, err := runCommand("", "ip", "netns", "exec", ns, "iptables", "-A", "INPUT",
		"-m", "statistic", "--mode", "random", "--probability", "0.5", "-j", "DROP"); err != nil {
		return fmt.Sprintf("iptables with -m statistic does not work in a namespace here: %v", err)
	}
	return ""
}

// inNamespace runs f on an OS thread that has entered network namespace ns,
// so that the sockets f opens, and the interfaces it looks up, are ns's. A
// socket stays in the namespace it was created in, and can be used from any
// goroutine afterwards.
func inNamespace(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		// The thread is in ns while f runs: no other goroutine may run
		// on it. The runtime starts new threads from a clean template
		// thread while this one is locked, so none inherits ns.
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- errors.Wrap(err, "this thread's network namespace")
			return
		}
		defer home.Close()
		target, err := os.Open(filepath.Join("/var/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- errors.Wrapf(err, "namespace %s", ns)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- errors.Wrapf(err, "entering namespace %s", ns)
			return
		}
		ferr := f()
		if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread stays locked, so it ends with this
			// goroutine rather than run others in ns.
			errc <- errors.Wrapf(err, "leaving namespace %s", ns)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
