package protocol_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/memberly/memberly/protocol"
)

// allTypes lists every message type, for the generators.
// TestWire_AllTypesCovered keeps it complete.
var allTypes = []protocol.MsgType{
	protocol.MsgHeartbeat,
	protocol.MsgJoin,
	protocol.MsgRedirect,
	protocol.MsgReq,
	protocol.MsgOK,
	protocol.MsgNack,
	protocol.MsgNewView,
	protocol.MsgNewLeader,
	protocol.MsgPending,
	protocol.MsgNotMember,
	protocol.MsgLeave,
}

// peerGen draws a peer id in min..MaxPeers.
func peerGen(lo uint32) *rapid.Generator[protocol.PeerID] {
	return rapid.Map(rapid.Uint32Range(lo, protocol.MaxPeers), func(v uint32) protocol.PeerID {
		return protocol.PeerID(v)
	})
}

// counterGen draws a valid view id or ballot round: any uint64 but the
// largest, which the wire refuses.
func counterGen() *rapid.Generator[uint64] {
	return rapid.Uint64Range(0, math.MaxUint64-1)
}

// ballotGen draws any valid ballot: any round but the largest, leader
// 0..MaxPeers.
func ballotGen() *rapid.Generator[protocol.Ballot] {
	return rapid.Custom(func(t *rapid.T) protocol.Ballot {
		return protocol.Ballot{
			Round:  counterGen().Draw(t, "round"),
			Leader: peerGen(0).Draw(t, "leader"),
		}
	})
}

// opGen draws a valid op: NOTHING has peer 0, ADD and DEL a real peer;
// only ADD has an incarnation (any, 0 included).
func opGen() *rapid.Generator[protocol.Op] {
	return rapid.Custom(func(t *rapid.T) protocol.Op {
		kind := rapid.SampledFrom([]protocol.OpKind{protocol.OpNothing, protocol.OpAdd, protocol.OpDel}).Draw(t, "kind")
		switch kind {
		case protocol.OpNothing:
			return protocol.Op{Kind: kind}
		case protocol.OpAdd:
			return protocol.Op{Kind: kind, Peer: peerGen(1).Draw(t, "peer"), Incarnation: rapid.Uint64().Draw(t, "incarnation")}
		}
		return protocol.Op{Kind: kind, Peer: peerGen(1).Draw(t, "peer")}
	})
}

// membersGen draws a valid member list: empty (as nil, which is what Decode
// returns), a sparse random set, or a dense run, which reaches MaxPeers
// members cheaply.
func membersGen() *rapid.Generator[[]protocol.PeerID] {
	return rapid.Custom(func(t *rapid.T) []protocol.PeerID {
		var ids []protocol.PeerID
		switch rapid.IntRange(0, 2).Draw(t, "shape") {
		case 1:
			ids = rapid.SliceOfDistinct(peerGen(1), rapid.ID).Draw(t, "ids")
			slices.Sort(ids)
		case 2:
			lo := rapid.IntRange(1, protocol.MaxPeers).Draw(t, "lo")
			hi := rapid.IntRange(lo, protocol.MaxPeers).Draw(t, "hi")
			for id := lo; id <= hi; id++ {
				ids = append(ids, protocol.PeerID(id))
			}
		}
		if len(ids) == 0 {
			return nil
		}
		return ids
	})
}

// messageGen draws a valid message of any type, with only the fields that
// type carries set, so that it must survive a round trip unchanged.
func messageGen() *rapid.Generator[protocol.Message] {
	return rapid.Custom(func(t *rapid.T) protocol.Message {
		m := protocol.Message{
			Type:        rapid.SampledFrom(allTypes).Draw(t, "type"),
			From:        peerGen(1).Draw(t, "from"),
			To:          peerGen(1).Draw(t, "to"),
			Incarnation: rapid.Uint64().Draw(t, "senderIncarnation"),
		}
		ballot := func() { m.Ballot = ballotGen().Draw(t, "ballot") }
		view := func() { m.ViewID = protocol.ViewID(counterGen().Draw(t, "view")) }
		switch m.Type {
		case protocol.MsgHeartbeat:
			ballot()
			view()
			m.Members = membersGen().Draw(t, "suspects")
		case protocol.MsgOK, protocol.MsgNack, protocol.MsgNewLeader:
			ballot()
			view()
		case protocol.MsgReq:
			ballot()
			view()
			m.Op = opGen().Draw(t, "op")
			m.More = moreGen(m.Op).Draw(t, "more")
		case protocol.MsgNewView:
			ballot()
			view()
			m.Members = membersGen().Draw(t, "members")
			m.Op = opGen().Draw(t, "op")
			m.ToIncarnation = rapid.Uint64().Draw(t, "toIncarnation")
			m.More = moreGen(m.Op).Draw(t, "more")
		case protocol.MsgPending:
			ballot()
			view()
			m.Members = membersGen().Draw(t, "members")
			m.Op = opGen().Draw(t, "op")
			m.OpBallot = ballotGen().Draw(t, "opBallot")
			m.More = moreGen(m.Op).Draw(t, "more")
		case protocol.MsgRedirect:
			m.Leader = peerGen(0).Draw(t, "leader")
		case protocol.MsgNotMember:
			view()
			m.Leader = peerGen(0).Draw(t, "leader")
		case protocol.MsgJoin:
			// The joiner's ADD of itself.
			m.Op = protocol.Op{Kind: protocol.OpAdd, Peer: m.From, Incarnation: rapid.Uint64().Draw(t, "incarnation")}
			view()
		case protocol.MsgLeave:
		default:
			t.Fatalf("messageGen: no case for %v", m.Type)
		}
		return m
	})
}

// maxPeerList returns the ids 1..MaxPeers.
func maxPeerList() []protocol.PeerID {
	ids := make([]protocol.PeerID, protocol.MaxPeers)
	for i := range ids {
		ids[i] = protocol.PeerID(i + 1)
	}
	return ids
}

