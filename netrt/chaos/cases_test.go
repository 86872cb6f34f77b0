//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/memberly/memberly/check"
)

const (
	peerCount = 5
	// formWithin bounds the founding and the four joins (about 3 s at
	// default timing).
	formWithin = 30 * time.Second
	// steadyFor lets heartbeats flow between the formed cluster and the
	// fault, so that each fault meets a cluster at rest.
	steadyFor = 3 * time.Second
	// settleFor is watched after agreement, to catch a change that comes
	// late, before the peers are killed.
	settleFor = 3 * time.Second
	// pollInterval spaces the reads of the logs while waiting.
	pollInterval = 100 * time.Millisecond
	// healTarget is the recovery target: one view of all live peers
	// within 2 s of any heal. Reported, not asserted.
	healTarget = 2 * time.Second
)

// pick returns full, or short in a short run.
func pick(full, short time.Duration) time.Duration {
	if shortRun {
		return short
	}
	return full
}

// chaosCase is one fault on a formed cluster of five.
type chaosCase struct {
	fault    string // what happens, for the logs and the summary
	faultFor time.Duration
	// removalsMax is the target for false removals (nil: none, as where a
	// peer cut off from the quorum is rightly removed).
	removalsMax *int
	// inject starts the fault; leader is the formed cluster's leader and
	// member one of the others.
	inject func(nw *network, leader, member int) error
}

func TestChaos_LeaderIsolated(t *testing.T) {
	runCase(t, chaosCase{
		fault:    "leader isolated",
		faultFor: pick(20*time.Second, 10*time.Second),
		inject: func(nw *network, leader, _ int) error {
			return nw.isolate(leader)
		},
	})
}

func TestChaos_Split(t *testing.T) {
	runCase(t, chaosCase{
		fault:    "split [1,2] | [3,4,5]",
		faultFor: pick(20*time.Second, 10*time.Second),
		inject: func(nw *network, _, _ int) error {
			return nw.split([]int{1, 2}, []int{3, 4, 5})
		},
	})
}

func TestChaos_OneWayCuts(t *testing.T) {
	t.Run("MemberDeafToLeader", func(t *testing.T) {
		runCase(t, chaosCase{
			fault:    "member deaf to the leader (leader->member cut)",
			faultFor: pick(20*time.Second, 10*time.Second),
			inject: func(nw *network, leader, member int) error {
				return nw.cut(leader, member)
			},
		})
	})
	t.Run("LeaderDeafToMember", func(t *testing.T) {
		if shortRun {
			t.Skip("short run: one one-way cut only")
		}
		runCase(t, chaosCase{
			fault:    "leader deaf to a member (member->leader cut)",
			faultFor: 20 * time.Second,
			inject: func(nw *network, leader, member int) error {
				return nw.cut(member, leader)
			},
		})
	})
}

func TestChaos_Loss(t *testing.T) {
	t.Run("EveryLink20Percent", func(t *testing.T) {
		runCase(t, chaosCase{
			fault:       "20% loss on every link",
			faultFor:    pick(60*time.Second, 20*time.Second),
			removalsMax: atMost(0),
			inject: func(nw *network, _, _ int) error {
				return nw.loseEverywhere(0.2)
			},
		})
	})
	t.Run("EveryLink40Percent", func(t *testing.T) {
		if shortRun {
			t.Skip("short run: 20% loss only")
		}
		runCase(t, chaosCase{
			fault:       "40% loss on every link",
			faultFor:    60 * time.Second,
			removalsMax: atMost(1),
			inject: func(nw *network, _, _ int) error {
				return nw.loseEverywhere(0.4)
			},
		})
	})
	t.Run("OneLink50Percent", func(t *testing.T) {
		if shortRun {
			t.Skip("short run: loss on every link only")
		}
		runCase(t, chaosCase{
			fault:    "50% loss on a member's link",
			faultFor: 30 * time.Second,
			inject: func(nw *network, _, member int) error {
				return nw.loseOnLink(member, 0.5)
			},
		})
	})
}

func TestChaos_Delay(t *testing.T) {
	t.Run("EveryLink100ms", func(t *testing.T) {
		runCase(t, chaosCase{
			// Every peer's link holds frames 100 ms each way: 200 ms
			// from peer to peer, a 400 ms round trip.
			fault:       "100 ms on every link (200 ms peer to peer)",
			faultFor:    pick(30*time.Second, 10*time.Second),
			removalsMax: atMost(0),
			inject: func(nw *network, _, _ int) error {
				for id := 1; id <= nw.peers; id++ {
					if err := nw.delay(id, 100*time.Millisecond); err != nil {
						return err
					}
				}
				return nil
			},
		})
	})
	t.Run("OneLink3s", func(t *testing.T) {
		if shortRun {
			t.Skip("short run: delay on every link only")
		}
		runCase(t, chaosCase{
			// Longer than -suspect-after: the member looks crashed
			// until its heartbeats, all late, arrive.
			fault:    "3 s on a member's link",
			faultFor: 20 * time.Second,
			inject: func(nw *network, _, member int) error {
				return nw.delay(member, 3*time.Second)
			},
		})
	})
}

