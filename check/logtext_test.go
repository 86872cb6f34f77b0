package check_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

func TestParseLogText_Prefixes(t *testing.T) {
	text := "Attaching to one_1, two_1, three_1\n" +
		"one_1    | {peer_id:1, view_id: 1, leader: 1, memb_list: [1]}\n" +
		"two-1    | {peer_id:2, view_id: 2, leader: 1, memb_list: [1,2]}\r\n" +
		"two_1    | listening on :7000\n" +
		"\n" +
		"   \r\n" +
		"  12.345s p3 {peer_id:3, view_id: 3, leader: 1, memb_list: [1,2,3]}\n" +
		"  13.000s p2 {peer_id:2, view_id: 3, leader: 1, message:\"peer 1 (leader) unreachable\"}\n" +
		"one_1 exited with code 137\n" +
		"{peer_id:1, view_id: 5, leader: 1, message:\"crashing\"}\n" +
		"three_1  | {peer_id:3, view_id: 4, leader: 2, memb_list: [2,1]}\n" +
		"three_1  | {\"level\":\"debug\"}\n" +
		"garbled {peer_id:1, view_id" // no final newline
	want := []protocol.Line{
		{Peer: 1, ViewID: 1, Leader: 1, Members: []protocol.PeerID{1}},
		{Peer: 2, ViewID: 2, Leader: 1, Members: []protocol.PeerID{1, 2}},
		{Peer: 3, ViewID: 3, Leader: 1, Members: []protocol.PeerID{1, 2, 3}},
		{Peer: 2, ViewID: 3, Leader: 1, Message: "peer 1 (leader) unreachable"},
		{Peer: 1, ViewID: 5, Leader: 1, Message: "crashing"},
	}
	// Skipped: "Attaching", "listening", "exited", the unsorted list, the
	// JSON line and the garbled line. Blank lines are not counted.
	const wantSkipped = 6

	got, skipped := check.ParseLogText(text)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseLogText lines (-want +got):\n%s", diff)
	}
	if skipped != wantSkipped {
		t.Errorf("ParseLogText skipped = %d, want %d", skipped, wantSkipped)
	}

	if got, skipped := check.ParseLogText(""); got != nil || skipped != 0 {
		t.Errorf("ParseLogText(\"\") = %v, %d; want nil, 0", got, skipped)
	}
}
