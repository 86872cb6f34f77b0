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
	// Tags are the members' tags (Options.Tags of each member's
	// process), by id: those of Members, and of Removed as the view
	// they left held them. Every member holding this view id holds the
	// same tags for each member, and a member's tags never change while
	// it stays in the view: a process restarted with other tags is
	// removed and added again, as a new incarnation (a durable one keeps
	// its stored tags instead). A member without tags has no
	// entry, so Tags[p] is then the zero protocol.Tags; nil when none has
	// any. A new map each time: the program may keep it.
	Tags map[protocol.PeerID]protocol.Tags
	// Out is set when this peer is no longer a member: it was removed
	// (it joins again unless Config.Rejoin is off) or it left. Members is
	// then empty, and Removed holds the members of the view it held.
	Out bool
}

// views turns the peer's notes into the ViewChanges of Options.OnView,
// on the event loop: it remembers the view last reported, members and
// tags.
type views struct {
	held protocol.View // Members nil: not a member
}

// change returns the ViewChange note n makes, and whether it makes one.
func (v *views) change(n protocol.Note) (ViewChange, bool) {
	switch n.Kind {
	case protocol.NoteViewInstalled, protocol.NoteResumed:
		if n.Kind == protocol.NoteResumed && len(n.Members) == 0 {
			return ViewChange{}, false // resumed outside any view
		}
		now := protocol.View{ID: n.ViewID, Members: n.Members, Tags: n.Tags}
		c := ViewChange{ID: n.ViewID, Members: n.Members, Leader: n.Leader}
		c.Added, c.Removed = protocol.MembersDiff(v.held.Members, n.Members)
		c.Tags = tagsOf(now, v.held, c.Removed)
		v.held = now
		return c, true
	case protocol.NoteRemoved, protocol.NoteLeft:
		if v.held.Members == nil {
			return ViewChange{}, false // never a member, or already out
		}
		c := ViewChange{ID: n.ViewID, Leader: n.Leader, Removed: v.held.Members, Out: true}
		c.Tags = tagsOf(v.held, protocol.View{}, nil)
		v.held = protocol.View{}
		return c, true
	}
	return ViewChange{}, false
}

// tagsOf returns ViewChange.Tags: the tags view now holds for its
// members, and those view was held for gone; nil when none has any.
func tagsOf(now, was protocol.View, gone []protocol.PeerID) map[protocol.PeerID]protocol.Tags {
	var m map[protocol.PeerID]protocol.Tags
	add := func(v protocol.View, ids []protocol.PeerID) {
		if v.Tags == nil {
			return
		}
		for _, p := range ids {
			if t := v.TagsOf(p); !t.IsZero() {
				if m == nil {
					m = make(map[protocol.PeerID]protocol.Tags)
				}
				m[p] = t
			}
		}
	}
	add(now, now.Members)
	add(was, gone)
	return m
}
