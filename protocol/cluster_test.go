package protocol_test

import (
	"container/heap"
	"fmt"
	"strings"
	"time"

	"github.com/memberly/memberly/protocol"
)

// cluster is the in-memory driver of the protocol tests: it delivers
// messages between peers after a fixed latency and fires timers in virtual
// time. It has no randomness: events at equal times run in the order they
// were scheduled, so every run is the same.
type cluster struct {
	t       fataler
	cfg     protocol.Config
	now     time.Duration
	latency time.Duration // every message, stream or datagram
	seq     uint64
	queue   eventQueue
	nodes   []*node // by id; index 0 unused
	// drop, when set, is asked about every message before it is sent;
	// true drops it.
	drop func(protocol.Message) bool
	// duplicate, when set, is asked about every message that is not
	// dropped; true delivers it twice.
	duplicate func(protocol.Message) bool
	// log holds every note of every peer, rendered, in order.
	log []string
	// seedLog holds every seed log line printed, prefixed with its time.
	seedLog []string
	// delivered counts messages handed to peers.
	delivered int
	// clusters counts the clusters founded (see newCluster).
	clusters int
}

type node struct {
	proc        *protocol.Node
	peer        *protocol.Peer // proc's, for reading its state
	alive       bool
	incarnation uint64
	hooked      bool            // the seed's -t hook is armed
	views       []protocol.View // every view installed, in order, all incarnations
	installs    []install       // the same, with the incarnation that installed each
	notes       []protocol.Note
	// disk is the durable state last stored (Config.Durable), nil when
	// none; saves counts the stores.
	disk  *protocol.DurableState
	saves int
}

// install is one view installed by one process.
type install struct {
	// cluster counts the clusters founded so far: a view 1 installed
	// while no other live process holds a view begins a new one, whose
	// view ids start over (see newCluster).
	cluster     int
	incarnation uint64
	view        protocol.View
}

type scheduled struct {
	at  time.Duration
	seq uint64
	run func()
}