// sampleMessages is one valid message of each type, some at their largest.
func sampleMessages() []protocol.Message {
	b := protocol.Ballot{Round: 7, Leader: 3}
	return []protocol.Message{
		{Type: protocol.MsgHeartbeat, From: 1, To: 2, Incarnation: 42, Ballot: b, ViewID: 4},
		{Type: protocol.MsgHeartbeat, From: 1, To: 2, Incarnation: 42, Ballot: b, ViewID: 4, Members: []protocol.PeerID{3, 200, protocol.MaxPeers}},
		{Type: protocol.MsgJoin, From: 9, To: 1, Incarnation: 1700000000, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 9, Incarnation: 1700000000}},
		{Type: protocol.MsgJoin, From: 9, To: 1, Incarnation: 1700000001, ViewID: 12, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 9, Incarnation: 1700000001}},
		{Type: protocol.MsgJoin, From: protocol.MaxPeers, To: 1, Op: protocol.Op{Kind: protocol.OpAdd, Peer: protocol.MaxPeers, Incarnation: math.MaxUint64}},
		{Type: protocol.MsgRedirect, From: 2, To: 9, Leader: 1},
		{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, ViewID: 4, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 9}},
		{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, ViewID: 4, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 9, Incarnation: 300}},
		{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, ViewID: 4, Op: protocol.Op{Kind: protocol.OpDel, Peer: 9}},
		{Type: protocol.MsgOK, From: 2, To: 1, Ballot: b, ViewID: 4},
		{Type: protocol.MsgNack, From: 2, To: 1, Ballot: protocol.Ballot{Round: math.MaxUint64 - 1, Leader: protocol.MaxPeers}, ViewID: math.MaxUint64 - 1},
		{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b, ViewID: 5, Members: []protocol.PeerID{1, 2, 9, 300, protocol.MaxPeers}, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 300, Incarnation: 1 << 40}, ToIncarnation: 7},
		{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b, ViewID: 6, Members: []protocol.PeerID{1, 2, 9, protocol.MaxPeers}, Op: protocol.Op{Kind: protocol.OpDel, Peer: 300}},
		{Type: protocol.MsgNewLeader, From: 3, To: 2, Ballot: b, ViewID: 4},
		{Type: protocol.MsgPending, From: 2, To: 3, Ballot: b, ViewID: 4, Members: []protocol.PeerID{1, 2}, Op: protocol.Op{Kind: protocol.OpDel, Peer: 1}, OpBallot: protocol.Ballot{Round: 6, Leader: 1}},
		{Type: protocol.MsgPending, From: 2, To: 3, Ballot: b, ViewID: 4},
		{Type: protocol.MsgNotMember, From: 2, To: 7, ViewID: 4, Leader: 1},
		{Type: protocol.MsgLeave, From: 2, To: 1},
		{Type: protocol.MsgJoin, From: 9, To: 1, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 9, Incarnation: 3, Tags: sampleTags("role=db", "zone=eu-1")}},
		{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b, ViewID: 5, Members: []protocol.PeerID{1, 2, 9},
			Tags: []protocol.Tags{sampleTags("role=web"), {}, sampleTags("role=db", "zone=eu-1")},
			Op:   protocol.Op{Kind: protocol.OpAdd, Peer: 9, Incarnation: 3, Tags: sampleTags("role=db", "zone=eu-1")}},
		{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, ViewID: 4, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 9, Incarnation: 3},
			More: []protocol.Op{{Kind: protocol.OpDel, Peer: 5}, {Kind: protocol.OpAdd, Peer: protocol.MaxPeers, Incarnation: math.MaxUint64}}},
		{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b, ViewID: 5, Members: []protocol.PeerID{1, 2, 9, 10}, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 9},
			More: []protocol.Op{{Kind: protocol.OpAdd, Peer: 10, Incarnation: 1}}, ToIncarnation: 7},
		{Type: protocol.MsgPending, From: 2, To: 3, Ballot: b, ViewID: 4, Members: []protocol.PeerID{1, 2}, Op: protocol.Op{Kind: protocol.OpDel, Peer: 1},
			More: []protocol.Op{{Kind: protocol.OpAdd, Peer: 3, Incarnation: 2}}, OpBallot: protocol.Ballot{Round: 6, Leader: 1}},
		{
			Type: protocol.MsgPending, From: protocol.MaxPeers, To: protocol.MaxPeers, Incarnation: math.MaxUint64,
			Ballot: protocol.Ballot{Round: math.MaxUint64 - 1, Leader: protocol.MaxPeers}, ViewID: math.MaxUint64 - 1,
			Members: maxPeerList(), Op: protocol.Op{Kind: protocol.OpAdd, Peer: protocol.MaxPeers, Incarnation: math.MaxUint64},
			OpBallot: protocol.Ballot{Round: math.MaxUint64 - 1, Leader: protocol.MaxPeers},
		},
	}
}

// sampleTags returns the tags of pairs, which must be valid.
func sampleTags(pairs ...string) protocol.Tags {
	tags, err := protocol.ParseTags(pairs)
	if err != nil {
		panic(err)
	}
	return tags
}

func mustEncode(t testing.TB, m protocol.Message) []byte {
	t.Helper()
	b, err := protocol.Encode(&m)
	if err != nil {
		t.Fatalf("Encode(%v): %v", m, err)
	}
	return b
}

func TestWire_AllTypesCovered(t *testing.T) {
	// Every type the protocol knows must be in allTypes (so the generators
	// exercise it) and must be encodable (so the wire's own type table in
	// wire.go has not fallen behind message.go).
	for i := range 256 {
		typ := protocol.MsgType(i)
		if !typ.Valid() {
			continue
		}
		if !slices.Contains(allTypes, typ) {
			t.Errorf("allTypes lacks %v", typ)
		}
		if _, err := protocol.Encode(&protocol.Message{Type: typ, From: 1, To: 2}); err != nil {
			t.Errorf("Encode of a minimal %v: %v", typ, err)
		}
	}
}

