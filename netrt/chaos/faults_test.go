//go:build chaos

package chaos

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/pkg/errors"
)

// The faults below add iptables rules to the MCHAOS chain of receivers'
// namespaces; heal flushes them all. Rules drop silently: a sender learns
// of a fault only by hearing nothing back, as on a real network.

// addRules appends rules (iptables-restore lines for chain MCHAOS, without
// the -A MCHAOS) to the namespaces of the peers rules names, all at once, so
// that a fault starts everywhere within a few milliseconds.
func (n *network) addRules(rules map[int][]string) error {
	var wg sync.WaitGroup
	errs := make([]error, n.peers+1)
	for id, lines := range rules {
		if len(lines) == 0 {
			continue
		}
		var b strings.Builder
		b.WriteString("*filter\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "-A %s %s\n", chainName, l)
		}
		b.WriteString("COMMIT\n")
		wg.Go(func() {
			_, err := runCommand(b.String(), "ip", "netns", "exec", n.peerNS(id), "iptables-restore", "--noflush")
			errs[id] = errors.Wrapf(err, "rules of peer %d", id)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// lossRule drops a fraction probability of what arrives.
func lossRule(probability float64) string {
	return "-m statistic --mode random --probability " + strconv.FormatFloat(probability, 'f', -1, 64) + " -j DROP"
}

// dropFromRule drops everything that comes from peer id.
func dropFromRule(id int) string { return "-s " + peerAddr(id) + " -j DROP" }

// loseEverywhere drops a fraction probability of the packets on every link,
// in each direction: every peer drops that much of what it receives.
func (n *network) loseEverywhere(probability float64) error {
	rules := map[int][]string{}
	for id := 1; id <= n.peers; id++ {
		rules[id] = []string{lossRule(probability)}
	}
	return n.addRules(rules)
}

// loseOnLink drops a fraction probability of the packets on peer id's link,
// each way: what id receives, and what the others receive from id.
func (n *network) loseOnLink(id int, probability float64) error {
	rules := map[int][]string{id: {lossRule(probability)}}
	for p := 1; p <= n.peers; p++ {
		if p != id {
			rules[p] = []string{"-s " + peerAddr(id) + " " + lossRule(probability)}
		}
	}
	return n.addRules(rules)
}

// cut drops, at the receiver to, everything from peer from: the link works
// from to to from only. TCP needs both directions, so streams between them
// stall both ways; datagrams from to still arrive.
func (n *network) cut(from, to int) error {
	return n.addRules(map[int][]string{to: {dropFromRule(from)}})
}

// split cuts every link between peers on different sides, both ways. Peers
// named on no side keep every link.
func (n *network) split(sides ...[]int) error {
	rules := map[int][]string{}
	for i, side := range sides {
		for j, other := range sides {
			if i == j {
				continue
			}
			for _, to := range side {
				for _, from := range other {
					rules[to] = append(rules[to], dropFromRule(from))
				}
			}
		}
	}
	return n.addRules(rules)
}

// isolate cuts peer id off from every other peer, both ways.
func (n *network) isolate(id int) error {
	var others []int
	for p := 1; p <= n.peers; p++ {
		if p != id {
			others = append(others, p)
		}
	}
	return n.split([]int{id}, others)
}

// heal ends every fault: the rules of every namespace go, and every delayed
// peer's port returns to the bridge.
func (n *network) heal() error {
	var wg sync.WaitGroup
	errs := make([]error, n.peers+1)
	for id := 1; id <= n.peers; id++ {
		wg.Go(func() {
			_, err := runCommand("", "ip", "netns", "exec", n.peerNS(id), "iptables", "-F", chainName)
			errs[id] = errors.Wrapf(err, "healing peer %d", id)
		})
	}
	wg.Wait()
	n.mu.Lock()
	var delayed []int
	for id := range n.delayers {
		delayed = append(delayed, id)
	}
	n.mu.Unlock()
	undelayErrs := make([]error, len(delayed))
	for i, id := range delayed {
		wg.Go(func() { undelayErrs[i] = n.undelay(id) })
	}
	wg.Wait()
	errs = append(errs, undelayErrs...)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
