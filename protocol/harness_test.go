package protocol_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// harness drives one peer by hand: the test plays every other peer.
type harness struct {
	t    *testing.T
	p    *protocol.Peer
	now  time.Duration
	last protocol.Output
	// timers holds the latest arming of each timer kind, and due when it
	// is due.
	timers map[protocol.TimerKind]protocol.Timer
	due    map[protocol.TimerKind]time.Duration
}

func newHarness(t *testing.T, id protocol.PeerID, universe int, cfg protocol.Config) *harness {
	t.Helper()
	p, err := protocol.NewPeer(cfg, id, universe)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, p: p, timers: map[protocol.TimerKind]protocol.Timer{}, due: map[protocol.TimerKind]time.Duration{}}
}

// step feeds ev and returns the messages sent, rendered.
func (h *harness) step(ev protocol.Event) []string {
	h.t.Helper()
	ev.Now = h.now
	out, err := h.p.Step(ev)
	if err != nil {
		h.t.Fatalf("Step(%s): %v", ev.Type, err)
	}
	h.record(out)
	return h.sent()
}

func (h *harness) record(out protocol.Output) {
	h.last = protocol.Output{
		Notes:    append([]protocol.Note(nil), out.Notes...),
		Messages: append([]protocol.Message(nil), out.Messages...),
		Timers:   append([]protocol.TimerRequest(nil), out.Timers...),
		Stopped:  out.Stopped,
	}
	for _, tr := range out.Timers {
		if tr.Cancel {
			delete(h.timers, tr.Timer.Kind)
			delete(h.due, tr.Timer.Kind)
		} else {
			h.timers[tr.Timer.Kind] = tr.Timer
			h.due[tr.Timer.Kind] = h.now + tr.After
		}
	}
}

func (h *harness) sent() []string {
	var s []string
	for _, m := range h.last.Messages {
		s = append(s, m.String())
	}
	return s
}

// notes returns the notes of the last step, rendered.
func (h *harness) notes() []string {
	var s []string
	for _, n := range h.last.Notes {
		s = append(s, n.String())
	}
	return s
}

// recv delivers m (From, Type and fields set by the caller) to the peer.
func (h *harness) recv(m protocol.Message) []string {
	h.t.Helper()
	m.To = h.p.ID()
	return h.step(protocol.Event{Type: protocol.EventMessage, Msg: m})
}

// fire advances time by d and fires the armed timer of kind k.
func (h *harness) fire(k protocol.TimerKind, d time.Duration) []string {
	h.t.Helper()
	tm, ok := h.timers[k]
	if !ok {
		h.t.Fatalf("timer %s is not armed", k)
	}
	h.now += d
	return h.step(protocol.Event{Type: protocol.EventTimer, Timer: tm})
}

// clone returns a harness driving a copy of the peer, at the same time
// and with the same timers armed: what-if steps on it leave h alone.
func (h *harness) clone() *harness {
	return &harness{t: h.t, p: h.p.Clone(), now: h.now, last: h.last, timers: maps.Clone(h.timers), due: maps.Clone(h.due)}
}

// expectDue checks that the timer of kind k is armed, due at time at.
func (h *harness) expectDue(k protocol.TimerKind, at time.Duration) {
	h.t.Helper()
	if _, ok := h.timers[k]; !ok {
		h.t.Errorf("timer %s is not armed, want it due at %v", k, at)
	} else if h.due[k] != at {
		h.t.Errorf("timer %s due at %v, want %v", k, h.due[k], at)
	}
}

// expect compares what the last step sent.
func (h *harness) expect(want []string, got []string) {
	h.t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		h.t.Errorf("messages sent (-want +got):\n%s\nnotes: %v", diff, h.notes())
	}
}

// expectNotes compares the notes of the last step.
func (h *harness) expectNotes(want ...string) {
	h.t.Helper()
	if diff := cmp.Diff(want, h.notes()); diff != "" {
		h.t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func ids(ps ...protocol.PeerID) []protocol.PeerID { return ps }

// member returns a harness for peer id, started and holding view
// (viewID, members) decided by leader 1 under the initial ballot.
func member(t *testing.T, id protocol.PeerID, universe int, viewID protocol.ViewID, members ...protocol.PeerID) *harness {
	t.Helper()
	return memberWith(t, protocol.DefaultConfig(), id, universe, viewID, members...)
}

// memberWith is member running cfg.
func memberWith(t *testing.T, cfg protocol.Config, id protocol.PeerID, universe int, viewID protocol.ViewID, members ...protocol.PeerID) *harness {
	t.Helper()
	h := newHarness(t, id, universe, cfg)
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 1})
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: protocol.InitialBallot, ViewID: viewID,
		Members: members, Op: protocol.Op{Kind: protocol.OpAdd, Peer: id, Incarnation: 1}})
	if got := h.p.View().ID; got != viewID {
		t.Fatalf("peer %d holds view %d, want %d", id, got, viewID)
	}
	return h
}

// leader returns a harness for peer 1 leading view [1..n] (n <= universe),
// founded after nobody answered and built by real joins.
func leader(t *testing.T, n, universe int) *harness {
	t.Helper()
	return leaderWith(t, n, universe, protocol.DefaultConfig())
}

// leaderWith is leader running cfg.
func leaderWith(t *testing.T, n, universe int, cfg protocol.Config) *harness {
	t.Helper()
	h := newHarness(t, 1, universe, cfg)
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 1})
	// Nobody answers its questions: it founds the cluster.
	h.fire(protocol.TimerJoin, cfg.JoinRetryInterval)
	for q := protocol.PeerID(2); int(q) <= n; q++ {
		h.recv(protocol.Message{Type: protocol.MsgJoin, From: q, Op: protocol.Op{Kind: protocol.OpAdd, Peer: q, Incarnation: 1}})
		if _, waiting := h.timers[protocol.TimerBatch]; waiting && !slices.ContainsFunc(h.last.Messages, func(m protocol.Message) bool { return m.Type == protocol.MsgReq }) {
			h.fire(protocol.TimerBatch, cfg.BatchWait) // the JOIN waits for the batch
		}
		// Everyone but the joiner accepts.
		for _, m := range h.last.Messages {
			if m.Type == protocol.MsgReq {
				h.recv(protocol.Message{Type: protocol.MsgOK, From: m.To, Ballot: m.Ballot, ViewID: m.ViewID})
			}
		}
		// Everyone acknowledges the new view.
		for r := protocol.PeerID(2); r <= q; r++ {
			h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: r, Ballot: protocol.InitialBallot, ViewID: h.p.View().ID})
		}
	}
	if got := h.p.View(); int(got.ID) != n || len(got.Members) != n || !h.p.IsLeader() || !h.p.Idle() {
		t.Fatalf("leader holds view %s (leader=%v idle=%v), want %d members", got, h.p.IsLeader(), h.p.Idle(), n)
	}
	return h
}