type eventQueue []scheduled

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(scheduled)) }
func (q *eventQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// fataler is what the driver needs of a test: testing.TB and rapid.T both
// have it.
type fataler interface {
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func newCluster(t fataler, n int, cfg protocol.Config) *cluster {
	c := &cluster{t: t, cfg: cfg, latency: time.Millisecond, nodes: make([]*node, n+1)}
	for id := 1; id <= n; id++ {
		c.nodes[id] = &node{}
	}
	return c
}

// at schedules f at virtual time at.
func (c *cluster) at(at time.Duration, f func()) {
	c.seq++
	heap.Push(&c.queue, scheduled{at: at, seq: c.seq, run: f})
}

// start schedules a (re)start of peer id at time at: a fresh process,
// started as every runtime starts one, through a Node.
func (c *cluster) start(id protocol.PeerID, at time.Duration) {
	c.at(at, func() {
		n := c.nodes[id]
		if n.alive {
			c.t.Fatalf("peer %d started twice", id)
		}
		proc, err := protocol.NewNode(c.cfg, id, len(c.nodes)-1, nodeEffects{c, id})
		if err != nil {
			c.t.Fatal(err)
		}
		if n.hooked {
			proc.ArmLeaderCrashHook(nil)
		}
		n.proc, n.peer, n.alive = proc, proc.Peer(), true
		n.incarnation++
		c.check(id, "start", proc.Start(c.now, n.incarnation))
	})
}

// resume schedules a restart of peer id at time at from the state it
// stored, as a durable peer's new process starts.
func (c *cluster) resume(id protocol.PeerID, at time.Duration) {
	c.at(at, func() {
		n := c.nodes[id]
		if n.alive || n.disk == nil {
			c.t.Fatalf("peer %d resumed while alive or without stored state", id)
		}
		proc, err := protocol.NewNode(c.cfg, id, len(c.nodes)-1, nodeEffects{c, id})
		if err != nil {
			c.t.Fatal(err)
		}
		n.proc, n.peer, n.alive = proc, proc.Peer(), true
		n.incarnation++ // the driver's process count; the peer keeps its stored incarnation
		c.check(id, "resume", proc.Resume(c.now, *n.disk))
	})
}

// kill schedules the end of peer id's process at time at, without a word,
// as kill -9 does.
func (c *cluster) kill(id protocol.PeerID, at time.Duration) {
	c.at(at, func() { c.nodes[id].alive = false })
}

// crash schedules a crash of peer id at time at (it prints "crashing").
func (c *cluster) crash(id protocol.PeerID, at time.Duration) {
	c.at(at, func() {
		if n := c.nodes[id]; n.alive {
			c.check(id, "crash", n.proc.Crash(c.now))
		}
	})
}

// hookCase4 arms the seed's -t hook on peer id, from its next start.
func (c *cluster) hookCase4(id protocol.PeerID) { c.nodes[id].hooked = true }

// check fails the test when a node refused what the driver gave it.
func (c *cluster) check(id protocol.PeerID, what string, err error) {
	if err != nil {
		c.t.Fatalf("t=%v peer %d: %s: %v", c.now, id, what, err)
	}
}

// newCluster reports whether no live process but id's holds a view: the
// cluster that was is gone with every process that knew it, and a view 1
// founded now begins another.
func (c *cluster) newCluster(id protocol.PeerID) bool {
	for q, n := range c.nodes[1:] {
		if protocol.PeerID(q+1) != id && n.alive && n.peer.View().ID != 0 {
			return false
		}
	}
	return true
}

// nodeEffects carries out one peer's outputs in the cluster.
type nodeEffects struct {
	c  *cluster
	id protocol.PeerID
}

func (fx nodeEffects) Note(note protocol.Note) {
	c, n := fx.c, fx.c.nodes[fx.id]
	n.notes = append(n.notes, note)
	if note.Kind == protocol.NoteViewInstalled {
		v := protocol.View{ID: note.ViewID, Members: note.Members}
		n.views = append(n.views, v)
		if v.ID == 1 && c.newCluster(fx.id) {
			c.clusters++
		}
		n.installs = append(n.installs, install{cluster: c.clusters, incarnation: n.incarnation, view: v})
	}
	c.log = append(c.log, fmt.Sprintf("%8.3fs %s", c.now.Seconds(), note))
	if line, ok := protocol.FormatNote(note); ok {
		c.seedLog = append(c.seedLog, fmt.Sprintf("%8.3fs %s", c.now.Seconds(), line))
	}
}

func (fx nodeEffects) Send(m protocol.Message) {
	c := fx.c
	if c.drop != nil && c.drop(m) {
		return
	}
	copies := 1
	if c.duplicate != nil && c.duplicate(m) {
		copies = 2
	}
	to, inc := m.To, c.nodes[m.To].incarnation
	for range copies {
		c.at(c.now+c.latency, func() {
			// A message reaches only the process it was sent to: a
			// restarted peer is a new process on a new connection.
			if r := c.nodes[to]; r.alive && r.incarnation == inc {
				c.delivered++
				c.check(to, "message", r.proc.Receive(c.now, m))
			}
		})
	}
}

func (fx nodeEffects) Timer(tr protocol.TimerRequest) {
	if tr.Cancel {
		return // stale fires are ignored by the peer
	}
	c, n := fx.c, fx.c.nodes[fx.id]
	timer, inc := tr.Timer, n.incarnation
	c.at(c.now+tr.After, func() {
		if n.alive && n.incarnation == inc {
			c.check(fx.id, "timer", n.proc.Fire(c.now, timer))
		}
	})
}

func (fx nodeEffects) Stop() { fx.c.nodes[fx.id].alive = false }

func (fx nodeEffects) Save(s protocol.DurableState) error {
	n := fx.c.nodes[fx.id]
	n.disk = &s
	n.saves++
	return nil
}

// runUntil runs every event scheduled up to and including time end.
func (c *cluster) runUntil(end time.Duration) {
	for c.queue.Len() > 0 && c.queue[0].at <= end {
		e := heap.Pop(&c.queue).(scheduled)
		c.now = e.at
		e.run()
	}
	c.now = end
}

// viewIDs returns, per peer, the views it installed as "id[members]".
func (c *cluster) installed() map[protocol.PeerID][]string {
	got := map[protocol.PeerID][]string{}
	for id := 1; id < len(c.nodes); id++ {
		for _, v := range c.nodes[id].views {
			got[protocol.PeerID(id)] = append(got[protocol.PeerID(id)], v.String())
		}
	}
	return got
}

// final describes the view and leader of every live peer.
func (c *cluster) final() map[protocol.PeerID]string {
	got := map[protocol.PeerID]string{}
	for id := 1; id < len(c.nodes); id++ {
		if n := c.nodes[id]; n.alive {
			got[protocol.PeerID(id)] = fmt.Sprintf("view %s leader %d", n.peer.View(), n.peer.Leader())
		}
	}
	return got
}

// lines returns the seed log lines peer id printed, in order.
func (c *cluster) lines(id protocol.PeerID) []string {
	var out []string
	for _, n := range c.nodes[id].notes {
		if s, ok := protocol.FormatNote(n); ok {
			out = append(out, s)
		}
	}
	return out
}

// show logs every peer's seed log lines in time order (visible with -v).
func (c *cluster) show(t interface{ Log(...any) }) {
	t.Log("log lines, in virtual time:\n" + strings.Join(c.seedLog, "\n"))
}

// dump returns the whole note log, for failure messages.
func (c *cluster) dump() string { return strings.Join(c.log, "\n") }

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
