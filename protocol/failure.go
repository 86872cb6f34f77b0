package protocol

import (
	"slices"
	"time"
)

// heard records a sign of life from q: any message counts.
func (p *Peer) heard(q PeerID) {
	p.fd.lastHeard[q] = p.now
	p.fd.departed.del(q)
	if p.fd.suspected.has(q) {
		p.fd.suspected.del(q)
		p.note(Note{Kind: NoteSuspicionCleared, Subject: q})
		p.shareSuspicions()
		// Trusted again, q has its say: its last report, unchanged, may
		// complete an agreement that no heartbeat will announce.
		// The suspect timer may be idle (everyone else was suspected):
		// q's silence must be timed again.
		p.armSuspectTimer()
	}
}

// suspect raises a suspicion of member q, once.
func (p *Peer) suspect(q PeerID) {
	if p.fd.suspected.has(q) || q == p.id {
		return
	}
	p.fd.suspected.add(q)
	p.note(Note{Kind: NoteSuspected, Subject: q, SubjectWasLeader: q == p.acc.leader})
	p.shareSuspicions()
}

// checkSuspicions suspects every member silent for SuspectAfter, and logs
// every departed peer silent as long, then arms the suspect timer for the
// next one that could fall silent.
func (p *Peer) checkSuspicions() {
	for _, q := range p.fd.watch.subjects {
		if p.now-p.fd.lastHeard[q] >= p.cfg.SuspectAfter {
			p.suspect(q)
		}
	}
	if !p.watchesAll() {
		p.expireReports()
	}
	for q := PeerID(1); !p.fd.departed.empty() && int(q) <= p.universe; q++ {
		if p.fd.departed.has(q) && p.now-p.fd.lastHeard[q] >= p.cfg.SuspectAfter {
			// Removed already: only the log line is left to give.
			p.fd.departed.del(q)
			p.note(Note{Kind: NoteSuspected, Subject: q})
		}
	}
	p.armSuspectTimer()
}

// checkOverdueSuspicions raises the suspicions whose moment has passed
// while the suspect timer has not fired yet. A driver's timer can fire
// late (a loaded machine, a busy event loop) and a message can overtake
// it: without this, a member could learn from the leader's REQ or NEWVIEW
// that a silent peer is removed before its own detector spoke, and never
// log that the peer was unreachable. With it, a peer's suspicions depend
// on Now alone, not on how promptly its timers fire.
func (p *Peer) checkOverdueSuspicions() {
	if p.fd.suspectDue != 0 && p.now >= p.fd.suspectDue {
		p.checkSuspicions()
	}
}

// armSuspectTimer arms TimerSuspect for the earliest moment a member not yet
// suspected could become suspected. Hearing from members only moves those
// moments later, so the timer may fire early; it then re-checks and re-arms.
// That is why nothing is re-armed on the heartbeat path.
func (p *Peer) armSuspectTimer() {
	var earliest time.Duration
	found := false
	due := func(q PeerID) {
		if d := p.fd.lastHeard[q] + p.cfg.SuspectAfter; !found || d < earliest {
			earliest, found = d, true
		}
	}
	for _, q := range p.fd.watch.subjects {
		if !p.fd.suspected.has(q) {
			due(q)
		}
	}
	if !p.watchesAll() {
		// When the reports held lapse (observers.go).
		for o := PeerID(1); !p.fd.watch.reporting.empty() && int(o) <= p.universe; o++ {
			if d := p.fd.watch.reportAt[o] + p.reportTTL(); p.fd.watch.reporting.has(o) && (!found || d < earliest) {
				earliest, found = d, true
			}
		}
	}
	// Departed and agreed peers are few, and most often none.
	for q := PeerID(1); (!p.fd.departed.empty() || !p.fd.agreed.empty()) && int(q) <= p.universe; q++ {
		if p.fd.departed.has(q) {
			due(q)
		}
		if p.fd.agreed.has(q) && !p.confirmedFailed(q) {
			// When the agreement is confirmed (agreement.go).
			if d := p.fd.agreedAt[q] + p.confirmWait(); !found || d < earliest {
				earliest, found = d, true
			}
		}
	}
	if !found {
		p.fd.suspectDue = 0
		return
	}
	p.fd.suspectDue = earliest
	p.arm(TimerSuspect, max(earliest-p.now, 0))
}

