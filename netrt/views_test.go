package netrt

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	s := fmt.Sprintf("%v leader %d +%v -%v %s", c.Members, c.Leader, c.Added, c.Removed, formatTags(c.Tags))
	if c.Out {
		s = fmt.Sprintf("out -%v %s", c.Removed, formatTags(c.Tags))
	}
	l.changes = append(l.changes, s)
}

// formatTags renders ViewChange.Tags in id order: {1:role=a 3:role=c}.
func formatTags(tags map[protocol.PeerID]protocol.Tags) string {
	var parts []string
	for _, p := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, fmt.Sprintf("%d:%s", p, tags[p]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// mustTags parses key=value pairs, failing the test on a bad one.
func mustTags(t testing.TB, pairs ...string) protocol.Tags {
	t.Helper()
	tags, err := protocol.ParseTags(pairs)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func (l *viewLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.changes, "; ")
}

// Three members embedded in one process, each with tags of its own,
// follow the membership through OnView: each sees the view that adds it
// (every member added), the later joins, and the leave of peer 3, which
// is told it is out, with every member's tags each time; Members and
// Status show the same tags at every peer.
func TestOnView_ThreeEmbeddedMembers(t *testing.T) {
	logs := make([]*viewLog, 4)
	for id := range logs {
		logs[id] = &viewLog{}
	}
	tags := []protocol.Tags{{}, mustTags(t, "role=db", "zone=a"), mustTags(t, "role=web"), mustTags(t, "role=cache", "zone=b")}
	hosts := loopbackHosts(t, 3, freePort(t, 3))
	peers := make([]*testPeer, 4)
	for id := 1; id <= 3; id++ {
		log := logs[id]
		peers[id] = startPeer(t, Options{ID: protocol.PeerID(id), Hosts: hosts, Config: testConfig(), Tags: tags[id], OnView: log.add})
		// One at a time, so that every run takes the same views.
		waitView(t, ids(1, id), peers[1:id+1]...)
	}
	wantMembers := []string{
		"1 leader=true tags=role=db,zone=a",
		"2 leader=false tags=role=web",
		"3 leader=false tags=role=cache,zone=b",
	}
	for id := 1; id <= 3; id++ {
		members, err := peers[id].rt.Members(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range members {
			got = append(got, fmt.Sprintf("%d leader=%v tags=%s", m.ID, m.Leader, m.Tags))
		}
		if diff := cmp.Diff(wantMembers, got); diff != "" {
			t.Errorf("peer %d's members (-want +got):\n%s", id, diff)
		}
		st := peers[id].rt.Status()
		if diff := cmp.Diff(tags[1:], st.MemberTags); diff != "" || st.Tags != tags[id] {
			t.Errorf("peer %d's status: own tags %q, want %q; member tags (-want +got):\n%s", id, st.Tags, tags[id], diff)
		}
	}
	members, err := peers[2].rt.Members(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var watched []string
	for _, m := range members {
		watched = append(watched, fmt.Sprintf("%d watched=%v", m.ID, m.Watched))
	}
	if diff := cmp.Diff([]string{"1 watched=true", "2 watched=false", "3 watched=true"}, watched); diff != "" {
		t.Errorf("peer 2's members (-want +got):\n%s", diff)
	}
	peers[3].rt.Leave()
	waitView(t, ids(1, 2), peers[1], peers[2])
	waitFor(t, "peer 3 to stop", peers[3].exited)

	const t1, t12, t123 = "{1:role=db,zone=a}", "{1:role=db,zone=a 2:role=web}", "{1:role=db,zone=a 2:role=web 3:role=cache,zone=b}"
	want := []string{
		"",
		"[1] leader 1 +[1] -[] " + t1 + "; [1 2] leader 1 +[2] -[] " + t12 + "; [1 2 3] leader 1 +[3] -[] " + t123 + "; [1 2] leader 1 +[] -[3] " + t123,
		"[1 2] leader 1 +[1 2] -[] " + t12 + "; [1 2 3] leader 1 +[3] -[] " + t123 + "; [1 2] leader 1 +[] -[3] " + t123,
		"[1 2 3] leader 1 +[1 2 3] -[] " + t123 + "; out -[1 2 3] " + t123,
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
// reports nothing more until it holds a view again. Tags come with the
// members that have any, the removed ones' as the view they left held
// them.
func TestViews_ResumeAndRemoval(t *testing.T) {
	db, web := mustTags(t, "role=db"), mustTags(t, "role=web")
	var v views
	var got []ViewChange
	for _, n := range []protocol.Note{
		{Kind: protocol.NoteResumed, ViewID: 0}, // resumed outside any view: nothing
		{Kind: protocol.NoteResumed, ViewID: 7, Leader: 2, Members: ids(2, 4), Tags: []protocol.Tags{db, {}, web}},  // resumed in view 7
		{Kind: protocol.NoteSuspected, ViewID: 7, Subject: 3},                                                       // not a view change
		{Kind: protocol.NoteViewInstalled, ViewID: 8, Leader: 2, Members: ids(2, 3), Tags: []protocol.Tags{db, {}}}, // 4 removed
		{Kind: protocol.NoteRemoved, ViewID: 9, Leader: 2},                                                          // removed
		{Kind: protocol.NoteLeft, ViewID: 9, Leader: 2},                                                             // already out: nothing
		{Kind: protocol.NoteViewInstalled, ViewID: 10, Leader: 2, Members: ids(2, 5)},                               // added back, no tags
	} {
		if c, ok := v.change(n); ok {
			got = append(got, c)
		}
	}
	want := []ViewChange{
		{ID: 7, Leader: 2, Members: ids(2, 4), Added: ids(2, 4), Tags: map[protocol.PeerID]protocol.Tags{2: db, 4: web}},
		{ID: 8, Leader: 2, Members: ids(2, 3), Removed: ids(4, 4), Tags: map[protocol.PeerID]protocol.Tags{2: db, 4: web}},
		{ID: 9, Leader: 2, Removed: ids(2, 3), Out: true, Tags: map[protocol.PeerID]protocol.Tags{2: db}},
		{ID: 10, Leader: 2, Members: ids(2, 5), Added: ids(2, 5)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("view changes (-want +got):\n%s", diff)
	}
}
