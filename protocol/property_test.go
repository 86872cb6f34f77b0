package protocol_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// checkSafety checks S1-S4 of docs/design.md, section 11, over everything the
// cluster's peers installed, as check.CheckInstalls judges a real run's log,
// and returns the violation found, if any.
func checkSafety(c *cluster) []string {
	var installs []check.Install
	for id := 1; id < len(c.nodes); id++ {
		for _, in := range c.nodes[id].installs {
			installs = append(installs, check.Install{
				Peer: protocol.PeerID(id), Incarnation: in.incarnation, Cluster: in.cluster, View: in.view,
			})
		}
	}
	// Cluster by cluster, as CheckInstalls wants them; each peer's stay in
	// the order it installed them, which is what S1 judges.
	slices.SortStableFunc(installs, func(a, b check.Install) int { return cmp.Compare(a.Cluster, b.Cluster) })
	if prop, detail := check.CheckInstalls(len(c.nodes)-1, installs); prop != "" {
		return []string{prop + ": " + detail}
	}
	return nil
}

// faultSchedule is a drawn run: who starts when, what the network does,
// who crashes and restarts.
type faultSchedule struct {
	peers     int
	starts    []time.Duration // by id-1
	seed      uint64          // drives per-message loss and duplication
	lossPct   int
	dupPct    int
	isolate   protocol.PeerID // cut off from everyone during [isolateFrom, isolateTo)
	isolateAt [2]time.Duration
	crashes   []crashAt
	faultsEnd time.Duration // no loss, duplication or isolation after this
}

type crashAt struct {
	peer      protocol.PeerID
	at        time.Duration
	restartAt time.Duration // 0: stays down
}

func (f faultSchedule) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "peers=%d starts=%v seed=%d loss=%d%% dup=%d%% faults until %v", f.peers, f.starts, f.seed, f.lossPct, f.dupPct, f.faultsEnd)
	if f.isolate != 0 {
		fmt.Fprintf(&sb, " isolate %d during %v", f.isolate, f.isolateAt)
	}
	for _, c := range f.crashes {
		fmt.Fprintf(&sb, " crash %d at %v (restart at %v)", c.peer, c.at, c.restartAt)
	}
	return sb.String()
}

func drawSchedule(t *rapid.T, crashes bool) faultSchedule {
	ms := func(lo, hi int, label string) time.Duration {
		return time.Duration(rapid.IntRange(lo, hi).Draw(t, label)) * time.Millisecond
	}
	f := faultSchedule{peers: rapid.IntRange(1, 7).Draw(t, "peers")}
	f.starts = []time.Duration{0}
	for i := 2; i <= f.peers; i++ {
		f.starts = append(f.starts, ms(0, 8000, "start"))
	}
	f.seed = rapid.Uint64().Draw(t, "seed")
	f.lossPct = rapid.IntRange(0, 40).Draw(t, "loss")
	f.dupPct = rapid.IntRange(0, 30).Draw(t, "dup")
	f.faultsEnd = ms(5000, 30000, "faultsEnd")
	if rapid.Bool().Draw(t, "partition") {
		f.isolate = protocol.PeerID(rapid.IntRange(1, f.peers).Draw(t, "isolate"))
		from := ms(0, 20000, "isolateFrom")
		f.isolateAt = [2]time.Duration{from, from + ms(500, 10000, "isolateFor")}
	}
	if crashes {
		for range rapid.IntRange(0, 3).Draw(t, "crashes") {
			c := crashAt{peer: protocol.PeerID(rapid.IntRange(1, f.peers).Draw(t, "crashPeer")), at: ms(0, 25000, "crashAt")}
			// Peer 1 is not restarted here: this network loses stream
			// messages too, and a restarted peer 1 whose questions or
			// their answers are all lost founds a second cluster, a limit
			// of peers without stored state (docs/design.md, section 8).
			// The simulator's properties restart it, keeping one member
			// reachable from it.
			if c.peer != 1 && rapid.Bool().Draw(t, "restart") {
				c.restartAt = c.at + ms(1, 10000, "downFor")
			}
			f.crashes = append(f.crashes, c)
		}
	}
	return f
}

// run plays f on a fresh cluster until end.
func (f faultSchedule) run(tb fataler, end time.Duration) *cluster {
	c := newCluster(tb, f.peers, protocol.DefaultConfig())
	rng := rand.New(rand.NewPCG(f.seed, 0))
	c.drop = func(m protocol.Message) bool {
		if c.now >= f.faultsEnd {
			return false
		}
		if f.isolate != 0 && (m.From == f.isolate || m.To == f.isolate) && c.now >= f.isolateAt[0] && c.now < f.isolateAt[1] {
			return true
		}
		return rng.IntN(100) < f.lossPct
	}
	c.duplicate = func(protocol.Message) bool { return c.now < f.faultsEnd && rng.IntN(100) < f.dupPct }
	for i, at := range f.starts {
		c.start(protocol.PeerID(i+1), at)
	}
	down := map[protocol.PeerID]bool{}
	for _, cr := range f.crashes {
		c.at(cr.at, func() {
			if n := c.nodes[cr.peer]; n.alive && !down[cr.peer] {
				c.check(cr.peer, "crash", n.proc.Crash(c.now))
				down[cr.peer] = true
				if cr.restartAt > 0 {
					c.at(cr.restartAt, func() {
						down[cr.peer] = false
						c.start(cr.peer, cr.restartAt)
					})
				}
			}
		})
	}
	c.runUntil(end)
	return c
}

// TestProperty_SafetyUnderFaults: whatever the network and crashes do, no
// run breaks S1-S4.
func TestProperty_SafetyUnderFaults(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := drawSchedule(t, true)
		c := f.run(t, 45*time.Second)
		if bad := checkSafety(c); len(bad) > 0 {
			t.Fatalf("schedule: %s\nviolations:\n%s\nlog:\n%s", f, strings.Join(bad, "\n"), c.dump())
		}
	})
}

// TestProperty_ConvergesAfterLossStops: with loss, duplication and a
// temporary isolation but no crash, every peer ends in one view holding all
// peers, with one leader, soon after the faults stop.
func TestProperty_ConvergesAfterLossStops(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := drawSchedule(t, false)
		end := f.faultsEnd + 20*time.Second
		c := f.run(t, end)
		if bad := checkSafety(c); len(bad) > 0 {
			t.Fatalf("schedule: %s\nviolations:\n%s", f, strings.Join(bad, "\n"))
		}
		want := ""
		for id := 1; id <= f.peers; id++ {
			n := c.nodes[id]
			got := fmt.Sprintf("view %v leader %d", n.peer.View().Members, n.peer.Leader())
			if want == "" {
				want = got
			}
			if got != want || len(n.peer.View().Members) != f.peers {
				t.Fatalf("schedule: %s\npeer %d: %s; peer 1: %s; want all %d peers in one view\n%v\nlog:\n%s",
					f, id, got, want, f.peers, c.final(), c.dump())
			}
		}
	})
}