// onHeartbeatTimer sends a heartbeat to every member watching this one.
func (p *Peer) onHeartbeatTimer() {
	p.sendHeartbeats()
	p.arm(TimerHeartbeat, p.cfg.HeartbeatInterval)
}

// sendHeartbeats sends a heartbeat to every member watching this one: in a
// small view every other member, in a large one its watchers; and, in a
// large view, to the leader and the line of succession while it has a
// report to give, or always from the leader and the line (observers.go).
func (p *Peer) sendHeartbeats() {
	suspects := p.suspicionList()
	for _, q := range p.fd.watch.watchers {
		p.heartbeatTo(q, suspects)
	}
	if p.watchesAll() {
		return
	}
	if len(suspects) > 0 || p.now < p.fd.watch.reportUntil || p.inLineOfSuccession() {
		p.sendReports(suspects, p.fd.watch.watchers)
	}
}

// sendHeartbeat sends one heartbeat to q: the leadership this peer
// follows, its view, and what it suspects. Every heartbeat carries the
// suspicions, for the receiver takes each as the sender's whole report.
func (p *Peer) sendHeartbeat(q PeerID) { p.heartbeatTo(q, p.suspicionList()) }

// heartbeatTo sends q a heartbeat carrying suspects, this peer's report.
func (p *Peer) heartbeatTo(q PeerID, suspects []PeerID) {
	p.send(Message{Type: MsgHeartbeat, To: q, Ballot: p.advertised(), ViewID: p.acc.view.ID, Members: suspects})
}

func (p *Peer) onHeartbeat(m *Message) {
	if !p.fromMember(m) {
		return
	}
	p.lead.knownView[m.From] = m.ViewID
	if m.ViewID == p.acc.view.ID && (!p.watchesAll() || !slices.Equal(p.fd.reports[m.From], m.Members)) {
		// What the sender suspects, among the members of this very view;
		// in a large view, refreshed as well (see reportTTL).
		p.setReport(m.From, m.Members)
	}
	// Anti-entropy: a lagging member is brought up to date. Any member
	// can do it, as a decided view is a fact; not only the leader, for a
	// member may lag behind a view whose leader is gone.
	if m.ViewID < p.acc.view.ID {
		p.sendNewView(m.From)
	}
	if p.role == roleFollower {
		// Heartbeats spread the leadership to follow: a higher one
		// supersedes, and the leader's own heartbeat says what it now
		// follows (its candidacy may have failed).
		if p.acc.following.Less(m.Ballot) || (m.From == p.acc.leader && m.Ballot != p.acc.following) {
			p.follow(m.Ballot)
		}
	}
}

// fromMember reports whether m, which only members may send (HEARTBEAT,
// REQ, NEWLEADER), comes from a member of the installed view while this
// peer holds one. Otherwise it answers as docs/design.md says and returns
// false: a non-member passes on the view that removed it, a member tells
// an outsider where it stands.
func (p *Peer) fromMember(m *Message) bool {
	if !p.isMember() {
		p.shareExit(m)
		return false
	}
	if !p.acc.view.Contains(m.From) {
		p.answerOutsider(m)
		return false
	}
	return true
}

// answerOutsider answers a message naming view m.ViewID from a peer outside
// the installed view. A peer in an older view was removed: it is told so. A
// peer in a newer view holds one this peer has missed: the NACK tells a
// leader or candidate to send it.
func (p *Peer) answerOutsider(m *Message) {
	switch {
	case m.ViewID < p.acc.view.ID:
		p.send(Message{Type: MsgNotMember, To: m.From, ViewID: p.acc.view.ID, Leader: p.acc.leader})
	case m.ViewID > p.acc.view.ID:
		p.send(Message{Type: MsgNack, To: m.From, Ballot: p.acc.promise, ViewID: p.acc.view.ID})
	}
}

// maybeCampaign starts a candidacy when this follower's leader is suspected
// (or is not a member at all) and this peer is next in line, unless the
// rounds are spent (see lastRound).
func (p *Peer) maybeCampaign() {
	if !p.isMember() || p.leaving || !p.canCampaign() {
		return
	}
	switch {
	case p.acc.leader == p.id:
		// Others follow this peer's leadership, which it no longer runs:
		// it must lead, under a fresh ballot.
		p.campaign()
	case p.acc.view.Contains(p.acc.leader) && !p.presumedFailed(p.acc.leader) && !p.fd.joiners.has(p.acc.leader):
	case p.nextLeader(p.acc.leader) == p.id:
		p.campaign()
	}
}