func TestWire_RoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := messageGen().Draw(t, "m")
		b, err := protocol.Encode(&m)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if len(b) > protocol.MaxMessageSize {
			t.Fatalf("encoding of %d bytes exceeds MaxMessageSize %d", len(b), protocol.MaxMessageSize)
		}
		got, err := protocol.Decode(b)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Fatalf("Decode(Encode(m)) mismatch (-want +got):\n%s", diff)
		}
		// Appending must leave what is already in dst alone.
		prefix := []byte("prefix")
		appended, err := protocol.AppendMessage(slices.Clip(prefix), &m)
		if err != nil {
			t.Fatalf("AppendMessage: %v", err)
		}
		if diff := cmp.Diff(append(slices.Clone(prefix), b...), appended); diff != "" {
			t.Fatalf("AppendMessage mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestWire_RoundTripSamples(t *testing.T) {
	for _, m := range sampleMessages() {
		got, err := protocol.Decode(mustEncode(t, m))
		if err != nil {
			t.Fatalf("Decode of %v: %v", m, err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("round trip of %v (-want +got):\n%s", m, diff)
		}
	}
}

// uv encodes each v as a uvarint, for building frames by hand.
func uv(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// hdr is a frame's version, type, From, To and the sender's incarnation 0
// (5 bytes when both ids < 128).
func hdr(typ protocol.MsgType, from, to uint64) []byte {
	return append([]byte{protocol.WireVersion, byte(typ)}, uv(from, to, 0)...)
}

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

func TestWire_DecodeRejects(t *testing.T) {
	tooBig := make([]byte, protocol.MaxMessageSize+70000)
	tooBig[0] = protocol.WireVersion
	justTooBig := mustEncode(t, sampleMessages()[len(sampleMessages())-1])
	justTooBig = append(justTooBig, make([]byte, protocol.MaxMessageSize+1-len(justTooBig))...)

	const (
		hb = protocol.MsgHeartbeat
		nv = protocol.MsgNewView
	)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "wire: empty message"},
		{"version 0", []byte{0, 1, 1, 2, 0, 0, 0}, "wire: unsupported version 0"},
		{"version 7", []byte{7, 1}, "wire: unsupported version 7"},
		{"no type", []byte{protocol.WireVersion}, "wire: truncated message at byte 1 (reading type)"},
		{"type 0", []byte{protocol.WireVersion, 0, 1, 2}, "wire: unknown message type 0"},
		{"type 12", []byte{protocol.WireVersion, 12, 1, 2}, "wire: unknown message type 12"},
		{"type 99", []byte{protocol.WireVersion, 99}, "wire: unknown message type 99"},
		{"far too big", tooBig, fmt.Sprintf("wire: message of %d bytes exceeds MaxMessageSize %d", len(tooBig), protocol.MaxMessageSize)},
		{"one byte too big", justTooBig, fmt.Sprintf("wire: message of %d bytes exceeds MaxMessageSize", protocol.MaxMessageSize+1)},
		{"trailing bytes", cat(hdr(hb, 1, 2), uv(0, 1, 1, 0), []byte{0, 0, 0}), "wire: 3 trailing bytes after HEARTBEAT"},
		{"trailing bytes after suspects", cat(hdr(hb, 1, 2), uv(0, 1, 1, 2, 2, 3), []byte{0}), "wire: 1 trailing byte after HEARTBEAT"},
		{"trailing byte", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, 0), []byte{5}), "wire: 1 trailing byte after JOIN"},
		{"no from", []byte{protocol.WireVersion, 2}, "wire: truncated JOIN at byte 2 (reading from)"},
		{"no to", []byte{protocol.WireVersion, 2, 5}, "wire: truncated JOIN at byte 3 (reading to)"},
		{"from 0", cat(hdr(hb, 0, 2), uv(0, 1, 1, 0)), "wire: HEARTBEAT: from at byte 2: is 0, want a peer id in 1..1024"},
		{"to 0", cat(hdr(hb, 1, 0), uv(0, 1, 1, 0)), "wire: HEARTBEAT: to at byte 3: is 0"},
		{"from above MaxPeers", cat(hdr(hb, 1025, 2), uv(0, 1, 1, 0)), "wire: HEARTBEAT: from at byte 2: 1025 above MaxPeers 1024"},
		{"to above MaxPeers", cat(hdr(hb, 1, 1<<40), uv(0, 1, 1, 0)), "wire: HEARTBEAT: to at byte 3: 1099511627776 above MaxPeers 1024"},
		{"ballot leader above MaxPeers", cat(hdr(protocol.MsgOK, 1, 2), uv(0, 1025, 1)), "wire: OK: ballot leader at byte 6: 1025 above MaxPeers 1024"},
		{"truncated mid uvarint", cat(hdr(hb, 1, 2), []byte{0x80}), "wire: truncated HEARTBEAT at byte 5 (reading ballot round)"},
		{"truncated view id", cat(hdr(hb, 1, 2), uv(0, 1)), "wire: truncated HEARTBEAT at byte 7 (reading view id)"},
		{"HEARTBEAT without suspect count", cat(hdr(hb, 1, 2), uv(0, 1, 1)), "wire: truncated HEARTBEAT at byte 8 (reading member count)"},
		{"HEARTBEAT suspect count beyond input", cat(hdr(hb, 1, 2), uv(0, 1, 1, 2, 3)), "wire: HEARTBEAT: member count at byte 8: 2 members cannot fit in the 1 bytes left"},
		{"HEARTBEAT suspect truncated", cat(hdr(hb, 1, 2), uv(0, 1, 1, 2, 1), []byte{0x81}), "wire: truncated HEARTBEAT at byte 10 (reading member 1)"},
		{"HEARTBEAT suspect 0", cat(hdr(hb, 1, 2), uv(0, 1, 1, 1, 0)), "wire: HEARTBEAT: member 0 at byte 9: is 0, want a peer id in 1..1024"},
		{"HEARTBEAT suspects not ascending", cat(hdr(hb, 1, 2), uv(0, 1, 1, 2, 3, 0)), "wire: HEARTBEAT: member 1 at byte 10: id 3 not above previous id 3"},
		{"HEARTBEAT suspect above MaxPeers", cat(hdr(hb, 1, 2), uv(0, 1, 1, 1, 1025)), "wire: HEARTBEAT: member 0 at byte 9: id above MaxPeers 1024 (previous 0 + delta 1025)"},
		{"uvarint overflow, 10th byte", cat(hdr(protocol.MsgNack, 1, 2), bytes.Repeat([]byte{0xff}, 9), []byte{0x02}, uv(1, 1)), "wire: NACK: ballot round at byte 5: uvarint overflows 64 bits"},
		{"uvarint overflow, 11 bytes", cat(hdr(protocol.MsgNack, 1, 2), bytes.Repeat([]byte{0xff}, 11), uv(1, 1)), "wire: NACK: ballot round at byte 5: uvarint overflows 64 bits"},
		{"non-minimal view id", cat(hdr(protocol.MsgNewLeader, 1, 2), uv(0, 1), []byte{0x80, 0x00}), "wire: NEWLEADER: view id at byte 7: non-minimal uvarint"},
		{"non-minimal from", []byte{protocol.WireVersion, 2, 0x81, 0x00, 2}, "wire: JOIN: from at byte 2: non-minimal uvarint"},
		{"non-minimal zero", cat(hdr(hb, 1, 2), []byte{0x80, 0x80, 0x00}, uv(1, 1, 0)), "wire: HEARTBEAT: ballot round at byte 5: non-minimal uvarint"},
		{"member count above MaxPeers", cat(hdr(nv, 1, 2), uv(0, 1, 1, 2000)), "wire: NEWVIEW: member count at byte 8: 2000 above MaxPeers 1024"},
		{"member count beyond input", cat(hdr(nv, 1, 2), uv(0, 1, 1, 500), []byte{protocol.WireVersion, 1, 1}), "wire: NEWVIEW: member count at byte 8: 500 members cannot fit in the 3 bytes left"},
		{"member 0 is 0", cat(hdr(nv, 1, 2), uv(0, 1, 1, 2, 0, 1)), "wire: NEWVIEW: member 0 at byte 9: is 0, want a peer id in 1..1024"},
		{"member not ascending", cat(hdr(nv, 1, 2), uv(0, 1, 1, 4, 1, 2, 2, 0)), "wire: NEWVIEW: member 3 at byte 12: id 5 not above previous id 5"},
		{"member above MaxPeers", cat(hdr(nv, 1, 2), uv(0, 1, 1, 2, 1000, 100)), "wire: NEWVIEW: member 1 at byte 11: id above MaxPeers 1024 (previous 1000 + delta 100)"},
		{"member delta huge", cat(hdr(nv, 1, 2), uv(0, 1, 1, 1, math.MaxUint64)), "wire: NEWVIEW: member 0 at byte 9: id above MaxPeers 1024 (previous 0 + delta 18446744073709551615)"},
		{"member truncated", cat(hdr(nv, 1, 2), uv(0, 1, 1, 2, 1), []byte{0x81}), "wire: truncated NEWVIEW at byte 10 (reading member 1)"},
		{"no op kind", cat(hdr(protocol.MsgReq, 1, 2), uv(5, 1, 3)), "wire: truncated REQ at byte 8 (reading op kind)"},
		{"no op peer", cat(hdr(protocol.MsgReq, 1, 2), uv(5, 1, 3), []byte{byte(protocol.OpAdd)}), "wire: truncated REQ at byte 9 (reading op peer)"},
		{"no op incarnation", cat(hdr(protocol.MsgReq, 1, 2), uv(5, 1, 3), []byte{byte(protocol.OpAdd)}, uv(9)), "wire: truncated REQ at byte 10 (reading op incarnation)"},
		{"op kind unknown", cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 1), []byte{3, 1}, uv(0)), "wire: REQ: op kind at byte 8: unknown kind 3"},
		{"op ADD of 0", cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 1), []byte{byte(protocol.OpAdd), 0}, uv(0)), "wire: REQ: op peer at byte 9: is 0, want a peer id in 1..1024"},
		{"op DEL above MaxPeers", cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 1), []byte{byte(protocol.OpDel)}, uv(5000, 0)), "wire: REQ: op peer at byte 9: 5000 above MaxPeers 1024"},
		{"op NOTHING with a peer", cat(hdr(protocol.MsgPending, 1, 2), uv(0, 1, 1, 0), []byte{byte(protocol.OpNothing), 4}, uv(0, 0, 0)), "wire: PENDING: op peer at byte 10: NOTHING with peer 4, want 0"},
		{"op DEL with an incarnation", cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 1), []byte{byte(protocol.OpDel), 4}, uv(7)), "wire: REQ: op incarnation at byte 10: 7 on DEL, want 0"},
		{"op NOTHING with an incarnation", cat(hdr(protocol.MsgPending, 1, 2), uv(0, 1, 1, 0), []byte{byte(protocol.OpNothing), 0}, uv(math.MaxUint64, 0, 0)), "wire: PENDING: op incarnation at byte 11: 18446744073709551615 on NOTHING, want 0"},
		{"NEWVIEW op DEL with an incarnation", cat(hdr(nv, 1, 2), uv(0, 1, 2, 1, 1, 0), []byte{byte(protocol.OpDel), 2}, uv(1)), "wire: NEWVIEW: op incarnation at byte 13: 1 on DEL, want 0"},
		{"non-minimal op incarnation", cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 1), []byte{byte(protocol.OpAdd), 4, 0x85, 0x00}), "wire: REQ: op incarnation at byte 10: non-minimal uvarint"},
		{"op incarnation overflow", cat(hdr(protocol.MsgJoin, 9, 1), uv(0), []byte{byte(protocol.OpAdd), 9}, bytes.Repeat([]byte{0xff}, 9), []byte{0x02}), "wire: JOIN: op incarnation at byte 8: uvarint overflows 64 bits"},
		{"op ballot leader above MaxPeers", cat(hdr(protocol.MsgPending, 1, 2), uv(0, 1, 1, 1, 1), []byte{byte(protocol.OpAdd), 2}, uv(5, 0), uv(0, 1025)), "wire: PENDING: op ballot leader at byte 15: 1025 above MaxPeers 1024"},
		{"no op ballot", cat(hdr(protocol.MsgPending, 1, 2), uv(0, 1, 1, 0), []byte{byte(protocol.OpNothing), 0}, uv(0)), "wire: truncated PENDING at byte 12 (reading op ballot round)"},
		{"JOIN without op", cat(hdr(protocol.MsgJoin, 9, 1), uv(0)), "wire: truncated JOIN at byte 6 (reading op kind)"},
		{"JOIN without op peer", cat(hdr(protocol.MsgJoin, 9, 1), uv(0), []byte{byte(protocol.OpAdd)}), "wire: truncated JOIN at byte 7 (reading op peer)"},
		{"JOIN without op incarnation", cat(hdr(protocol.MsgJoin, 9, 1), uv(0), []byte{byte(protocol.OpAdd), 9}), "wire: truncated JOIN at byte 8 (reading op incarnation)"},
		{"JOIN truncated mid op incarnation", cat(hdr(protocol.MsgJoin, 9, 1), uv(0), []byte{byte(protocol.OpAdd), 9, 0xff, 0xff}), "wire: truncated JOIN at byte 8 (reading op incarnation)"},
		{"NEWVIEW without tags", cat(hdr(nv, 1, 2), uv(0, 1, 2, 1, 1)), "wire: truncated NEWVIEW at byte 10 (reading tags count)"},
		{"NEWVIEW without op", cat(hdr(nv, 1, 2), uv(0, 1, 2, 1, 1, 0)), "wire: truncated NEWVIEW at byte 11 (reading op kind)"},
		{"NEWVIEW without op incarnation", cat(hdr(nv, 1, 2), uv(0, 1, 2, 1, 1, 0), []byte{byte(protocol.OpAdd), 2}), "wire: truncated NEWVIEW at byte 13 (reading op incarnation)"},
		{"ADD without tags", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3)), "wire: truncated JOIN at byte 9 (reading op tags)"},
		{"ADD tags beyond input", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, 5), []byte("a=b")), "wire: truncated JOIN at byte 9 (reading op tags: 5 bytes, 3 left)"},
		{"ADD tags too long", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, protocol.MaxTagsSize+1)), "wire: JOIN: op tags at byte 9: 513 bytes above MaxTagsSize 512"},
		{"ADD tags not key=value", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, 2), []byte("ab")), "wire: JOIN: op tags at byte 9: protocol: bad tags: pair 0 (\"ab\") is not key=value"},
		{"ADD tags ending in a newline", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, 4), []byte("a=b\n")), "wire: JOIN: op tags at byte 9: protocol: bad tags: a newline after the last pair"},
		{"ADD tags with an empty pair", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, 8), []byte("a=b\n\nc=d")), "wire: JOIN: op tags at byte 9: protocol: bad tags: pair 1 is empty"},
		{"ADD tags out of order", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, 7), []byte("b=1\na=2")), "wire: JOIN: op tags at byte 9: protocol: bad tags: key \"a\" not after key \"b\""},
		{"ADD tags bad key", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, 4), []byte("a b=")), "wire: JOIN: op tags at byte 9: protocol: bad tags: key \"a b\": byte ' ' is not a letter, digit or one of ._-/"},
		{"ADD tags control character", cat(hdr(protocol.MsgJoin, 1, 2), uv(0), []byte{byte(protocol.OpAdd), 1}, uv(3, 4), []byte("a=\x01b")), "wire: JOIN: op tags at byte 9: protocol: bad tags: value of \"a\" holds a control character"},
		{"NEWVIEW tags count above members", cat(hdr(nv, 1, 2), uv(0, 1, 2, 1, 1, 2, 1, 3), []byte("a=b"), uv(1, 3), []byte("a=b")), "wire: NEWVIEW: tags count at byte 10: 2 tagged members for 1 members and 10 bytes left"},
		{"NEWVIEW tags position 0 delta", cat(hdr(nv, 1, 2), uv(0, 1, 2, 2, 1, 1, 2, 1, 3), []byte("a=b"), uv(0, 3), []byte("a=b")), "wire: NEWVIEW: tags position 1 at byte 17: delta 0, want positions strictly ascending"},
		{"NEWVIEW tags position past members", cat(hdr(nv, 1, 2), uv(0, 1, 2, 1, 1, 1, 2, 3), []byte("a=b")), "wire: NEWVIEW: tags position 0 at byte 11: position -1+2 past the 1 members"},
		{"NEWVIEW empty tags", cat(hdr(nv, 1, 2), uv(0, 1, 2, 1, 1, 1, 1, 0), []byte{byte(protocol.OpNothing), 0, 0}), "wire: NEWVIEW: tags 0 at byte 12: empty, want 1 to 512 bytes"},

		{"leader above MaxPeers", cat(hdr(protocol.MsgRedirect, 1, 2), uv(2000)), "wire: REDIRECT: leader at byte 5: 2000 above MaxPeers 1024"},
		{"no leader", cat(hdr(protocol.MsgNotMember, 1, 2), uv(3)), "wire: truncated NOTMEMBER at byte 6 (reading leader)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode(% x) = %v, want error containing %q", tt.in, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode(% x) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
			if !errors.Is(err, protocol.ErrMalformed) {
				t.Errorf("errors.Is(%q, ErrMalformed) = false", err)
			}
			if diff := cmp.Diff(protocol.Message{}, got); diff != "" {
				t.Errorf("Decode returned a non-zero message with its error (-want +got):\n%s", diff)
			}
		})
	}
}

