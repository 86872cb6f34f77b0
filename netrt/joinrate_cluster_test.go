package netrt

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// floodJoins sends the peer at addr, over TCP from fromIP, JOINs in the
// name of id, each claiming a new process (a new incarnation), 16 every
// millisecond, until ctx ends. It dials again whenever the peer closes the
// connection, as it does when the real peer's newer connection displaces
// this one. It returns how many it wrote.
func floodJoins(ctx context.Context, t *testing.T, fromIP, addr string, id, to protocol.PeerID) int {
	t.Helper()
	var (
		sent int
		c    net.Conn
		buf  []byte
	)
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	incarnation := uint64(time.Now().UnixNano())
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return sent
		case <-tick.C:
		}
		if c == nil {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(fromIP)}, Timeout: time.Second}
			var err error
			if c, err = d.DialContext(ctx, "tcp", addr); err != nil {
				c = nil
				continue
			}
		}
		buf = buf[:0]
		for range 16 {
			incarnation++
			buf = appendFrame(buf, encode(t, protocol.Message{Type: protocol.MsgJoin, From: id, To: to,
				Op: protocol.Op{Kind: protocol.OpAdd, Peer: id, Incarnation: incarnation}}))
		}
		c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Write(buf); err != nil {
			c.Close()
			c = nil
			continue
		}
		sent += 16
	}
}

// changesOf counts, in the views a peer installed, the changes that add
// or remove id and the others.
func changesOf(notes []protocol.Note, id protocol.PeerID) (ofID, others int) {
	var prev []protocol.PeerID
	for _, n := range notes {
		if n.Kind != protocol.NoteViewInstalled {
			continue
		}
		if prev != nil {
			in := func(ms []protocol.PeerID) bool {
				for _, m := range ms {
					if m == id {
						return true
					}
				}
				return false
			}
			if in(prev) != in(n.Members) {
				ofID++
			} else {
				others++
			}
		}
		prev = n.Members
	}
	return ofID, others
}

// A flood of forged JOINs, in the clear and from the right address,
// claiming member 3's id, each with a new incarnation, 16,000 a second for
// two seconds. Without the limit each would make the leader remove 3 and
// add it again: it took in some 11,000 and changed 3's membership some
// 160 times in those two seconds. With it, the leader lets through at
// most joinBurst JOINs from id 3 plus one per refill interval (250 ms
// here; the real peer 3's own JOINs count among them), each of which adds
// 3 at most once, and 3 is removed at most once more than it is added: so
// at most 2 * (joinBurst + elapsed/refill + 1) + 1 changes of 3, about 30
// over the flood and the recovery (some 20 are seen). Once the flood
// stops, the cluster ends in one view of all five, the real peer 3 in it.
func TestCluster_JoinFloodBounded(t *testing.T) {
	const (
		victim    = 3
		floodFor  = 2 * time.Second
		joinRetry = 500 * time.Millisecond
	)
	p := startCluster(t, 5, func(o *Options) { o.Config.JoinRetryInterval = joinRetry })
	all := []protocol.PeerID{1, 2, 3, 4, 5}
	waitView(t, all, p[1:]...)
	leader := p[1]
	joins0 := leader.rt.impl.met.in[protocol.MsgJoin].Load()
	leader.mu.Lock()
	notes0 := len(leader.notes)
	leader.mu.Unlock()

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), floodFor)
	defer cancel()
	sent := floodJoins(ctx, t, fmt.Sprintf("127.0.0.%d", victim), leader.rt.TCPAddr(), victim, 1)
	waitView(t, all, p[1:]...)
	elapsed := time.Since(start)

	passed := int(leader.rt.impl.met.in[protocol.MsgJoin].Load() - joins0)
	dropped := leader.drops(dropJoinRate)
	leader.mu.Lock()
	changes, others := changesOf(leader.notes[notes0:], victim)
	leader.mu.Unlock()
	refill := joinRefill(joinRetry)
	maxPassed := joinBurst + int(elapsed/refill) + 1
	t.Logf("%d forged JOINs sent in %v; by the end (%v), the leader let %d JOINs from %d through (at most %d), dropped %d, and made %d changes of %d (at most %d) and %d of others",
		sent, floodFor, elapsed.Round(time.Millisecond), passed, victim, maxPassed, dropped, changes, victim, 2*maxPassed+1, others)
	if passed > maxPassed {
		t.Errorf("the leader let %d JOINs from %d through in %v, want at most %d (a burst of %d, then one per %v)",
			passed, victim, elapsed, maxPassed, joinBurst, refill)
	}
	if changes > 2*passed+1 {
		t.Errorf("%d view changes of peer %d for %d JOINs let through, want at most %d", changes, victim, passed, 2*passed+1)
	}
	if dropped < uint64(sent)/2 {
		t.Errorf("%d JOINs dropped for their rate of %d sent, want most of them", dropped, sent)
	}
	// Every peer holds the leader's view, peer 3 too: the real process
	// is the member.
	id := leader.rt.Status().ViewID
	for _, q := range p[1:] {
		if st := q.rt.Status(); st.ViewID != id {
			t.Errorf("peer %d holds view %d %v, the leader %d", q.id, st.ViewID, st.Members, id)
		}
	}
}
