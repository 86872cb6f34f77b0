package netrt

import "github.com/memberly/memberly/protocol"

// ViewChange is what Options.OnView hands an embedding program: the view
// this peer now holds, and how it differs from the one it held before.
type ViewChange struct {
	ID      protocol.ViewID
	Members []protocol.PeerID // sorted; shared, never modified: copy to keep changing it
	// Leader is the leader this peer follows in the new view (the member
	// next in line while the one it followed is out of the view).
	Leader protocol.PeerID
	// Added and Removed are the members the new view holds that the one
	// this peer held before did not, and the other way round. The first
	// view a peer installs (or resumes, if durable) adds every member.
	Added, Removed []protocol.PeerID
	// Out is set when this peer is no longer a member: it was removed
	// (it joins again unless Config.Rejoin is off) or it left. Members is
	// then empty, and Removed holds the members of the view it held.
	Out bool
}

// views turns the peer's notes into the ViewChanges of Options.OnView,
// on the event loop: it remembers the members of the view last reported.
type views struct {
	held []protocol.PeerID
}

// change returns the ViewChange note n makes, and whether it makes one.
func (v *views) change(n protocol.Note) (ViewChange, bool) {
	switch n.Kind {
	case protocol.NoteViewInstalled, protocol.NoteResumed:
		if n.Kind == protocol.NoteResumed && len(n.Members) == 0 {
			return ViewChange{}, false // resumed outside any view
		}
		c := ViewChange{ID: n.ViewID, Members: n.Members, Leader: n.Leader}
		c.Added, c.Removed = protocol.MembersDiff(v.held, n.Members)
		v.held = n.Members
		return c, true
	case protocol.NoteRemoved, protocol.NoteLeft:
		if v.held == nil {
			return ViewChange{}, false // never a member, or already out
		}
		c := ViewChange{ID: n.ViewID, Leader: n.Leader, Removed: v.held, Out: true}
		v.held = nil
		return c, true
	}
	return ViewChange{}, false
}
