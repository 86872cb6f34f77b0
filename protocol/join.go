package protocol

// This file holds joining and leaving.

// startJoining begins asking target (or, when that makes no sense, the next
// host) to be added.
func (p *Peer) startJoining(target PeerID) {
	p.join.joining = true
	if !p.inUniverse(target) || target == p.id {
		target = p.nextHost(p.id)
	}
	p.join.joinTarget = target
	p.sendJoin()
	p.arm(TimerJoin, p.cfg.JoinRetryInterval)
}

func (p *Peer) sendJoin() {
	p.join.joinAnswered = false
	p.join.joinRedirected = false
	if p.join.joinTarget == 0 {
		return
	}
	p.sendJoinTo(p.join.joinTarget)
}

// sendJoinTo asks q to add this process, naming the highest view id it has
// known.
func (p *Peer) sendJoinTo(q PeerID) {
	p.send(Message{Type: MsgJoin, To: q, ViewID: p.acc.latestViewID, Op: p.ownAdd()})
}

// nextHost returns the host after t in the hosts file, skipping this peer,
// wrapping around; 0 when there is nobody else.
func (p *Peer) nextHost(t PeerID) PeerID {
	for range p.universe {
		t = t%PeerID(p.universe) + 1
		if t != p.id {
			return t
		}
	}
	return 0
}

// onJoinTimer re-sends JOIN, moving on to the next host when nobody
// answered the last one.
func (p *Peer) onJoinTimer() {
	if !p.join.joining {
		return
	}
	if p.join.founding {
		p.found() // a whole interval without a sign of a cluster
		return
	}
	if !p.join.joinAnswered {
		p.join.joinTarget = p.nextHost(p.join.joinTarget)
	}
	p.sendJoin()
	p.arm(TimerJoin, p.cfg.JoinRetryInterval)
}

// followRedirect turns the JOIN towards leader. It re-sends at once only
// once per join-retry period, so two peers naming each other cannot make a
// storm of JOINs.
func (p *Peer) followRedirect(leader PeerID) {
	if !p.inUniverse(leader) || leader == p.id {
		p.join.joinAnswered = false // no lead: move on at the next retry
		return
	}
	if leader == p.join.joinTarget || p.join.joinRedirected {
		p.join.joinTarget = leader
		return
	}
	p.join.joinTarget = leader
	p.sendJoinTo(p.join.joinTarget)
	p.join.joinRedirected = true
}

// leave starts a graceful leave: the leader removes itself through its own
// queue, a member asks the leader. Either way the peer stops once it is out,
// or after LeaveTimeout.
func (p *Peer) leave() {
	if !p.isMember() {
		p.note(Note{Kind: NoteLeft})
		p.stop()
		return
	}
	if p.leaving {
		return
	}
	p.leaving = true
	p.arm(TimerLeave, p.cfg.LeaveTimeout)
	if p.role != roleFollower {
		p.enqueueFirst(single(Op{Kind: OpDel, Peer: p.id}), reasonLeave)
		return
	}
	p.askToLeave()
	p.arm(TimerRetry, p.cfg.RetryInterval)
}

// askToLeave sends LEAVE to the leader, when this peer knows one; else the
// retry timer asks again once a leader is known.
func (p *Peer) askToLeave() {
	if p.acc.leader != p.id && p.inUniverse(p.acc.leader) {
		p.send(Message{Type: MsgLeave, To: p.acc.leader})
	}
}
