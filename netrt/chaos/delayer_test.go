//go:build chaos

package chaos

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
	"golang.org/x/sys/unix"
)

// The delayer (see the package doc): peer id's port leaves the bridge, and
// two goroutines relay its frames to and from a veth pair that takes its
// place, each frame held for the delay.

const (
	// vnetHeaderLen is the size of struct virtio_net_hdr, which
	// PACKET_VNET_HDR puts before every frame read and expects before
	// every frame written.
	vnetHeaderLen = 10
	// maxFrameLen holds the largest frame a packet socket hands over: a
	// 64 KiB TSO super-frame with its Ethernet and virtio-net headers.
	maxFrameLen = vnetHeaderLen + 14 + 65535
	// heldFramesMax bounds each direction's queue. The peers send a few
	// hundred frames a second at most; a relay that falls this far behind
	// drops, as a router's full queue does.
	heldFramesMax = 1 << 14
	// readRetryPause spaces out reads after a transient error (a link
	// going down reports ENETDOWN once), so that the loop never spins.
	readRetryPause = 10 * time.Millisecond
)

// relayNames are the links of peer id's delayer in the switch namespace:
// relay is the end the delayer writes to, bridgeSide the end on the bridge.
func relayNames(id int) (relay, bridgeSide string) {
	return fmt.Sprintf("d%d", id), fmt.Sprintf("d%db", id)
}

// delayer holds every frame between one peer and the bridge for delay.
type delayer struct {
	delay     time.Duration
	peerSide  *os.File // packet socket on the peer's port p<i>
	relaySide *os.File // packet socket on d<i>, whose other end is on the bridge

	stop     chan struct{}
	wg       sync.WaitGroup
	overflow atomic.Int64 // frames dropped because a queue was full
	lost     atomic.Int64 // frames the kernel would not take
}

// heldFrame is a frame waiting for its time.
type heldFrame struct {
	due  time.Time
	data []byte
}

// delay makes every frame to and from peer id arrive d late, until heal.
func (n *network) delay(id int, d time.Duration) error {
	n.mu.Lock()
	_, already := n.delayers[id]
	n.mu.Unlock()
	if already {
		return errors.Errorf("peer %d is delayed already", id)
	}
	sw := n.switchNS()
	relay, bridgeSide := relayNames(id)
	if err := ip("-n", sw, "link", "add", relay, "type", "veth", "peer", "name", bridgeSide); err != nil {
		return err
	}
	if _, err := runCommand(fmt.Sprintf("link set %s up\nlink set %s up\n", relay, bridgeSide), "ip", "-n", sw, "-batch", "-"); err != nil {
		return err
	}
	dl := &delayer{delay: d, stop: make(chan struct{})}
	err := inNamespace(sw, func() error {
		var err error
		if dl.peerSide, err = openPacketSocket(switchPort(id)); err != nil {
			return err
		}
		if dl.relaySide, err = openPacketSocket(relay); err != nil {
			dl.peerSide.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return errors.Wrapf(err, "delaying peer %d", id)
	}
	dl.wg.Add(2)
	go dl.pump(dl.peerSide, dl.relaySide)
	go dl.pump(dl.relaySide, dl.peerSide)
	n.mu.Lock()
	n.delayers[id] = dl
	n.mu.Unlock()
	// One batch, so that the port is off the bridge for as short a time
	// as the kernel takes to move two links.
	swap := fmt.Sprintf("link set %s nomaster\nlink set %s master %s\n", switchPort(id), bridgeSide, bridgeName)
	_, err = runCommand(swap, "ip", "-n", sw, "-batch", "-")
	return errors.Wrapf(err, "delaying peer %d", id)
}

// undelay puts peer id's port back on the bridge and stops its delayer;
// frames it still held are lost.
func (n *network) undelay(id int) error {
	n.mu.Lock()
	dl := n.delayers[id]
	delete(n.delayers, id)
	n.mu.Unlock()
	if dl == nil {
		return nil
	}
	sw := n.switchNS()
	relay, bridgeSide := relayNames(id)
	// The relay's side leaves the bridge first, so that no frame reaches
	// the bridge twice, directly and through the relay.
	swap := fmt.Sprintf("link set %s nomaster\nlink set %s master %s\n", bridgeSide, switchPort(id), bridgeName)
	_, swapErr := runCommand(swap, "ip", "-n", sw, "-batch", "-")
	dl.close()
	if o, l := dl.overflow.Load(), dl.lost.Load(); o+l > 0 {
		n.t.Logf("delayer of peer %d: %d frames dropped on a full queue, %d refused by the kernel", id, o, l)
	}
	if swapErr != nil {
		return errors.Wrapf(swapErr, "undelaying peer %d", id)
	}
	return errors.Wrapf(ip("-n", sw, "link", "del", relay), "undelaying peer %d", id)
}

// close stops both directions and waits for their goroutines.
func (d *delayer) close() {
	close(d.stop)
	d.peerSide.Close()
	d.relaySide.Close()
	d.wg.Wait()
}

// pump reads frames from from and hands each to a releaser that writes it
// to to once it is due. It ends when from is closed.
func (d *delayer) pump(from, to *os.File) {
	defer d.wg.Done()
	held := make(chan heldFrame, heldFramesMax)
	d.wg.Add(1)
	go d.release(held, to)
	defer close(held)
	buf := make([]byte, maxFrameLen)
	for {
		k, err := from.Read(buf)
		if err != nil {
			select {
			case <-d.stop:
				return
			default:
			}
			if errors.Is(err, os.ErrClosed) {
				return
			}
			time.Sleep(readRetryPause)
			continue
		}
		f := heldFrame{due: time.Now().Add(d.delay), data: slices.Clone(buf[:k])}
		select {
		case held <- f:
		default:
			d.overflow.Add(1)
		}
	}
}

// release writes each held frame to to when it is due, in the order they
// were read: the delay is the same for all, so order is kept.
func (d *delayer) release(held <-chan heldFrame, to *os.File) {
	defer d.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for f := range held {
		if wait := time.Until(f.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-d.stop:
				return
			}
		}
		if _, err := to.Write(f.data); err != nil {
			d.lost.Add(1)
		}
	}
}

// openPacketSocket opens an AF_PACKET socket on interface ifName of the
// calling thread's namespace (see inNamespace), reading and writing whole
// frames, each after a virtio-net header, and not seeing the frames it
// writes itself.
func openPacketSocket(ifName string) (*os.File, error) {
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return nil, errors.Wrapf(err, "interface %s", ifName)
	}
	// Protocol 0 receives nothing until bind names the interface, so no
	// frame of another link slips into the relay in between.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, errors.Wrapf(err, "packet socket on %s", ifName)
	}
	for _, opt := range []struct {
		name string
		key  int
	}{{"PACKET_VNET_HDR", unix.PACKET_VNET_HDR}, {"PACKET_IGNORE_OUTGOING", unix.PACKET_IGNORE_OUTGOING}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, opt.key, 1); err != nil {
			unix.Close(fd)
			return nil, errors.Wrapf(err, "%s on %s", opt.name, ifName)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, errors.Wrapf(err, "binding a packet socket to %s", ifName)
	}
	// A non-blocking descriptor goes to the runtime's poller, so that
	// Close wakes a Read blocked on it.
	return os.NewFile(uintptr(fd), "packet:"+ifName), nil
}

// htons turns v into network byte order, as sockaddr_ll wants it.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
