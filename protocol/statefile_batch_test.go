package protocol_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// batchState is sampleState holding batches: accepted, installed and of
// its exit.
func batchState() protocol.DurableState {
	s := sampleState()
	s.PendingMore = []protocol.Op{{Kind: protocol.OpDel, Peer: 4}}
	s.ViewMore = []protocol.Op{{Kind: protocol.OpAdd, Peer: 4, Incarnation: 44}, {Kind: protocol.OpDel, Peer: 7}}
	return s
}

// A state without a batch is written as version 1 always was; one with a
// batch as version 2, which keeps it whole.
func TestStateFile_BatchNeedsVersion2(t *testing.T) {
	if v := protocol.EncodeState(sampleState(), 0xfeed)[8]; v != 1 {
		t.Errorf("a state without a batch is written as version %d, want 1", v)
	}
	for name, s := range map[string]protocol.DurableState{
		"accepted and installed": batchState(),
		"exit": {ID: 3, Incarnation: 2, LatestViewID: 12, Exit: protocol.View{ID: 12, Members: []protocol.PeerID{1, 2}},
			ExitOp: protocol.Op{Kind: protocol.OpDel, Peer: 3}, ExitMore: []protocol.Op{{Kind: protocol.OpDel, Peer: 4}}},
	} {
		t.Run(name, func(t *testing.T) {
			b := protocol.EncodeState(s, 0xfeed)
			if b[8] != 2 {
				t.Errorf("written as version %d, want 2", b[8])
			}
			got, err := protocol.DecodeState(b, 3, 0xfeed)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

// Version 2 is only for a batch: a version-2 file without one is not what
// this build writes, and is refused like any damage.
func TestStateFile_RefusesVersion2WithoutBatch(t *testing.T) {
	s := batchState()
	b := protocol.EncodeState(s, 0xfeed)
	// Every truncation and bit flip of a batched file is refused too.
	for i := range len(b) {
		if _, err := protocol.DecodeState(b[:i], 3, 0xfeed); err == nil {
			t.Errorf("a %d-byte prefix decoded", i)
		}
	}
	s.PendingMore, s.ViewMore = nil, nil
	v1 := protocol.EncodeState(s, 0xfeed)
	if v1[8] != 1 {
		t.Fatalf("written as version %d, want 1", v1[8])
	}
	if _, err := protocol.DecodeState(v1, 3, 0xfeed); err != nil {
		t.Errorf("version 1 refused: %v", err)
	}
}

// A stored batch that no leader could have decided is refused at start.
func TestDurable_RefusesBadStoredBatch(t *testing.T) {
	s := sampleState()
	s.ViewMore = []protocol.Op{{Kind: protocol.OpDel, Peer: 6}} // peer 6 named twice
	if _, err := resumeFrom(t, s); !errors.Is(err, protocol.ErrBadState) {
		t.Errorf("start from a batch naming peer 6 twice: %v, want ErrBadState", err)
	}
}

// A peer refuses a message whose batch no leader could have decided, or
// that carries a batch where none belongs.
func TestStep_RefusesBadBatch(t *testing.T) {
	for name, m := range map[string]protocol.Message{
		"peer twice":         {Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: 3, Op: del(4), More: []protocol.Op{add(4, 1)}},
		"outside universe":   {Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: 3, Op: del(4), More: []protocol.Op{del(9)}},
		"NOTHING first":      {Type: protocol.MsgPending, From: 1, Ballot: b01, ViewID: 3, Members: ids(1, 2, 3), More: []protocol.Op{del(3)}},
		"batch on a JOIN":    {Type: protocol.MsgJoin, From: 4, Op: add(4, 1), More: []protocol.Op{add(5, 1)}},
		"batch on HEARTBEAT": {Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 3, More: []protocol.Op{add(5, 1)}},
	} {
		t.Run(name, func(t *testing.T) {
			h := member(t, 2, 5, 3, 1, 2, 3)
			m.To = 2
			if _, err := h.p.Step(protocol.Event{Type: protocol.EventMessage, Now: h.now, Msg: m}); !errors.Is(err, protocol.ErrBadMessage) {
				t.Errorf("Step(%s) = %v, want ErrBadMessage", m, err)
			}
		})
	}
}