// withLargestCounter encodes m, which must carry math.MaxUint64-1 in
// exactly one field, with that field raised to math.MaxUint64: the
// encoding Encode refuses to make. Both values take ten uvarint bytes.
func withLargestCounter(t testing.TB, m protocol.Message) []byte {
	t.Helper()
	b := mustEncode(t, m)
	almost, largest := uv(math.MaxUint64-1), uv(math.MaxUint64)
	if n := bytes.Count(b, almost); n != 1 {
		t.Fatalf("%v: %d fields hold MaxUint64-1, want 1", m, n)
	}
	return bytes.Replace(b, almost, largest, 1)
}

// checkRefusesLargest decodes m's encoding as it is, which must succeed,
// then with its MaxUint64-1 field raised to MaxUint64, which must fail
// with want.
func checkRefusesLargest(t *testing.T, m protocol.Message, want string) {
	t.Helper()
	if _, err := protocol.Decode(mustEncode(t, m)); err != nil {
		t.Fatalf("Decode of %v, one below the largest value: %v", m, err)
	}
	got, err := protocol.Decode(withLargestCounter(t, m))
	if err == nil {
		t.Fatalf("Decode with the largest value = %v, want error %q", got, want)
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("Decode error (-want +got):\n%s", diff)
	}
	if !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("errors.Is(%q, ErrMalformed) = false", err)
	}
	if diff := cmp.Diff(protocol.Message{}, got); diff != "" {
		t.Errorf("Decode returned a non-zero message with its error (-want +got):\n%s", diff)
	}
}

