package explore

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// state is one global state of a cluster under exploration: every peer's
// process, what is in flight between them, and what the checkers need to
// remember of the path that led here.
//
// Invariant: a state is never modified once it is in the frontier; a
// transition works on a copy (clone).
type state struct {
	now   time.Duration
	procs []*proc // by peer id; index 0 unused

	// streams holds, by from*(n+1)+to, the stream messages in flight from
	// one peer to another, in order: a stream delivers its head first.
	// streamsOwned says whether the table belongs to this state alone; a
	// copy shares it until it changes a stream (setStream).
	streams      [][]flight
	streamsOwned bool
	// datagrams holds the datagrams in flight, in no order that matters.
	datagrams []flight

	// views holds, by view id, the view (members and tags) installed
	// under it on this path: S2 and S3 judge each install against it.
	views      map[protocol.ViewID]protocol.View
	viewsOwned bool // views belongs to this state alone (install)
	// joined and reasons hold, by peer, whether it sent JOIN, and whether
	// a reason to remove it arose (a suspicion anywhere, an eviction, a
	// LEAVE) on this path: S5 judges each change against them.
	joined, reasons []bool

	// owned[id] says whether procs[id] belongs to this state alone. A
	// copy shares every process with its original until a transition
	// touches it (own), so a step copies one peer, not all of them.
	owned []bool

	// blocked counts, by from*(n+1)+to, the partitions in force that
	// lose from's messages to to; drops are the scenario's targeted drops
	// with what is left of their counts. Both are copied on change.
	blocked []int
	drops   []dropLeft

	faults  int // faults used on this path, against Options.Faults
	pending int // index of the next scenario action still to happen

	violation *violation // the first property broken on the way here

	target *target // shared by every state of an exploration (effects)
}

// flight is one message in flight, with when the deterministic replay of
// the timeline delivers it (the exploration ignores it: any order goes),
// and its encoding, made once as it is sent, for state keys.
type flight struct {
	m   protocol.Message
	at  time.Duration
	enc []byte
}

// proc is one peer's process slot.
type proc struct {
	node        *protocol.Node // nil until started
	alive       bool
	incarnation uint64
	lastView    protocol.ViewID // the process's last install, for S1
	timers      []armed         // by protocol.TimerKind
	// disk is the state file a durable peer stored last (nil when none):
	// it outlives the process, and a restart resumes from it. Never
	// modified: a store replaces it.
	disk []byte

	// enc caches the process's part of a state key, with times relative
	// to encAt. A process shared by several states is never changed
	// (own copies it first, and clears the cache), and its encoding
	// depends on nothing else, so the cache serves them all.
	enc   []byte
	encAt time.Duration
}

// encoding returns p's part of a state key at time now.
func (p *proc) encoding(now time.Duration) []byte {
	if p.enc != nil && p.encAt == now {
		return p.enc
	}
	b := p.enc[:0]
	u := func(v uint64) { b = binary.AppendUvarint(b, v) }
	if p.node == nil {
		u(0)
	} else {
		u(1)
		u(uint64(bit(p.alive)))
		u(p.incarnation)
		u(uint64(p.lastView))
		if !p.alive {
			u(uint64(len(p.disk)))
			b = append(b, p.disk...)
		}
		if p.alive {
			b = p.node.Peer().AppendState(b, now)
			for _, t := range p.timers {
				if t.on {
					u(t.timer.Gen)
					b = binary.AppendVarint(b, int64(t.deadline-now))
				} else {
					u(0)
				}
			}
		}
	}
	p.enc, p.encAt = b, now
	return b
}

// armed is one armed timer of a process.
type armed struct {
	timer    protocol.Timer
	deadline time.Duration
	on       bool
}

type violation struct{ property, detail string }

// clone returns a copy of s that shares nothing mutable with it but its
// processes, which it copies when a transition first touches one (own).
func (s *state) clone() *state {
	c := &state{now: s.now, faults: s.faults, pending: s.pending, violation: s.violation, target: s.target}
	c.procs = slices.Clone(s.procs)
	c.owned = make([]bool, len(s.procs))
	// The stream table is shared until a stream changes (setStream). The
	// datagrams are shared with their capacity cut to their length: an
	// append must then copy, so the original never sees a change.
	c.streams = s.streams
	c.datagrams = s.datagrams[:len(s.datagrams):len(s.datagrams)]
	c.joined, c.reasons = slices.Clone(s.joined), slices.Clone(s.reasons)
	c.views = s.views // copied on the first install (install)
	c.blocked, c.drops = s.blocked, s.drops
	return c
}

// stream returns the messages in flight from one peer to another.
func (s *state) stream(from, to protocol.PeerID) []flight {
	return s.streams[int(from)*len(s.procs)+int(to)]
}

// setStream replaces the messages in flight from one peer to another,
// first copying the table if s shares it. Queues in the copy are shared
// with their capacity cut to their length: taking a head reslices, and an
// append must then copy, so the original never sees a change.
func (s *state) setStream(from, to protocol.PeerID, q []flight) {
	if !s.streamsOwned {
		t := make([][]flight, len(s.streams))
		for i, q := range s.streams {
			t[i] = q[:len(q):len(q)]
		}
		s.streams, s.streamsOwned = t, true
	}
	s.streams[int(from)*len(s.procs)+int(to)] = q
}

