// Package chaos builds a real, faulty network of namespaces for real peer
// processes. Its tests carry the build tag chaos, so that the whole suite
// leaves them out (root, ip netns and iptables are needed; without them
// they skip).
//
// # The network
//
// Each test builds its own network of network namespaces, named with the
// prefix mchaos<pid>-<n>- so that several runs never collide and a run can
// find what an earlier, crashed one left behind (every namespace whose name
// starts with mchaos is removed, with the processes inside it, before the
// tests start):
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
package chaos
