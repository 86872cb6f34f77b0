package protocol_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// taggedState is sampleState of a process with tags, in a view where two
// members have tags, having accepted a batch that adds a tagged peer.
func taggedState(t *testing.T) protocol.DurableState {
	s := sampleState()
	web := mustTags(t, "role=web")
	s.Tags = web
	s.View.Tags = []protocol.Tags{mustTags(t, "role=db"), {}, web, {}}
	s.PendingOp = protocol.Op{Kind: protocol.OpAdd, Peer: 5, Incarnation: 77, Tags: mustTags(t, "zone=b")}
	s.PendingMore = []protocol.Op{{Kind: protocol.OpAdd, Peer: 6, Incarnation: 78}, {Kind: protocol.OpDel, Peer: 4}}
	return s
}

// A state holding tags is written as version 3, and read back whole; one
// without keeps the version it had.
func TestStateFile_TagsNeedVersion3(t *testing.T) {
	for name, s := range map[string]protocol.DurableState{
		"own, view and accepted": taggedState(t),
		"own only":               {ID: 3, Incarnation: 1, Promise: protocol.InitialBallot, Tags: mustTags(t, "a=b")},
		"exit": {ID: 3, Incarnation: 2, LatestViewID: 12, Exit: protocol.View{ID: 12, Members: ids(1, 2), Tags: []protocol.Tags{{}, mustTags(t, "a=b")}},
			ExitOp: protocol.Op{Kind: protocol.OpDel, Peer: 3}},
	} {
		t.Run(name, func(t *testing.T) {
			b := protocol.EncodeState(s, 0xfeed)
			if b[8] != 3 || protocol.StateVersion != 3 {
				t.Errorf("written as version %d, want 3 (StateVersion %d)", b[8], protocol.StateVersion)
			}
			got, err := protocol.DecodeState(b, 3, 0xfeed)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			// Every truncation is refused.
			for i := range len(b) {
				if _, err := protocol.DecodeState(b[:i], 3, 0xfeed); err == nil {
					t.Errorf("a %d-byte prefix decoded", i)
				}
			}
		})
	}
	if v := protocol.EncodeState(sampleState(), 0xfeed)[8]; v != 1 {
		t.Errorf("a state without tags or a batch is written as version %d, want 1", v)
	}
}

// A resumed peer keeps the tags it stored with its incarnation, whatever
// its new start says: the members know it by them.
func TestDurable_ResumeKeepsStoredTags(t *testing.T) {
	s := taggedState(t)
	p, err := resumeFrom(t, s) // started with tags role=other
	if err != nil {
		t.Fatal(err)
	}
	st := p.Status()
	if st.Tags != s.Tags {
		t.Errorf("own tags = %v, want the stored %v", st.Tags, s.Tags)
	}
	if diff := cmp.Diff(s.View.Tags, st.MemberTags); diff != "" {
		t.Errorf("view tags (-want +got):\n%s", diff)
	}
}

// A stored view whose tags do not match its members, or a DEL with tags,
// cannot be this peer's: refused at start.
func TestDurable_RefusesBadStoredTags(t *testing.T) {
	for name, mutate := range map[string]func(*protocol.DurableState){
		"tags not aligned": func(s *protocol.DurableState) { s.View.Tags = s.View.Tags[:2] },
		"tags all empty":   func(s *protocol.DurableState) { s.View.Tags = make([]protocol.Tags, len(s.View.Members)) },
		"DEL with tags": func(s *protocol.DurableState) {
			s.ViewOp = protocol.Op{Kind: protocol.OpDel, Peer: 6, Tags: mustTags(t, "a=b")}
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := taggedState(t)
			mutate(&s)
			if _, err := resumeFrom(t, s); !errors.Is(err, protocol.ErrBadState) {
				t.Errorf("Step(start from %s) error = %v, want ErrBadState", name, err)
			}
		})
	}
}
