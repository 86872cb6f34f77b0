package protocol

import "slices"

// IsQuorum reports whether the members of view for which has returns true
// form a quorum of view: more than half of them, or exactly half including
// the lowest id. Any two quorums of one view intersect: two disjoint halves
// cannot both hold the lowest id.
func IsQuorum(view []PeerID, has func(PeerID) bool) bool {
	n := len(view)
	if n == 0 {
		return false
	}
	count := 0
	for _, p := range view {
		if has(p) {
			count++
		}
	}
	return 2*count > n || (2*count == n && has(view[0]))
}

// peerSet is a set of peer ids, indexed by id. Sized for the universe once, it
// never allocates on the hot path.
type peerSet []bool

func newPeerSet(universe int) peerSet { return make(peerSet, universe+1) }

func (s peerSet) has(p PeerID) bool { return int(p) < len(s) && s[p] }
func (s peerSet) add(p PeerID)      { s[p] = true }
func (s peerSet) del(p PeerID)      { s[p] = false }
func (s peerSet) clear()            { clear(s) }

// countedSet is a peerSet that also keeps how many peers it holds, so that
// asking whether it is empty costs nothing. The count is derived from the
// set: Clone copies it with the set, and AppendState encodes the set alone.
type countedSet struct {
	peerSet
	n int // how many of peerSet are true
}

func newCountedSet(universe int) countedSet { return countedSet{peerSet: newPeerSet(universe)} }

func (s *countedSet) add(p PeerID) {
	if !s.peerSet[p] {
		s.peerSet[p] = true
		s.n++
	}
}

func (s *countedSet) del(p PeerID) {
	if s.peerSet[p] {
		s.peerSet[p] = false
		s.n--
	}
}

func (s *countedSet) clear() { clear(s.peerSet); s.n = 0 }

// empty reports whether s holds no peer.
func (s *countedSet) empty() bool { return s.n == 0 }

// clone returns a copy of s that shares nothing with it.
func (s countedSet) clone() countedSet { return countedSet{peerSet: slices.Clone(s.peerSet), n: s.n} }

// quorum reports whether s holds a quorum of view.
func (s peerSet) quorum(view []PeerID) bool { return IsQuorum(view, s.has) }

// isQuorum is the quorum test the peer applies: IsQuorum, unless the
// configuration breaks it on purpose. Fewer than half of the view in s,
// members or not, is never a quorum: that is known without counting, so
// a leader counts its OKs over the view once or twice per change, not at
// every OK.
func (p *Peer) isQuorum(s *countedSet) bool {
	if p.cfg.Mutation == MutationQuorumOfOne {
		return true
	}
	return 2*s.n >= len(p.acc.view.Members) && s.quorum(p.acc.view.Members)
}
