package netrt

import (
	"encoding/binary"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// seqPayload is a payload that a frameSink records as seq.
func seqPayload(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// TestLink_OfferOnlyWhenIdle: a heartbeat offered to an idle link goes on
// its stream, dialling first if need be; one offered while a frame waits
// or is being written is skipped.
func TestLink_OfferOnlyWhenIdle(t *testing.T) {
	sink := newFrameSink(t, "127.0.0.2:0")
	r := linkRuntime(t, sink.ln.Addr().String(), nil)
	l := r.link(2)
	logOnFailure(t, l, nil)
	received := func(want ...uint64) func() bool {
		return func() bool { return cmp.Equal([][]uint64{want}, sink.received()) }
	}

	l.offer(seqPayload(1)) // no connection yet: dials
	waitFor(t, "heartbeat 1 at the sink", received(1))
	waitFor(t, "the link to be idle", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return !l.writing && l.queue.len() == 0
	})
	l.offer(seqPayload(2))
	waitFor(t, "heartbeat 2 at the sink", received(1, 2))

	// Busy: a frame is being written, or one waits.
	l.mu.Lock()
	l.writing = true
	l.mu.Unlock()
	l.offer(seqPayload(3))
	l.mu.Lock()
	l.writing = false
	queued := l.queue.len()
	l.queue.push(seqFrame(4, 8))
	l.mu.Unlock()
	if queued != 0 {
		t.Errorf("a heartbeat offered while a frame was being written was queued")
	}
	l.offer(seqPayload(5))
	l.poke()
	waitFor(t, "frame 4 at the sink", received(1, 2, 4))
	l.offer(seqPayload(6))
	waitFor(t, "heartbeat 6 at the sink", received(1, 2, 4, 6))
}

// TestLink_FailedHeartbeatNotResent: a heartbeat whose dial fails is not
// kept for the next dial, as a frame of the protocol is.
func TestLink_FailedHeartbeatNotResent(t *testing.T) {
	// A port nobody listens on: the dial is refused.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := linkRuntime(t, addr, nil)
	l := r.link(2)
	logOnFailure(t, l, nil)
	l.offer(seqPayload(1))
	waitFor(t, "the dial to fail", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.down && !l.writing
	})
	l.mu.Lock()
	queued := l.queue.len()
	l.mu.Unlock()
	if queued != 0 {
		t.Errorf("%d frames queued after a heartbeat's dial failed, want none", queued)
	}
}

// TestCluster_HeardWithoutDatagrams: a peer that can neither send nor
// receive a datagram (its UDP socket closed) is still heard by the
// others, and hears them, through the heartbeats that also go on the
// streams: nobody suspects anybody.
func TestCluster_HeardWithoutDatagrams(t *testing.T) {
	p := startCluster(t, 3, nil)
	members := []protocol.PeerID{1, 2, 3}
	waitView(t, members, p[1], p[2], p[3])
	for _, q := range p[1:] {
		q.mu.Lock()
		q.notes = nil
		q.mu.Unlock()
	}
	// Peer 3, not the leader: no stream carries anything else between
	// it and peer 2.
	p[3].rt.impl.udpConn.Close()
	heartbeats := p[3].rt.impl.met.in[protocol.MsgHeartbeat].Load()
	time.Sleep(10 * testConfig().SuspectAfter)

	for _, q := range p[1:] {
		if got := q.members(); !slices.Equal(got, members) {
			t.Errorf("peer %d is at %v, want %v", q.id, got, members)
		}
		q.mu.Lock()
		for _, n := range q.notes {
			if n.Kind == protocol.NoteSuspected {
				t.Errorf("peer %d: %v", q.id, n)
			}
		}
		q.mu.Unlock()
	}
	if got := p[3].rt.impl.met.in[protocol.MsgHeartbeat].Load(); got < heartbeats+10 {
		t.Errorf("peer 3 heard %d heartbeats without its UDP socket, want at least 10", got-heartbeats)
	}
}