// runCase forms a cluster of five (at default timing unless CHAOS_PEER_FLAGS
// says otherwise), lets it rest, injects
// the case's fault, heals it after faultFor, and waits for every peer to
// agree on one view of all five again. It fails the test on a safety
// violation, a garbled log line or a peer that exits; recovery and false
// removals are measured and reported.
func runCase(t *testing.T, cc chaosCase) {
	requireNetwork(t)
	nw := newNetwork(t, peerCount)
	c := startCluster(t, nw, peerBinary, peerFlags...)
	start := time.Now()
	all := make([]int, peerCount)
	for i := range all {
		all[i] = i + 1
	}

	formedAt, ok := waitAgreement(c, all, start, formWithin)
	if !ok {
		t.Fatalf("the cluster did not form within %v; the peers' logs:\n%s", formWithin, dump(c.entries(), start))
	}
	t.Logf("formed: every peer in one view of all five %.3f s after the start", formedAt.Sub(start).Seconds())
	if !watch(c, steadyFor) {
		judge(t, c, start, cc, figures{})
		return
	}
	leader, member := roles(c)

	faultAt := time.Now()
	if err := cc.inject(nw, leader, member); err != nil {
		t.Fatalf("injecting %s: %v", cc.fault, err)
	}
	t.Logf("%.3f s: %s (leader %d, member %d) for %v", faultAt.Sub(start).Seconds(), cc.fault, leader, member, cc.faultFor)
	peersRan := watch(c, cc.faultFor)
	healStart := time.Now()
	if err := nw.heal(); err != nil {
		t.Fatalf("healing: %v", err)
	}
	// Agreement is timed from when the last rule is gone.
	healAt := time.Now()
	t.Logf("%.3f s: healed (removing the fault took %v)", healAt.Sub(start).Seconds(), healAt.Sub(healStart).Round(time.Millisecond))

	f := figures{name: t.Name(), fault: cc.fault, faultFor: cc.faultFor, removalsMax: cc.removalsMax, waited: pick(60*time.Second, 30*time.Second)}
	if peersRan {
		if _, ok := waitAgreement(c, all, healAt, f.waited); ok {
			watch(c, settleFor)
		}
	}
	c.stop()

	merged := merge(c.entries())
	if at, ok := agreedAt(merged, all, healAt); ok {
		f.healed, f.healToAgreement = true, at.Sub(healAt)
	}
	f.falseRemovals = falseRemovals(merged, nil)
	f.suspicions = suspicions(merged, faultAt)
	f.views = viewsDecided(merged, faultAt)
	judge(t, c, start, cc, f)
}

// judge fails t on a safety violation, a bad log line or a peer that exited
// by itself, and reports and records the figures.
func judge(t *testing.T, c *cluster, start time.Time, cc chaosCase, f figures) {
	t.Helper()
	all := c.entries()
	merged := merge(all)
	if prop, detail := check.CheckInstalls(peerCount, installs(merged, start)); prop != "" {
		t.Errorf("safety violated: %s: %s", prop, detail)
	}
	for _, bad := range badLines(merged) {
		t.Error(bad)
	}
	for _, why := range c.exits() {
		t.Error(why)
	}
	if f.name != "" {
		verdict := "missed"
		if f.healVerdict() == "yes" {
			verdict = "met"
		}
		t.Logf("heal to agreement: %s (target: within %v, %s)", f.healFigure(), healTarget, verdict)
		var what []string
		for _, r := range f.falseRemovals {
			what = append(what, r.String())
		}
		target := ""
		if m := cc.removalsMax; m != nil {
			target = fmt.Sprintf(" (target: at most %d)", *m)
		}
		t.Logf("false removals: %d%s %s", len(f.falseRemovals), target, strings.Join(what, ", "))
		t.Logf("from the fault on: %d suspicions printed, %d views decided", f.suspicions, f.views)
		record(f)
	}
	if t.Failed() || os.Getenv("CHAOS_LOGS") == "1" {
		t.Logf("the peers' logs:\n%s", dump(all, start))
	}
}

// waitAgreement polls the peers' logs until the live peers agree on one view
// of exactly them, from from on, or within passes, or a peer exits. It
// returns when they agreed.
func waitAgreement(c *cluster, live []int, from time.Time, within time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(within)
	for {
		if at, ok := agreedAt(merge(c.entries()), live, from); ok {
			return at, true
		}
		if len(c.exits()) > 0 || time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(pollInterval)
	}
}

// watch waits for d, and reports false early if a peer exited by itself.
func watch(c *cluster, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if len(c.exits()) > 0 {
			return false
		}
		time.Sleep(min(pollInterval, time.Until(deadline)))
	}
	return len(c.exits()) == 0
}

// roles returns the leader of the formed cluster, as peer 1's last view line
// names it, and another member, the middle one, for faults aimed at one.
func roles(c *cluster) (leader, member int) {
	v := views{}
	for _, e := range merge(c.entries()) {
		v.apply(e)
	}
	leader = int(v[1].Leader)
	if leader < 1 || leader > peerCount {
		leader = 1
	}
	member = 3
	if member == leader {
		member = 4
	}
	return leader, member
}

// atMost returns a target of at most n false removals.
func atMost(n int) *int { return &n }