// removeDatagram takes datagram i out of flight without touching the
// slice s may share with its original.
func (s *state) removeDatagram(i int) flight {
	f := s.datagrams[i]
	s.datagrams = append(s.datagrams[:i:i], s.datagrams[i+1:]...)
	return f
}

// dropDatagrams takes out of flight every datagram lose matches.
func (s *state) dropDatagrams(lose func(flight) bool) {
	if slices.ContainsFunc(s.datagrams, lose) {
		s.datagrams = slices.DeleteFunc(slices.Clone(s.datagrams), lose)
	}
}

// install records that v was installed, copying the record first if s
// shares it with its original.
func (s *state) install(v protocol.View) {
	if !s.viewsOwned {
		views := make(map[protocol.ViewID]protocol.View, len(s.views)+1)
		for k, v := range s.views {
			views[k] = v // member and tag slices are never modified
		}
		s.views, s.viewsOwned = views, true
	}
	s.views[v.ID] = v
}

// own returns process id of s, first copying it if s shares it: its
// node then writes its outputs into s.
func (s *state) own(id protocol.PeerID) *proc {
	s.target.s = s
	if s.owned[id] {
		return s.procs[id]
	}
	p := *s.procs[id]
	p.timers = slices.Clone(p.timers)
	p.enc = nil
	if p.node != nil {
		p.node = p.node.Clone(s.effectsOf(id))
	}
	s.procs[id], s.owned[id] = &p, true
	return &p
}

// encode appends the state's canonical encoding to buf[:0]: equal states
// encode alike whatever the path and the time they were reached at (times
// are relative to now). Datagrams in flight are a multiset, encoded in
// sorted order; the replay's delivery times are left out.
func (s *state) encode(buf []byte) []byte {
	b := buf[:0]
	u := func(v uint64) { b = binary.AppendUvarint(b, v) }
	for _, p := range s.procs[1:] {
		b = append(b, p.encoding(s.now)...)
	}
	for _, q := range s.streams {
		u(uint64(len(q)))
		for _, f := range q {
			b = append(b, f.enc...)
		}
	}
	u(uint64(len(s.datagrams)))
	if slices.IsSortedFunc(s.datagrams, byEncoding) {
		for _, f := range s.datagrams {
			b = append(b, f.enc...)
		}
	} else {
		sorted := slices.SortedFunc(slices.Values(s.datagrams), byEncoding)
		for _, f := range sorted {
			b = append(b, f.enc...)
		}
	}
	ids := make([]protocol.ViewID, 0, len(s.views))
	for id := range s.views {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		v := s.views[id]
		u(uint64(id))
		u(uint64(len(v.Members)))
		for _, q := range v.Members {
			u(uint64(q))
		}
		// Tags: none (0), or each member's pairs, length-prefixed, as a
		// view's tags tell two paths apart as its members do.
		u(uint64(len(v.Tags)))
		for _, t := range v.Tags {
			for k, val := range t.All {
				u(uint64(len(k)))
				b = append(b, k...)
				u(uint64(len(val)))
				b = append(b, val...)
			}
			u(0) // no key is empty: the end of this member's pairs
		}
	}
	for id := range s.joined {
		b = append(b, bit(s.joined[id])|bit(s.reasons[id])<<1)
	}
	for _, n := range s.blocked {
		u(uint64(n))
	}
	for _, d := range s.drops {
		u(uint64(d.left))
	}
	u(uint64(s.faults))
	u(uint64(s.pending))
	return b
}

// key returns s's canonical hash (and buf, grown to its encoding). A
// delay-bounded search adds how far off the next scenario action is: its
// default schedule takes the action once no timer is due before it, so
// two states alike in all else but that differ in what they do next.
func (x *explorer) key(s *state, buf []byte) (uint64, []byte) {
	b := s.encode(buf)
	if x.opts.Delays != 0 && s.pending < len(x.actions) {
		b = binary.AppendVarint(b, int64(x.actions[s.pending].At-s.now))
	}
	return maphash.Bytes(keySeed, b), b
}

// keySeed seeds the state hashes. Any seed will do: a hash only names a
// state within one exploration, whose order never depends on it.
var keySeed = maphash.MakeSeed()

// byEncoding orders datagrams by their encoding.
func byEncoding(x, y flight) int { return slices.Compare(x.enc, y.enc) }

func bit(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// dropLeft is a targeted drop of the scenario and how many messages it
// still takes.
type dropLeft struct {
	d    scenarios.Drop
	left int
}

// cut reports whether a partition in force loses from's messages to to.
func (s *state) cut(from, to protocol.PeerID) bool {
	return s.blocked[int(from)*len(s.procs)+int(to)] > 0
}

// block adds delta to the partitions in force on the link from->to.
func (s *state) block(from, to protocol.PeerID, delta int) {
	s.blocked = slices.Clone(s.blocked)
	s.blocked[int(from)*len(s.procs)+int(to)] += delta
}

// dropped reports whether a targeted drop takes m, counting it.
func (s *state) dropped(m protocol.Message) bool {
	for i, d := range s.drops {
		if d.left > 0 && (d.d.Type == 0 || d.d.Type == m.Type) && (d.d.From == 0 || d.d.From == m.From) && (d.d.To == 0 || d.d.To == m.To) {
			s.drops = slices.Clone(s.drops)
			s.drops[i].left--
			return true
		}
	}
	return false
}
