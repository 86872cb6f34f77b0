package netrt

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// A durable peer restarted with other tags resumes as the member it was,
// with the tags its incarnation joined with: its status and the view it
// resumes say so, and the operator is told in one line that the tags
// given are not used.
func TestDurable_ResumeKeepsTheStoredTags(t *testing.T) {
	hosts := loopbackHosts(t, 1, freePort(t, 1))
	dir := t.TempDir()
	db, web := mustTags(t, "role=db"), mustTags(t, "role=web")
	first := startPeer(t, Options{ID: 1, Hosts: hosts, Config: testConfig(), DataDir: dir, Tags: db})
	waitView(t, ids(1, 1), first)
	first.cancel()
	<-first.done

	var oplog lockedBuffer
	changes := make(chan ViewChange, 4)
	second := startPeer(t, Options{ID: 1, Hosts: hosts, Config: testConfig(), DataDir: dir, Tags: web,
		OperatorLog: slog.New(slog.NewTextHandler(&oplog, nil)), OnView: func(c ViewChange) { changes <- c }})
	waitView(t, ids(1, 1), second)
	var c ViewChange
	select {
	case c = <-changes:
	case <-time.After(waitTimeout):
		t.Fatal("no view change for the resumed view")
	}
	type got struct {
		Own, Member protocol.Tags
		Reported    map[protocol.PeerID]protocol.Tags
	}
	st := second.rt.Status()
	want := got{Own: db, Member: db, Reported: map[protocol.PeerID]protocol.Tags{1: db}}
	if diff := cmp.Diff(want, got{Own: st.Tags, Member: protocol.View{Members: st.Members, Tags: st.MemberTags}.TagsOf(1), Reported: c.Tags}); diff != "" {
		t.Errorf("the resumed peer's tags (-want +got):\n%s", diff)
	}
	logged := oplog.String()
	if strings.Count(logged, "\n") != 1 || !strings.Contains(logged, "keeping the stored tags") ||
		!strings.Contains(logged, `stored="role=db"`) || !strings.Contains(logged, `given="role=web"`) {
		t.Errorf("operator log %q, want one line saying the stored tags role=db are kept, not role=web", logged)
	}
}

// Resumed with the tags it stored, a peer has nothing to tell.
func TestDurable_ResumeWithTheSameTagsSaysNothing(t *testing.T) {
	hosts := loopbackHosts(t, 1, freePort(t, 1))
	dir := t.TempDir()
	db := mustTags(t, "role=db")
	first := startPeer(t, Options{ID: 1, Hosts: hosts, Config: testConfig(), DataDir: dir, Tags: db})
	waitView(t, ids(1, 1), first)
	first.cancel()
	<-first.done

	var oplog lockedBuffer
	opts := Options{ID: 1, Hosts: hosts, Config: testConfig(), DataDir: dir, Tags: db, OperatorLog: slog.New(slog.NewTextHandler(&oplog, nil))}
	if _, err := listenDurable(t, opts); err != nil {
		t.Fatal(err)
	}
	if logged := oplog.String(); logged != "" {
		t.Errorf("operator log %q, want nothing", logged)
	}
}
