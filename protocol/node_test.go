package protocol_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// recorder is an Effects that writes down every call, in order.
type recorder struct {
	calls   []string
	saveErr error // what Save returns
}

func (r *recorder) Note(n protocol.Note)    { r.calls = append(r.calls, "note "+n.String()) }
func (r *recorder) Send(m protocol.Message) { r.calls = append(r.calls, "send "+m.String()) }
func (r *recorder) Timer(t protocol.TimerRequest) {
	r.calls = append(r.calls, "timer "+t.Timer.Kind.String())
}
func (r *recorder) Stop() { r.calls = append(r.calls, "stop") }
func (r *recorder) Save(s protocol.DurableState) error {
	r.calls = append(r.calls, fmt.Sprintf("save view=%d promise=%s", s.View.ID, s.Promise))
	return r.saveErr
}

func (r *recorder) take() []string {
	c := r.calls
	r.calls = nil
	return c
}

func newRecordedNode(t *testing.T, id protocol.PeerID, universe int) (*protocol.Node, *recorder) {
	t.Helper()
	rec := &recorder{}
	n, err := protocol.NewNode(protocol.DefaultConfig(), id, universe, rec)
	if err != nil {
		t.Fatal(err)
	}
	return n, rec
}

// A Node carries out an Output in the documented order: notes, then
// messages, then timers, then the stop.
func TestNode_CarriesOutOutputInOrder(t *testing.T) {
	n, rec := newRecordedNode(t, 1, 2)
	if err := n.Start(0, 1); err != nil {
		t.Fatal(err)
	}
	want := []string{"send JOIN 1->2 ADD 1#1", "timer heartbeat", "timer join"}
	if diff := cmp.Diff(want, rec.take()); diff != "" {
		t.Errorf("start (-want +got):\n%s", diff)
	}
	// Peer 2 never held a view: peer 1 founds at once and serves its JOIN.
	if err := n.Receive(time.Millisecond, protocol.Message{Type: protocol.MsgJoin, From: 2, To: 1, Op: add(2, 1)}); err != nil {
		t.Fatal(err)
	}
	want = []string{
		"note peer 1 view-installed view=1 leader=1 [1]",
		"note peer 1 proposed view=1 leader=1 ADD 2#1 ballot=(0,1)",
		"note peer 1 view-installed view=2 leader=1 [1,2]",
		"send NEWVIEW 1->2 b=(0,1) v=2 [1,2] by ADD 2#1 for #1",
		"timer join", "timer retry", "timer suspect",
	}
	if diff := cmp.Diff(want, rec.take()); diff != "" {
		t.Errorf("join (-want +got):\n%s", diff)
	}
	if err := n.Crash(2 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"note peer 1 crashing view=2 leader=1", "stop"}, rec.take()); diff != "" {
		t.Errorf("crash (-want +got):\n%s", diff)
	}
}

// A refused event is returned and nothing of it is carried out; the peer
// is as it was.
func TestNode_RefusedEventCarriesOutNothing(t *testing.T) {
	n, rec := newRecordedNode(t, 2, 3)
	if err := n.Start(0, 1); err != nil {
		t.Fatal(err)
	}
	rec.take()
	before := n.Peer().Status()
	refused := []error{
		n.Evict(time.Second, 3), // not the leader
		n.Receive(time.Second, protocol.Message{Type: protocol.MsgHeartbeat, From: 9, To: 2}),
		n.Start(time.Second, 2),
	}
	for i, err := range refused {
		if err == nil {
			t.Errorf("event %d was not refused", i)
		}
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("refused events carried out %v", got)
	}
	if diff := cmp.Diff(before, n.Peer().Status()); diff != "" {
		t.Errorf("status changed (-before +after):\n%s", diff)
	}
}

// A leader's refused eviction leaves its queue as it was: the next change
// it proposes is the one it had.
func TestStep_RefusedEvictChangesNothing(t *testing.T) {
	h := leader(t, 3, 5)
	for _, q := range []protocol.PeerID{1, 4} { // itself, a non-member
		if _, err := h.p.Step(protocol.Event{Type: protocol.EventEvict, Now: h.now, Peer: q}); err == nil {
			t.Errorf("evict %d accepted", q)
		}
	}
	if !h.p.Idle() {
		t.Errorf("a refused eviction left work behind")
	}
}
