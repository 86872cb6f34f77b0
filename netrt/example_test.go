package netrt_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/memberly/memberly/netrt"
	"github.com/memberly/memberly/protocol"
)

// ExampleListen embeds three peers in one Go program, on loopback: each
// gets a Runtime from Listen and runs it on a goroutine until its context
// is cancelled. The program waits for the three to agree on a view by
// polling Status, has peer 3 leave gracefully, and waits for the other
// two to agree on the view without it. It prints only the states it
// waited for, never timings, so its output does not vary.
func ExampleListen() {
	hosts, err := loopbackHosts(3)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := exampleConfig()

	// Bind every peer before starting any, so that none is sent a
	// message before its sockets exist.
	ctx, cancel := context.WithCancel(context.Background())
	peers := make([]*netrt.Runtime, len(hosts)+1) // by id
	for _, h := range hosts {
		rt, err := netrt.Listen(netrt.Options{ID: h.ID, Hosts: hosts, Config: cfg})
		if err != nil {
			fmt.Println(err)
			// A Runtime releases its sockets when Run returns: run
			// the ones bound so far under a cancelled context.
			cancel()
			for _, rt := range peers[1:h.ID] {
				rt.Run(ctx)
			}
			return
		}
		peers[h.ID] = rt
	}
	done := make([]chan struct{}, len(peers)) // closed when Run returned
	runErr := make([]error, len(peers))       // what it returned
	for id := 1; id < len(peers); id++ {
		done[id] = make(chan struct{})
		go func() {
			defer close(done[id])
			runErr[id] = peers[id].Run(ctx)
		}()
	}
	defer func() {
		// Cancelling stops the peers still running (a kill, not a
		// leave); each Run closes its sockets before it returns.
		cancel()
		for id := 1; id < len(peers); id++ {
			<-done[id]
		}
	}()

	if err := waitView([]protocol.PeerID{1, 2, 3}, peers[1], peers[2], peers[3]); err != nil {
		fmt.Println(err)
		return
	}
	for id := 1; id <= 3; id++ {
		s := peers[id].Status()
		fmt.Printf("peer %d: %s, leader %d\n", id, protocol.FormatMembers(s.Members), s.Leader)
	}

	// Leave returns at once; Run returns nil once the peer is out.
	peers[3].Leave()
	<-done[3]
	fmt.Printf("peer 3: Run returned %v, %s\n", runErr[3], peers[3].Status().Role)
	if err := waitView([]protocol.PeerID{1, 2}, peers[1], peers[2]); err != nil {
		fmt.Println(err)
		return
	}
	for id := 1; id <= 2; id++ {
		s := peers[id].Status()
		fmt.Printf("peer %d: %s, leader %d, %s\n", id, protocol.FormatMembers(s.Members), s.Leader, s.Role)
	}

	// Output:
	// peer 1: [1,2,3], leader 1
	// peer 2: [1,2,3], leader 1
	// peer 3: [1,2,3], leader 1
	// peer 3: Run returned <nil>, stopped
	// peer 1: [1,2], leader 1, leader
	// peer 2: [1,2], leader 1, follower
}

// waitView polls until every runtime has installed a view of members, for
// at most ten seconds.
func waitView(members []protocol.PeerID, rts ...*netrt.Runtime) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		agreed := true
		for _, rt := range rts {
			agreed = agreed && slices.Equal(rt.Status().Members, members)
		}
		if agreed {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no view %s within 10s", protocol.FormatMembers(members))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loopbackHosts returns a universe of n peers on 127.0.0.1, each on a TCP
// and a UDP port that were free a moment ago: a hosts file's lines,
// "host:tcp-port:udp-port", parsed as the peer binary parses its -h file.
func loopbackHosts(n int) (netrt.Hosts, error) {
	var lines strings.Builder
	var probes []interface{ Close() error }
	defer func() {
		for _, p := range probes {
			p.Close()
		}
	}()
	for range n {
		// Hold each probe until all are taken, so no port is picked twice.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		probes = append(probes, ln)
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		probes = append(probes, pc)
		fmt.Fprintf(&lines, "127.0.0.1:%d:%d\n", ln.Addr().(*net.TCPAddr).Port, pc.LocalAddr().(*net.UDPAddr).Port)
	}
	return netrt.ParseHosts([]byte(lines.String()), "", 0, 0)
}

// exampleConfig is the examples' timing: short, for a loopback
// demonstration. Every peer of a cluster uses the same.
func exampleConfig() protocol.Config {
	cfg := protocol.DefaultConfig()
	cfg.HeartbeatInterval = 100 * time.Millisecond
	cfg.SuspectAfter = time.Second
	cfg.RetryInterval = 100 * time.Millisecond
	cfg.JoinRetryInterval = 200 * time.Millisecond
	cfg.LeaveTimeout = 2 * time.Second
	return cfg
}