// A view id of MaxUint64 would make the next view 0: refused in every type
// that carries one.
func TestWire_DecodeRefusesLargestViewID(t *testing.T) {
	const almost = math.MaxUint64 - 1
	b := protocol.Ballot{Round: 7, Leader: 3}
	tests := []struct {
		m    protocol.Message
		want string
	}{
		{protocol.Message{Type: protocol.MsgHeartbeat, From: 1, To: 2, Ballot: b, ViewID: almost},
			"wire: HEARTBEAT: view id at byte 7: 18446744073709551615 is the largest value: the next one would wrap"},
		{protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, ViewID: almost, Op: del(9)},
			"wire: REQ: view id at byte 7: 18446744073709551615 is the largest value: the next one would wrap"},
		{protocol.Message{Type: protocol.MsgOK, From: 2, To: 1, Ballot: b, ViewID: almost},
			"wire: OK: view id at byte 7: 18446744073709551615 is the largest value: the next one would wrap"},
		{protocol.Message{Type: protocol.MsgNack, From: 2, To: 1, Ballot: b, ViewID: almost},
			"wire: NACK: view id at byte 7: 18446744073709551615 is the largest value: the next one would wrap"},
		{protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b, ViewID: almost, Members: ids(1, 2), Op: add(2, 5), ToIncarnation: 5},
			"wire: NEWVIEW: view id at byte 7: 18446744073709551615 is the largest value: the next one would wrap"},
		{protocol.Message{Type: protocol.MsgNewLeader, From: 3, To: 2, Ballot: b, ViewID: almost},
			"wire: NEWLEADER: view id at byte 7: 18446744073709551615 is the largest value: the next one would wrap"},
		{protocol.Message{Type: protocol.MsgPending, From: 2, To: 3, Ballot: b, ViewID: almost, Members: ids(1, 2, 3), Op: del(1), OpBallot: b01},
			"wire: PENDING: view id at byte 7: 18446744073709551615 is the largest value: the next one would wrap"},
		{protocol.Message{Type: protocol.MsgJoin, From: 7, To: 1, ViewID: almost, Op: add(7, 3)},
			"wire: JOIN: view id at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
		{protocol.Message{Type: protocol.MsgNotMember, From: 2, To: 7, ViewID: almost, Leader: 1},
			"wire: NOTMEMBER: view id at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
	}
	for _, tt := range tests {
		t.Run(tt.m.Type.String(), func(t *testing.T) { checkRefusesLargest(t, tt.m, tt.want) })
	}
}

