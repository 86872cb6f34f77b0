package protocol

import "time"

// MemberStatus is what one peer knows of one member of its view, for an
// operator's table (peer members, GET /members).
type MemberStatus struct {
	ID PeerID
	// Incarnation is the member's process as the view added it, or as
	// this peer first heard from it when it did not see the ADD; 0 when
	// unknown.
	Incarnation uint64
	// Silent is how long this peer had not heard from the member when it
	// handled its last event; 0 for itself.
	Silent time.Duration
	// Watched tells whether this peer times the member's heartbeats: every
	// member in a small view, its subjects on the ring in a large one.
	// Silence from a member it does not watch says little.
	Watched bool
	Leader  bool // the leader this peer follows
	// Tags are the member's tags as the view holds them.
	Tags Tags
}

// Members returns what this peer knows of each member of its view, in id
// order; none when it holds no view. It costs O(n): it is for operators,
// not for every event.
func (p *Peer) Members() []MemberStatus {
	out := make([]MemberStatus, 0, len(p.acc.view.Members))
	for _, q := range p.acc.view.Members {
		m := MemberStatus{ID: q, Incarnation: p.acc.incarnations[q], Leader: q == p.acc.leader, Tags: p.acc.view.TagsOf(q)}
		if m.Incarnation == 0 {
			m.Incarnation = p.acc.heardAs[q]
		}
		switch {
		case q == p.id:
			m.Incarnation = p.incarnation
		default:
			m.Silent = p.now - p.fd.lastHeard[q]
			m.Watched = p.watches(q)
		}
		out = append(out, m)
	}
	return out
}
