package netrt

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// viewLog collects what OnView reported to one embedded peer.
type viewLog struct {
	mu      sync.Mutex
	changes []string
}

func (l *viewLog) add(c ViewChange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := fmt.Sprintf("%v leader %d +%v -%v", c.Members, c.Leader, c.Added, c.Removed)
	if c.Out {
		s = fmt.Sprintf("out -%v", c.Removed)
	}
	l.changes = append(l.changes, s)
}

func (l *viewLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.changes, "; ")
}

// Three members embedded in one process follow the membership through
// OnView: each sees the view that adds it (every member added), the later
// joins, and the leave of peer 3, which is told it is out.
func TestOnView_ThreeEmbeddedMembers(t *testing.T) {
	logs := make([]*viewLog, 4)
	for id := range logs {
		logs[id] = &viewLog{}
	}
	hosts := loopbackHosts(t, 3, freePort(t, 3))
	peers := make([]*testPeer, 4)
	for id := 1; id <= 3; id++ {
		log := logs[id]
		peers[id] = startPeer(t, Options{ID: protocol.PeerID(id), Hosts: hosts, Config: testConfig(), OnView: log.add})
		// One at a time, so that every run takes the same views.
		waitView(t, ids(1, id), peers[1:id+1]...)
	}
	members, err := peers[2].rt.Members(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range members {
		got = append(got, fmt.Sprintf("%d leader=%v watched=%v", m.ID, m.Leader, m.Watched))
	}
	if diff := cmp.Diff([]string{"1 leader=true watched=true", "2 leader=false watched=false", "3 leader=false watched=true"}, got); diff != "" {
		t.Errorf("peer 2's members (-want +got):\n%s", diff)
	}
	peers[3].rt.Leave()
	waitView(t, ids(1, 2), peers[1], peers[2])
	waitFor(t, "peer 3 to stop", peers[3].exited)

	want := []string{
		"",
		"[1] leader 1 +[1] -[]; [1 2] leader 1 +[2] -[]; [1 2 3] leader 1 +[3] -[]; [1 2] leader 1 +[] -[3]",
		"[1 2] leader 1 +[1 2] -[]; [1 2 3] leader 1 +[3] -[]; [1 2] leader 1 +[] -[3]",
		"[1 2 3] leader 1 +[1 2 3] -[]; out -[1 2 3]",
	}
	reported := make([]string, 4)
	for id := 1; id <= 3; id++ {
		reported[id] = logs[id].String()
	}
	if diff := cmp.Diff(want, reported); diff != "" {
		t.Errorf("views reported by peer (-want +got):\n%s", diff)
	}
}

func ids(from, to int) []protocol.PeerID {
	var s []protocol.PeerID
	for id := from; id <= to; id++ {
		s = append(s, protocol.PeerID(id))
	}
	return s
}

// A durable peer resuming in a view reports it; one removed is out, and
// reports nothing more until it holds a view again.
func TestViews_ResumeAndRemoval(t *testing.T) {
	var v views
	var got []ViewChange
	for _, n := range []protocol.Note{
		{Kind: protocol.NoteResumed, ViewID: 0},                                      // resumed outside any view: nothing
		{Kind: protocol.NoteResumed, ViewID: 7, Leader: 2, Members: ids(2, 4)},       // resumed in view 7
		{Kind: protocol.NoteSuspected, ViewID: 7, Subject: 3},                        // not a view change
		{Kind: protocol.NoteRemoved, ViewID: 8, Leader: 2},                           // removed
		{Kind: protocol.NoteLeft, ViewID: 8, Leader: 2},                              // already out: nothing
		{Kind: protocol.NoteViewInstalled, ViewID: 9, Leader: 2, Members: ids(2, 5)}, // added back
	} {
		if c, ok := v.change(n); ok {
			got = append(got, c)
		}
	}
	want := []ViewChange{
		{ID: 7, Leader: 2, Members: ids(2, 4), Added: ids(2, 4)},
		{ID: 8, Leader: 2, Removed: ids(2, 4), Out: true},
		{ID: 9, Leader: 2, Members: ids(2, 5), Added: ids(2, 5)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("view changes (-want +got):\n%s", diff)
	}
}
