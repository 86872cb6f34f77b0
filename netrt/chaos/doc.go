// Package chaos runs real peer processes on a real, faulty network and
// judges their log lines with package check, the simulator's checkers. Its
// tests carry the build tag chaos, so that make test leaves them out; make
// chaos runs them (root, ip netns and iptables are needed; without them
// they skip).
//
// # The network
//
// Each test builds its own network of network namespaces, named with the
// prefix mchaos<pid>-<n>- so that several runs never collide and a run can
// find what an earlier, crashed one left behind: before the tests start,
// every namespace named mchaos... is removed, with the processes inside
// it, unless the run whose pid it names is still going.
//
//	mchaos<pid>-<n>-sw   the switch: bridge br0 and one port p<i> per peer
//	mchaos<pid>-<n>-<i>  peer i: eth0 holding 10.231.0.<i>/24, veth to p<i>
//
// The bridge lives in a namespace of its own rather than in the host's: a
// host running docker filters bridged frames through its FORWARD chain
// (bridge-nf-call-iptables, whose policy docker sets to DROP), and the
// tests leave the host's firewall alone. IPv6 is off in every namespace, so
// that the only traffic is the peers'.
//
// Peers run with ip netns exec in their namespace, with -log json, each in a
// process group of its own that the test kills with SIGKILL when it ends
// (and that the kernel kills if the test process dies first).
//
// # Faults
//
// Loss, one-way cuts and partitions are iptables rules in the receiver's
// namespace, in a chain MCHAOS that INPUT jumps to for eth0 only (so that
// loopback is untouched): loss is
// -m statistic --mode random --probability P -j DROP, a cut from a to b
// drops at b whatever comes from a's address (silently: the sender learns
// nothing, as when a cable fails one way), and a split is the cuts between
// every pair of peers on different sides. Each namespace's rules go in
// with one iptables-restore, all namespaces at once, so that a partition
// starts within a few milliseconds everywhere. Heal flushes MCHAOS in every
// namespace.
//
// # Delay
//
// The kernel has no netem, so delay is a relay of our own, in the test
// process. To delay peer i by D, its port p<i> leaves the bridge and a new
// veth pair d<i>/d<i>b takes its place on it (d<i>b on the bridge); two
// goroutines copy every frame between p<i> and d<i> through AF_PACKET
// sockets, each holding the frame until D after it was read. The peer's
// traffic in both directions thus arrives D late, in order, whatever its
// protocol (ARP, TCP, UDP). The sockets carry a virtio-net header
// (PACKET_VNET_HDR) so that offloaded frames (TSO super-frames, checksums
// left to the hardware) are passed on as they are instead of being
// rejected as too long or with a bad checksum. Heal puts p<i> back on the
// bridge, then closes the relay, losing the frames it still held, as a
// link that comes back drops what was on the wire.
//
// # Judging
//
// Every line a peer prints is kept with its time: the peer's own, from its
// JSON line, on the clock the test reads too. View lines become
// check.Install values, merged across peers by time, and
// check.CheckInstalls judges S1-S4; a violation fails the
// test. Recovery is measured, not asserted: the time from the heal to the
// first moment at which every live peer's last view (unless it has since
// printed "removed from view") is one view whose members are exactly the
// live peers, and the false removals, views that leave out a peer that
// never crashed. Each test logs its figures, and the run ends with a table
// of them all, beside the targets: one view of every live peer within 2 s
// of any heal at default timing, and no false removal over 60 s of 20%
// loss.
//
// CHAOS_SHORT=1 (or -short) runs fewer and shorter cases, in at most ten
// minutes. CHAOS_LOGS=1 prints every peer's lines after each case, and
// CHAOS_PEER_FLAGS adds flags to every peer (-v for the runtime's
// diagnostics, or another timing to compare with the default).
package chaos