// A ballot round of MaxUint64 would make the next candidate's round 0:
// refused in every ballot, the op ballot of PENDING included.
func TestWire_DecodeRefusesLargestBallotRound(t *testing.T) {
	almost := protocol.Ballot{Round: math.MaxUint64 - 1, Leader: 2}
	tests := []struct {
		name string
		m    protocol.Message
		want string
	}{
		{"HEARTBEAT", protocol.Message{Type: protocol.MsgHeartbeat, From: 1, To: 2, Ballot: almost, ViewID: 4},
			"wire: HEARTBEAT: ballot round at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
		{"REQ", protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: almost, ViewID: 4, Op: del(9)},
			"wire: REQ: ballot round at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
		{"OK", protocol.Message{Type: protocol.MsgOK, From: 2, To: 1, Ballot: almost, ViewID: 4},
			"wire: OK: ballot round at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
		{"NACK", protocol.Message{Type: protocol.MsgNack, From: 2, To: 1, Ballot: almost, ViewID: 4},
			"wire: NACK: ballot round at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
		{"NEWVIEW", protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: almost, ViewID: 5, Members: ids(1, 2), Op: add(2, 5)},
			"wire: NEWVIEW: ballot round at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
		{"NEWLEADER", protocol.Message{Type: protocol.MsgNewLeader, From: 3, To: 2, Ballot: almost, ViewID: 4},
			"wire: NEWLEADER: ballot round at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
		{"PENDING", protocol.Message{Type: protocol.MsgPending, From: 2, To: 3, Ballot: almost, ViewID: 4, Members: ids(1, 2, 3), Op: del(1), OpBallot: b01},
			"wire: PENDING: ballot round at byte 5: 18446744073709551615 is the largest value: the next one would wrap"},
		// Bytes 0-3 header, 4-5 ballot, 6 view id, 7-10 three members,
		// 11-13 op: the op ballot starts at byte 15.
		{"PENDING op ballot", protocol.Message{Type: protocol.MsgPending, From: 2, To: 3, Ballot: b23, ViewID: 4, Members: ids(1, 2, 3), Op: del(1), OpBallot: almost},
			"wire: PENDING: op ballot round at byte 15: 18446744073709551615 is the largest value: the next one would wrap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRefusesLargest(t, tt.m, tt.want) })
	}
}

func TestWire_TruncationNeverPanics(t *testing.T) {
	check := func(t interface {
		Helper()
		Fatalf(string, ...any)
	}, b []byte) {
		t.Helper()
		for i := range len(b) {
			m, err := protocol.Decode(b[:i])
			if err == nil {
				t.Fatalf("Decode of %d-byte prefix of % x succeeded: %v", i, b, m)
			}
			if !errors.Is(err, protocol.ErrMalformed) {
				t.Fatalf("Decode of %d-byte prefix: error %q does not match ErrMalformed", i, err)
			}
		}
		if _, err := protocol.Decode(b); err != nil {
			t.Fatalf("Decode of the full % x: %v", b, err)
		}
	}
	t.Run("samples", func(t *testing.T) {
		for _, m := range sampleMessages() {
			check(t, mustEncode(t, m))
		}
	})
	t.Run("generated", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			m := messageGen().Draw(t, "m")
			b, err := protocol.Encode(&m)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			check(t, b)
		})
	})
}

func TestWire_EncodeRejectsInvalid(t *testing.T) {
	b := protocol.Ballot{Round: 1, Leader: 1}
	tooMany := append(maxPeerList(), protocol.MaxPeers+1)
	tests := []struct {
		name string
		m    *protocol.Message
		want string
	}{
		{"nil", nil, "wire: cannot encode a nil message"},
		{"type 0", &protocol.Message{From: 1, To: 2}, "wire: cannot encode unknown message type 0"},
		{"type 200", &protocol.Message{Type: 200, From: 1, To: 2}, "wire: cannot encode unknown message type 200"},
		{"from 0", &protocol.Message{Type: protocol.MsgHeartbeat, To: 2}, "wire: cannot encode HEARTBEAT: from: is 0, want a peer id in 1..1024"},
		{"to 0", &protocol.Message{Type: protocol.MsgJoin, From: 2}, "wire: cannot encode JOIN: to: is 0"},
		{"to above MaxPeers", &protocol.Message{Type: protocol.MsgJoin, From: 2, To: 1025}, "wire: cannot encode JOIN: to: 1025 above MaxPeers 1024"},
		{"ballot leader above MaxPeers", &protocol.Message{Type: protocol.MsgOK, From: 1, To: 2, Ballot: protocol.Ballot{Leader: 1025}}, "wire: cannot encode OK: ballot leader: 1025 above MaxPeers"},
		{"op kind unknown", &protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, Op: protocol.Op{Kind: 3, Peer: 4}}, "wire: cannot encode REQ: op kind: unknown kind 3"},
		{"op ADD of 0", &protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, Op: protocol.Op{Kind: protocol.OpAdd}}, "wire: cannot encode REQ: op peer: is 0"},
		{"op DEL above MaxPeers", &protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, Op: protocol.Op{Kind: protocol.OpDel, Peer: 1025}}, "wire: cannot encode REQ: op peer: 1025 above MaxPeers"},
		{"op NOTHING with a peer", &protocol.Message{Type: protocol.MsgPending, From: 1, To: 2, Op: protocol.Op{Kind: protocol.OpNothing, Peer: 3}}, "wire: cannot encode PENDING: op peer: NOTHING with peer 3, want 0"},
		{"op DEL with an incarnation", &protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b, Op: protocol.Op{Kind: protocol.OpDel, Peer: 4, Incarnation: 7}}, "wire: cannot encode REQ: op incarnation: 7 on DEL, want 0"},
		{"op NOTHING with an incarnation", &protocol.Message{Type: protocol.MsgPending, From: 1, To: 2, Op: protocol.Op{Kind: protocol.OpNothing, Incarnation: 7}}, "wire: cannot encode PENDING: op incarnation: 7 on NOTHING, want 0"},
		{"NEWVIEW op DEL with an incarnation", &protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Members: []protocol.PeerID{1}, Op: protocol.Op{Kind: protocol.OpDel, Peer: 2, Incarnation: math.MaxUint64}}, "wire: cannot encode NEWVIEW: op incarnation: 18446744073709551615 on DEL, want 0"},
		{"NEWVIEW op kind unknown", &protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Op: protocol.Op{Kind: 3, Peer: 2}}, "wire: cannot encode NEWVIEW: op kind: unknown kind 3"},
		{"JOIN op ADD of 0", &protocol.Message{Type: protocol.MsgJoin, From: 2, To: 1, Op: protocol.Op{Kind: protocol.OpAdd, Incarnation: 5}}, "wire: cannot encode JOIN: op peer: is 0"},
		{"JOIN op NOTHING with an incarnation", &protocol.Message{Type: protocol.MsgJoin, From: 2, To: 1, Op: protocol.Op{Incarnation: 5}}, "wire: cannot encode JOIN: op incarnation: 5 on NOTHING, want 0"},
		{"op ballot leader above MaxPeers", &protocol.Message{Type: protocol.MsgPending, From: 1, To: 2, OpBallot: protocol.Ballot{Leader: 2000}}, "wire: cannot encode PENDING: op ballot leader: 2000 above MaxPeers"},
		{"too many members", &protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Members: tooMany}, "wire: cannot encode NEWVIEW: members: 1025 members above MaxPeers 1024"},
		{"duplicate member", &protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Members: []protocol.PeerID{1, 3, 3}}, "wire: cannot encode NEWVIEW: member 2: id 3 not above previous id 3"},
		{"descending members", &protocol.Message{Type: protocol.MsgPending, From: 1, To: 2, Members: []protocol.PeerID{3, 2}}, "wire: cannot encode PENDING: member 1: id 2 not above previous id 3"},
		{"unsorted suspects", &protocol.Message{Type: protocol.MsgHeartbeat, From: 1, To: 2, Members: []protocol.PeerID{4, 2}}, "wire: cannot encode HEARTBEAT: member 1: id 2 not above previous id 4"},
		{"suspect 0", &protocol.Message{Type: protocol.MsgHeartbeat, From: 1, To: 2, Members: []protocol.PeerID{0}}, "wire: cannot encode HEARTBEAT: member 0: is 0"},
		{"member 0", &protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Members: []protocol.PeerID{0, 1}}, "wire: cannot encode NEWVIEW: member 0: is 0"},
		{"member above MaxPeers", &protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Members: []protocol.PeerID{1, 1025}}, "wire: cannot encode NEWVIEW: member 1: 1025 above MaxPeers"},
		{"leader above MaxPeers", &protocol.Message{Type: protocol.MsgRedirect, From: 1, To: 2, Leader: 1025}, "wire: cannot encode REDIRECT: leader: 1025 above MaxPeers"},
		{"NOTMEMBER leader above MaxPeers", &protocol.Message{Type: protocol.MsgNotMember, From: 1, To: 2, Leader: math.MaxUint32}, "wire: cannot encode NOTMEMBER: leader: 4294967295 above MaxPeers"},
		{"ballot round MaxUint64", &protocol.Message{Type: protocol.MsgNewLeader, From: 1, To: 2, Ballot: protocol.Ballot{Round: math.MaxUint64, Leader: 1}}, "wire: cannot encode NEWLEADER: ballot round: 18446744073709551615 is the largest value: the next one would wrap"},
		{"view id MaxUint64", &protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, ViewID: math.MaxUint64, Members: []protocol.PeerID{1, 2}}, "wire: cannot encode NEWVIEW: view id: 18446744073709551615 is the largest value: the next one would wrap"},
		{"NOTMEMBER view id MaxUint64", &protocol.Message{Type: protocol.MsgNotMember, From: 1, To: 2, ViewID: math.MaxUint64}, "wire: cannot encode NOTMEMBER: view id: 18446744073709551615 is the largest value"},
		{"op ballot round MaxUint64", &protocol.Message{Type: protocol.MsgPending, From: 1, To: 2, OpBallot: protocol.Ballot{Round: math.MaxUint64}}, "wire: cannot encode PENDING: op ballot round: 18446744073709551615 is the largest value: the next one would wrap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := protocol.AppendMessage(dst, tt.m)
			if err == nil {
				t.Fatalf("AppendMessage(%v) succeeded: % x", tt.m, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("AppendMessage error = %q, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, protocol.ErrMalformed) {
				t.Errorf("errors.Is(%q, ErrMalformed) = false", err)
			}
			if diff := cmp.Diff([]byte("keep"), got); diff != "" {
				t.Errorf("AppendMessage changed dst on error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWire_EncodeIgnoresUncarriedFields(t *testing.T) {
	// Fields a type does not carry are neither checked nor sent, and come
	// back zero. HEARTBEAT carries Members (the sender's suspects) since
	// wire version 3: they are sent and come back; OK, which carries what
	// HEARTBEAT carried before, stands for the types without Members.
	tests := []struct {
		m, want protocol.Message
	}{
		{
			protocol.Message{
				Type: protocol.MsgHeartbeat, From: 1, To: 2,
				Ballot: protocol.Ballot{Round: 3, Leader: 1}, ViewID: 4,
				Members: []protocol.PeerID{2, 5}, Op: protocol.Op{Kind: 9, Incarnation: 7},
				OpBallot: protocol.Ballot{Leader: 5000}, Leader: 5000, ToIncarnation: 8,
			},
			protocol.Message{Type: protocol.MsgHeartbeat, From: 1, To: 2, Ballot: protocol.Ballot{Round: 3, Leader: 1}, ViewID: 4,
				Members: []protocol.PeerID{2, 5}},
		},
		{
			protocol.Message{
				Type: protocol.MsgOK, From: 1, To: 2,
				Ballot: protocol.Ballot{Round: 3, Leader: 1}, ViewID: 4,
				Members: []protocol.PeerID{5, 0}, Op: protocol.Op{Kind: 9, Incarnation: 7},
				OpBallot: protocol.Ballot{Leader: 5000}, Leader: 5000, ToIncarnation: 8,
			},
			protocol.Message{Type: protocol.MsgOK, From: 1, To: 2, Ballot: protocol.Ballot{Round: 3, Leader: 1}, ViewID: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.m.Type.String(), func(t *testing.T) {
			got, err := protocol.Decode(mustEncode(t, tt.m))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWire_Sizes(t *testing.T) {
	// The largest round and view id the wire takes are one below
	// MaxUint64, and as long: ten uvarint bytes.
	maxBallot := protocol.Ballot{Round: math.MaxUint64 - 1, Leader: protocol.MaxPeers}
	// Only an ADD carries an incarnation, so the longest op is an ADD.
	maxOp := protocol.Op{Kind: protocol.OpAdd, Peer: protocol.MaxPeers, Incarnation: math.MaxUint64}
	tests := []struct {
		name string
		m    protocol.Message
	}{
		{"NEWVIEW of MaxPeers", protocol.Message{
			Type: protocol.MsgNewView, From: protocol.MaxPeers, To: protocol.MaxPeers,
			Ballot: maxBallot, ViewID: math.MaxUint64 - 1, Members: maxPeerList(), Op: maxOp, ToIncarnation: math.MaxUint64,
		}},
		{"NEWVIEW of the ids needing the most bytes", protocol.Message{
			Type: protocol.MsgNewView, From: protocol.MaxPeers, To: protocol.MaxPeers,
			Ballot: maxBallot, ViewID: math.MaxUint64 - 1,
			Members: []protocol.PeerID{128, 256, 384, 512, 640, 768, 896, 1024}, Op: maxOp, ToIncarnation: math.MaxUint64,
		}},
		{"PENDING of MaxPeers", protocol.Message{
			Type: protocol.MsgPending, From: protocol.MaxPeers, To: protocol.MaxPeers, Incarnation: math.MaxUint64,
			Ballot: maxBallot, ViewID: math.MaxUint64 - 1, Members: maxPeerList(),
			Op: maxOp, OpBallot: maxBallot,
		}},
		{"PENDING of the ids needing the most bytes", protocol.Message{
			// Deltas of 128 each take 2 bytes: the sparsest lists cost
			// the most per member, though fewer members fit.
			Type: protocol.MsgPending, From: protocol.MaxPeers, To: protocol.MaxPeers, Incarnation: math.MaxUint64,
			Ballot: maxBallot, ViewID: math.MaxUint64 - 1,
			Members: []protocol.PeerID{128, 256, 384, 512, 640, 768, 896, 1024},
			Op:      maxOp, OpBallot: maxBallot,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustEncode(t, tt.m)
			t.Logf("%d bytes (MaxMessageSize %d)", len(b), protocol.MaxMessageSize)
			if len(b) > protocol.MaxMessageSize {
				t.Fatalf("encoding of %d bytes exceeds MaxMessageSize %d", len(b), protocol.MaxMessageSize)
			}
			got, err := protocol.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.m, got); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		b := mustEncode(f, m)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{protocol.WireVersion})
	f.Add([]byte{7, 1, 1, 2, 0, 1, 1})
	f.Add([]byte{protocol.WireVersion, 99, 1, 2})
	f.Add([]byte{protocol.WireVersion, byte(protocol.MsgNewView), 1, 2, 0, 1, 1, 0xff, 0xff, 0x03})
	f.Add(bytes.Repeat([]byte{0xff}, 40))
	// The largest view id and ballot round, refused.
	f.Add(withLargestCounter(f, protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b01, ViewID: math.MaxUint64 - 1, Members: ids(1, 2), Op: add(2, 1)}))
	f.Add(withLargestCounter(f, protocol.Message{Type: protocol.MsgNewLeader, From: 2, To: 3, Ballot: protocol.Ballot{Round: math.MaxUint64 - 1, Leader: 2}, ViewID: 5}))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := protocol.Decode(in)
		if err != nil {
			if !errors.Is(err, protocol.ErrMalformed) {
				t.Fatalf("Decode error %q does not match ErrMalformed", err)
			}
			return
		}
		// The encoding is canonical: whatever decodes re-encodes to the
		// very same bytes, and decodes again to the same message.
		out, err := protocol.Encode(&m)
		if err != nil {
			t.Fatalf("Encode of decoded %v: %v", m, err)
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("re-encoding differs:\n in % x\nout % x", in, out)
		}
		again, err := protocol.Decode(out)
		if err != nil {
			t.Fatalf("Decode of re-encoding: %v", err)
		}
		if diff := cmp.Diff(m, again); diff != "" {
			t.Fatalf("second decode differs (-first +second):\n%s", diff)
		}
	})
}

func BenchmarkEncodeHeartbeat(b *testing.B) {
	m := protocol.Message{Type: protocol.MsgHeartbeat, From: 3, To: 700, Ballot: protocol.Ballot{Round: 12, Leader: 3}, ViewID: 41}
	buf := make([]byte, 0, protocol.MaxMessageSize)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = protocol.AppendMessage(buf[:0], &m)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHeartbeat(b *testing.B) {
	in := mustEncode(b, protocol.Message{Type: protocol.MsgHeartbeat, From: 3, To: 700, Ballot: protocol.Ballot{Round: 12, Leader: 3}, ViewID: 41})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protocol.Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}
