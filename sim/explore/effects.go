package explore

import (
	"fmt"
	"slices"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// effects carries out one process's outputs into the state a transition
// is building: notes are judged, messages put in flight, timers armed.
type effects struct {
	to *target
	id protocol.PeerID
}

// target is the state the transition in progress writes into. Every node
// reaches its state through it, not directly: a node shared by many
// states must not keep the one it was copied in alive, nor, through that
// state's other nodes, every state before it.
//
// maxChanges, the same for every state of a run, is its
// Config.MaxChangesPerView: S3 lets two views differ by 1 to maxChanges
// peers (0 counts as 1).
type target struct {
	s          *state
	maxChanges int
}

// effectsOf returns the effects of process id writing into s, which
// becomes the target.
func (s *state) effectsOf(id protocol.PeerID) effects {
	s.target.s = s
	return effects{to: s.target, id: id}
}

// latency is the replay's delivery delay; the exploration ignores it.
const latency = 1_000_000 // 1 ms, in nanoseconds

func (fx effects) Note(n protocol.Note) {
	s := fx.to.s
	p := s.procs[fx.id]
	if n.Kind == protocol.NoteSuspected {
		s.reasons[n.Subject] = true
	}
	if n.Kind != protocol.NoteViewInstalled || s.violation != nil {
		return
	}
	v := protocol.View{ID: n.ViewID, Members: n.Members, Tags: n.Tags}
	switch {
	case !v.Contains(fx.id):
		s.violation = &violation{"S4", fmt.Sprintf("p%d installed view %s without itself", fx.id, v)}
	case v.ID <= p.lastView:
		s.violation = &violation{"S1", fmt.Sprintf("p%d installed view %d after view %d", fx.id, v.ID, p.lastView)}
	default:
		if prev, ok := s.views[v.ID]; ok && !prev.Equal(v) {
			// Tags are shown only when either install has some.
			withTags := prev.Tags != nil || v.Tags != nil
			s.violation = &violation{"S2", fmt.Sprintf("p%d installed view %d as %s, but it was installed as %s",
				fx.id, v.ID, check.DescribeView(v.Members, v.Tags, withTags), check.DescribeView(prev.Members, prev.Tags, withTags))}
			return
		}
		s.install(v)
		for _, pair := range [][2]protocol.ViewID{{v.ID - 1, v.ID}, {v.ID, v.ID + 1}} {
			va, okA := s.views[pair[0]]
			vb, okB := s.views[pair[1]]
			if !okA || !okB || pair[0] == 0 {
				continue
			}
			a, b := va.Members, vb.Members
			if n := changed(a, b); n < 1 || n > max(fx.to.maxChanges, 1) {
				s.violation = &violation{"S3", fmt.Sprintf("view %d %s and view %d %s differ by %d peers",
					pair[0], protocol.FormatMembers(a), pair[1], protocol.FormatMembers(b), n)}
			} else if d := s.invalidChange(pair[1], a, b); d != "" {
				s.violation = &violation{"S5", d}
			}
		}
	}
	p.lastView = max(p.lastView, v.ID)
}

// invalidChange is S5 for the change from a to view id b: a peer is added
// only after it sent JOIN, removed only after a reason arose.
func (s *state) invalidChange(id protocol.ViewID, a, b []protocol.PeerID) string {
	for _, q := range b {
		if !slices.Contains(a, q) && !s.joined[q] {
			return fmt.Sprintf("view %d added p%d, which never sent JOIN", id, q)
		}
	}
	for _, q := range a {
		if !slices.Contains(b, q) && !s.reasons[q] {
			return fmt.Sprintf("view %d removed p%d with no suspicion, eviction or LEAVE", id, q)
		}
	}
	return ""
}

// changed counts the peers in exactly one of a and b.
func changed(a, b []protocol.PeerID) int {
	n := 0
	for _, q := range a {
		if !slices.Contains(b, q) {
			n++
		}
	}
	for _, q := range b {
		if !slices.Contains(a, q) {
			n++
		}
	}
	return n
}

func (fx effects) Send(m protocol.Message) {
	s := fx.to.s
	switch m.Type { // what S5 asks of a change, sent whether or not it arrives
	case protocol.MsgJoin:
		s.joined[m.From] = true
	case protocol.MsgLeave:
		s.reasons[m.From] = true
	}
	to := s.procs[m.To]
	if to == nil || to.node == nil || !to.alive || s.cut(m.From, m.To) || s.dropped(m) {
		return // nobody listens, a partition or a targeted drop: lost
	}
	f := flight{m: m, at: s.now + latency}
	f.enc, _ = protocol.AppendMessage(nil, &m)
	if m.Type.Transport() == protocol.Datagram {
		s.datagrams = append(s.datagrams, f)
		return
	}
	s.setStream(m.From, m.To, append(s.stream(m.From, m.To), f))
}

func (fx effects) Timer(tr protocol.TimerRequest) {
	s := fx.to.s
	t := &s.procs[fx.id].timers[tr.Timer.Kind]
	if tr.Cancel {
		t.on = false
		return
	}
	*t = armed{timer: tr.Timer, deadline: s.now + tr.After, on: true}
}

// Save stores a durable peer's state at once: the exploration's crashes
// fall between steps, never between a store and the messages after it.
func (fx effects) Save(st protocol.DurableState) error {
	fx.to.s.procs[fx.id].disk = protocol.EncodeState(st, 0)
	return nil
}

func (fx effects) Stop() {
	s := fx.to.s
	s.procs[fx.id].alive = false
	s.dropTo(fx.id)
}

// dropTo loses every message in flight to id: its process is gone. (What
// it sent before it ended is still delivered.)
func (s *state) dropTo(id protocol.PeerID) {
	for from := protocol.PeerID(1); int(from) < len(s.procs); from++ {
		if len(s.stream(from, id)) > 0 {
			s.setStream(from, id, nil)
		}
	}
	s.dropDatagrams(func(f flight) bool { return f.m.To == id })
}
