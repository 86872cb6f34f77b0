package netrt_test

import (
	"context"
	"fmt"

	"github.com/memberly/memberly/netrt"
	"github.com/memberly/memberly/protocol"
)

// ExampleViewChange follows the membership the way an embedding program
// does: Options.OnView hands each ViewChange to a channel the program
// reads at its own pace. Each peer starts with tags of its own (its role
// and zone); peer 1 founds the cluster, peers 2 and 3 join one after the
// other, and peer 3 leaves; the program prints what peer 1 was told,
// with the tags of each member added or removed.
func ExampleViewChange() {
	hosts, err := loopbackHosts(3)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := exampleConfig()

	// OnView runs on the peer's event loop and must not block: the
	// channel's buffer takes what the program has not read yet.
	changes := make(chan netrt.ViewChange, 16)
	ctx, cancel := context.WithCancel(context.Background())
	var running []chan struct{}
	defer func() {
		cancel()
		for _, done := range running {
			<-done
		}
	}()
	tags := map[protocol.PeerID][]string{1: {"role=seed"}, 2: {"role=db", "zone=a"}, 3: {"role=web", "zone=b"}}
	peers := make([]*netrt.Runtime, len(hosts)+1)
	for _, h := range hosts {
		own, err := protocol.ParseTags(tags[h.ID])
		if err != nil {
			fmt.Println(err)
			return
		}
		opts := netrt.Options{ID: h.ID, Hosts: hosts, Config: cfg, Tags: own}
		if h.ID == 1 {
			opts.OnView = func(c netrt.ViewChange) { changes <- c }
		}
		rt, err := netrt.Listen(opts)
		if err != nil {
			fmt.Println(err)
			return
		}
		peers[h.ID] = rt
		done := make(chan struct{})
		running = append(running, done)
		go func() { defer close(done); rt.Run(ctx) }()
		// One joiner at a time, so that each join is a view of its own.
		if err := waitView(membersUpTo(h.ID), peers[1:h.ID+1]...); err != nil {
			fmt.Println(err)
			return
		}
	}
	peers[3].Leave()
	if err := waitView(membersUpTo(2), peers[1], peers[2]); err != nil {
		fmt.Println(err)
		return
	}
	for range 4 {
		c := <-changes
		fmt.Printf("%s leader %d, added %s, removed %s\n",
			protocol.FormatMembers(c.Members), c.Leader, protocol.FormatMembers(c.Added), protocol.FormatMembers(c.Removed))
		// c.Tags holds the tags of the members and of those removed.
		for _, p := range c.Added {
			fmt.Printf("  + %d %s\n", p, c.Tags[p])
		}
		for _, p := range c.Removed {
			fmt.Printf("  - %d %s\n", p, c.Tags[p])
		}
	}

	// Output:
	// [1] leader 1, added [1], removed []
	//   + 1 role=seed
	// [1,2] leader 1, added [2], removed []
	//   + 2 role=db,zone=a
	// [1,2,3] leader 1, added [3], removed []
	//   + 3 role=web,zone=b
	// [1,2] leader 1, added [], removed [3]
	//   - 3 role=web,zone=b
}

// membersUpTo returns 1..n.
func membersUpTo(n protocol.PeerID) []protocol.PeerID {
	var ids []protocol.PeerID
	for id := protocol.PeerID(1); id <= n; id++ {
		ids = append(ids, id)
	}
	return ids
}
