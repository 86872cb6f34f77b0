package protocol

// This file holds how peer 1 founds a cluster, and how a member's restart
// is told from its messages.
//
// A process without stored state cannot tell its first start from a
// restart. So every start of peer 1 begins by asking: JOIN, naming the
// highest view id it has known (0 for a fresh process), goes to every
// other host. A member answers as it answers any JOIN (the leader adds it,
// another member redirects), and peer 1 joins that cluster like any peer.
// A non-member answers NOTMEMBER with the highest view id it has known and
// the leader it believes in: both 0 when it never was a member. Peer 1
// founds view 1 = [1] once every other host has answered that it never
// held a view, or when JoinRetryInterval passes with no sign of a cluster.
// JOINs that arrive meanwhile from peers that never held a view are served
// once it has founded.
//
// The limit: a restarted peer 1 that reaches no member of the running
// cluster within JoinRetryInterval (cut off from all of them, or all of
// them down) founds a second cluster, whose view ids collide with the
// first's. Only stored state could tell it that it ran before.

// startFounding asks every other host whether a cluster exists.
func (p *Peer) startFounding() {
	p.join.founding = true
	p.join.noCluster.clear()
	p.join.joining = true
	p.join.joinTarget = InitialBallot.Leader
	for q := PeerID(1); int(q) <= p.universe; q++ {
		if q != p.id {
			p.send(Message{Type: MsgJoin, To: q, ViewID: p.acc.latestViewID, Op: p.ownAdd()})
		}
	}
	p.arm(TimerJoin, p.cfg.JoinRetryInterval)
}

// noClusterAt records that host q never held a view, and founds once every
// other host has said so.
func (p *Peer) noClusterAt(q PeerID) {
	p.join.noCluster.add(q)
	for r := PeerID(1); int(r) <= p.universe; r++ {
		if r != p.id && !p.join.noCluster.has(r) {
			return
		}
	}
	p.found()
}

// clusterExists ends founding: some peer holds or held a view, so this
// one joins like any other. JOINs queued meanwhile are not this peer's to
// serve.
func (p *Peer) clusterExists() {
	p.join.founding = false
	p.lead.queue = p.lead.queue[:0]
	if p.join.joinTarget == p.id {
		p.join.joinTarget = p.nextHost(p.id)
	}
}

// ownAdd is the operation that adds this process: its id, incarnation
// and tags, as its JOIN asks.
func (p *Peer) ownAdd() Op {
	return Op{Kind: OpAdd, Peer: p.id, Incarnation: p.incarnation, Tags: p.tags}
}

// found installs view 1 = [1] and leads it.
func (p *Peer) found() {
	p.join.founding = false
	p.role = roleLeader
	p.ballot = InitialBallot
	c := single(p.ownAdd())
	p.install(c.Next(View{}), InitialBallot, c)
	p.arm(TimerRetry, p.cfg.RetryInterval)
}

// fromOtherProcess reports whether m comes from a member of the installed
// view but from another process than the one the view holds for it: the
// incarnation its ADD named, or else the first one heard from it. Such a
// message is no sign of life of the member. A message naming no
// incarnation (0) cannot be told apart and counts as the member's.
func (p *Peer) fromOtherProcess(m *Message) bool {
	if m.Incarnation == 0 || !p.acc.view.Contains(m.From) {
		return false
	}
	want := p.acc.incarnations[m.From]
	if want == 0 {
		if p.acc.heardAs[m.From] == 0 {
			p.acc.heardAs[m.From] = m.Incarnation
		}
		want = p.acc.heardAs[m.From]
	}
	return m.Incarnation != want
}

// answerJoinAsOutsider answers a JOIN while this peer holds no view. While
// founding, a joiner that never held a view is one more host without a
// cluster, and its JOIN is served once founded; one that held a view shows
// a cluster exists. Otherwise the answer says what this peer knows: the
// highest view id it has known and the leader it believes in.
func (p *Peer) answerJoinAsOutsider(m *Message) {
	if p.join.founding {
		if m.ViewID != 0 {
			p.clusterExists()
		} else {
			p.enqueue(m.Op, reasonJoin)
			p.noClusterAt(m.From)
			return
		}
	}
	p.send(Message{Type: MsgNotMember, To: m.From, ViewID: p.acc.latestViewID, Leader: p.leaderOutside()})
}

// leaderOutside is the leader a non-member names: the one it follows,
// unless that is itself, or it never held a view (then it knows none).
func (p *Peer) leaderOutside() PeerID {
	if p.acc.leader == p.id || p.acc.latestViewID == 0 {
		return 0
	}
	return p.acc.leader
}
