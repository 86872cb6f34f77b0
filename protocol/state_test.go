package protocol_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// A clone answers every event as the original does, and stepping one
// leaves the other as it was.
func TestClone_StepsAloneAndAlike(t *testing.T) {
	h := leader(t, 3, 5)
	orig := h.p
	before := orig.AppendState(nil, 0)
	clone := orig.Clone()
	if !bytes.Equal(before, clone.AppendState(nil, 0)) {
		t.Fatal("a fresh clone encodes differently")
	}
	join := protocol.Event{Type: protocol.EventMessage, Now: h.now, Msg: protocol.Message{Type: protocol.MsgJoin, From: 4, To: 1, Op: add(4, 1)}}
	outC, err := clone.Step(join)
	if err != nil {
		t.Fatal(err)
	}
	gotC := render(outC)
	if !bytes.Equal(before, orig.AppendState(nil, 0)) {
		t.Fatal("stepping the clone changed the original")
	}
	outO, err := orig.Step(join)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gotC, render(outO)); diff != "" {
		t.Errorf("clone and original answered differently (-clone +original):\n%s", diff)
	}
	if !bytes.Equal(clone.AppendState(nil, 0), orig.AppendState(nil, 0)) {
		t.Error("clone and original differ after the same event")
	}
	if bytes.Equal(before, orig.AppendState(nil, 0)) {
		t.Error("the encoding did not change with the state")
	}
}

// Times are encoded relative to a base: the same state reached a second
// later encodes alike when the base moves with it.
func TestAppendState_RelativeTimes(t *testing.T) {
	at := func(start time.Duration) []byte {
		p, err := protocol.NewPeer(protocol.DefaultConfig(), 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Step(protocol.Event{Type: protocol.EventStart, Now: start, Incarnation: 1}); err != nil {
			t.Fatal(err)
		}
		return p.AppendState(nil, start)
	}
	if !bytes.Equal(at(0), at(time.Second)) {
		t.Error("equal states at different times encode differently")
	}
}

func render(out protocol.Output) []string {
	var s []string
	for _, n := range out.Notes {
		s = append(s, n.String())
	}
	for _, m := range out.Messages {
		s = append(s, m.String())
	}
	return s
}
