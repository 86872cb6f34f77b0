package protocol

// This file holds what a peer shows its driver and operators: a
// snapshot of its state, and accessors.

// Status is a snapshot of a peer for observers (a /status endpoint, tests).
type Status struct {
	ID          PeerID
	Incarnation uint64   // this process's (a durable peer's stored one)
	ViewID      ViewID   // installed view, 0 when not a member
	Members     []PeerID // installed view's members (shared, never modified)
	MemberTags  []Tags   // their tags, aligned with Members; nil when none has any (View.Tags)
	Tags        Tags     // this process's own
	Leader      PeerID
	Role        string // follower, candidate or leader; "joining" or "stopped" when so
	Promise     Ballot
	Suspects    []PeerID
}

// Status returns a snapshot of the peer.
func (p *Peer) Status() Status {
	s := Status{ID: p.id, Incarnation: p.incarnation, ViewID: p.acc.view.ID, Members: p.acc.view.Members, MemberTags: p.acc.view.Tags, Tags: p.tags, Leader: p.acc.leader, Role: p.role.String(), Promise: p.acc.promise}
	switch {
	case p.stopped:
		s.Role = "stopped"
	case !p.isMember():
		s.Role = "joining"
	}
	for _, q := range p.acc.view.Members {
		if p.fd.suspected.has(q) {
			s.Suspects = append(s.Suspects, q)
		}
	}
	return s
}

// ID returns the peer's id.
func (p *Peer) ID() PeerID { return p.id }

// Universe returns how many peers the universe holds: peers 1..Universe.
func (p *Peer) Universe() int { return p.universe }

// View returns the installed view (ID 0 when not a member).
func (p *Peer) View() View { return p.acc.view }

// Leader returns the leader this peer follows.
func (p *Peer) Leader() PeerID { return p.acc.leader }

// IsLeader reports whether this peer leads.
func (p *Peer) IsLeader() bool { return p.role == roleLeader && !p.stopped }

// Started reports whether the peer took a start (fresh or resumed).
func (p *Peer) Started() bool { return p.started }

// Incarnation returns the incarnation of this process: the one it started
// with, or a durable peer's stored one.
func (p *Peer) Incarnation() uint64 { return p.incarnation }

// Stopped reports whether the peer has crashed or left.
func (p *Peer) Stopped() bool { return p.stopped }

// Idle reports whether a leader has nothing to do: promises from a quorum
// of its view, no operation in flight or queued, and every member known to
// have installed the current view.
func (p *Peer) Idle() bool {
	if p.role != roleLeader || !p.elect.quorumPromised || p.lead.inflight || len(p.lead.queue) > 0 {
		return false
	}
	for _, q := range p.acc.view.Members {
		if q != p.id && p.lead.knownView[q] < p.acc.view.ID {
			return false
		}
	}
	return true
}
