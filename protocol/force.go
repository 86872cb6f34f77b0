package protocol

import "fmt"

// This file holds the operator's way out of a lost majority, like etcd's
// --force-new-cluster: when a majority of the view is gone for good, no
// quorum can ever decide a change again, and a survivor can be told to
// install a view of the members it can reach.
//
// It gives up safety on purpose. The lost members may have decided views,
// or accepted an operation a decision counted on, that no survivor heard
// of: the forced view ignores them, and if they come back they are told
// they are out and join again as new members. So an operator forces a view
// only when the missing members are known to be gone, and on one survivor
// only: two forced views at two survivors are two clusters.

// ForceViewJump is how far above every view id it knows a forced view's id
// lies. A lost majority may have decided views the survivor never heard
// of; jumping far past them keeps the forced view's id from naming one of
// theirs, and makes any of them that comes back older than the forced view,
// so that it is told it is out rather than taken for a member.
const ForceViewJump ViewID = 1000

// ErrForceView is wrapped by the errors of a refused EventForceView.
var ErrForceView = fmt.Errorf("protocol: cannot force a view")

// checkForceView refuses a forced view this peer cannot install, before
// anything changes.
func (p *Peer) checkForceView() error {
	switch {
	case !p.isMember():
		return fmt.Errorf("%w: peer %d holds no view", ErrForceView, p.id)
	case p.acc.latestViewID > lastViewID-ForceViewJump || p.acc.maxRound+2 > lastRound:
		return fmt.Errorf("%w: view ids or ballot rounds are spent", ErrForceView)
	}
	return nil
}

// forceView installs a view holding this peer and every member it does
// not suspect, under a new ballot of its own, sends it to them, and then
// leads it through an ordinary election (maybeCampaign, in settle), whose
// quorum is of the forced view.
func (p *Peer) forceView() {
	members := make([]PeerID, 0, len(p.acc.view.Members))
	for _, q := range p.acc.view.Members {
		if q == p.id || (!p.fd.suspected.has(q) && !p.fd.agreed.has(q) && !p.fd.joiners.has(q)) {
			members = append(members, q)
		}
	}
	v := View{ID: p.acc.latestViewID + ForceViewJump, Members: members, Tags: viewTags(p.acc.view.tagsFor(members))}
	if p.role != roleFollower {
		p.stepDown(Ballot{Round: p.acc.maxRound, Leader: p.id})
	}
	p.acc.maxRound++
	b := Ballot{Round: p.acc.maxRound, Leader: p.id}
	p.install(v, b, Change{})
	p.note(Note{Kind: NoteForcedView, Members: members, Ballot: b})
	for _, q := range members {
		if q != p.id {
			p.sendNewView(q)
		}
	}
}
