// Command demo replays the seed's case 4 (leader crash with message loss)
// with five real peer processes on 127.0.0.1..127.0.0.5, in real time with
// the seed's timing, and prints their merged log lines:
//
//	go run ./cmd/peer/demo [-peer path/to/peer] [-port 7400]
//
// Peer 1 starts with -t, peers 2..5 with -d 2, 4, 6 and 8. Once all five
// have joined, leader 1 sends DEL 5 to peers 3 and 4 only and crashes;
// peer 2 takes over, completes DEL 5, removes 1, and 5 rejoins. The demo
// stops every peer with SIGTERM once all live peers are at [2,3,4,5] (exit
// 0), or after 60 s (exit 1).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

const peers = 5

// finalView is where case 4 ends.
var finalView = []protocol.PeerID{2, 3, 4, 5}

// stopGrace is how long peers get to leave gracefully before being killed.
const stopGrace = 10 * time.Second

// line is one line a peer printed on stderr, or its exit.
type line struct {
	peer   int
	text   string
	exited bool
}

func main() { os.Exit(run()) }

func run() int {
	peerBin := flag.String("peer", "", "the peer binary (default: build ./cmd/peer into a temporary directory)")
	port := flag.Int("port", 7400, "TCP port of the peers; UDP uses the next one")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()

	dir, err := os.MkdirTemp("", "memberly-demo")
	if err != nil {
		return fail(errors.Wrap(err, "temporary directory"))
	}
	defer os.RemoveAll(dir)
	if *peerBin == "" {
		if *peerBin, err = build(dir); err != nil {
			return fail(err)
		}
	}
	hosts := filepath.Join(dir, "hosts")
	var b strings.Builder
	for id := 1; id <= peers; id++ {
		fmt.Fprintf(&b, "127.0.0.%d\n", id)
	}
	if err := os.WriteFile(hosts, []byte(b.String()), 0o600); err != nil {
		return fail(errors.Wrap(err, "hosts file"))
	}

	lines := make(chan line)
	cmds := map[int]*exec.Cmd{} // the peers still running
	start := time.Now()
	stamp := func() string { return fmt.Sprintf("%8.3fs", time.Since(start).Seconds()) }
	for id := 1; id <= peers; id++ {
		args := []string{"-h", hosts, "-id", fmt.Sprint(id),
			"-tcp-port", fmt.Sprint(*port), "-udp-port", fmt.Sprint(*port + 1)}
		if id == 1 {
			args = append(args, "-t")
		} else {
			args = append(args, "-d", fmt.Sprint(2*(id-1)))
		}
		fmt.Printf("%s    start peer %s\n", stamp(), strings.Join(args, " "))
		cmd := exec.Command(*peerBin, args...)
		stderr, err := cmd.StderrPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			stop(cmds, lines, stamp)
			return fail(errors.Wrapf(err, "starting peer %d", id))
		}
		cmds[id] = cmd
		go follow(id, cmd, stderr, lines)
	}

	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, syscall.SIGINT, syscall.SIGTERM)
	deadline := time.After(*timeout)
	last := map[int][]protocol.PeerID{} // each peer's last view
	for {
		select {
		case l := <-lines:
			if l.exited {
				fmt.Printf("%s p%d exited\n", stamp(), l.peer)
				delete(cmds, l.peer)
				continue
			}
			fmt.Printf("%s p%d %s\n", stamp(), l.peer, l.text)
			if pl, err := check.ParseLine(l.text); err == nil && pl.IsView() {
				last[l.peer] = pl.Members
			}
			if reached(cmds, last) {
				fmt.Printf("%s    all live peers at %s: stopping them\n", stamp(), protocol.FormatMembers(finalView))
				stop(cmds, lines, stamp)
				return 0
			}
		case <-deadline:
			fmt.Printf("%s    no agreement on %s within %v: stopping the peers\n", stamp(), protocol.FormatMembers(finalView), *timeout)
			stop(cmds, lines, stamp)
			return 1
		case <-interrupt:
			stop(cmds, lines, stamp)
			return 1
		}
	}
}

// reached reports whether every running peer is at the final view.
func reached(running map[int]*exec.Cmd, last map[int][]protocol.PeerID) bool {
	if len(running) == 0 {
		return false
	}
	for id := range running {
		if !slices.Equal(last[id], finalView) {
			return false
		}
	}
	return true
}

// follow sends the peer's stderr lines, then its exit, to lines.
func follow(id int, cmd *exec.Cmd, stderr io.Reader, lines chan<- line) {
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		lines <- line{peer: id, text: sc.Text()}
	}
	_ = cmd.Wait()
	lines <- line{peer: id, exited: true}
}

// stop sends SIGTERM to the running peers, so that each leaves gracefully,
// prints what they print meanwhile, and kills those still running after
// stopGrace.
func stop(running map[int]*exec.Cmd, lines <-chan line, stamp func() string) {
	for _, cmd := range running {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	grace := time.After(stopGrace)
	for len(running) > 0 {
		select {
		case l := <-lines:
			if l.exited {
				fmt.Printf("%s p%d exited\n", stamp(), l.peer)
				delete(running, l.peer)
			} else {
				fmt.Printf("%s p%d %s\n", stamp(), l.peer, l.text)
			}
		case <-grace:
			for _, cmd := range running {
				_ = cmd.Process.Kill()
			}
			grace = nil // the exits still come through lines
		}
	}
}

// build builds the peer binary into dir.
func build(dir string) (string, error) {
	bin := filepath.Join(dir, "peer")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/memberly/memberly/cmd/peer")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", errors.Wrap(err, "building the peer")
	}
	return bin, nil
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "demo: %v\n", err)
	return 1
}
