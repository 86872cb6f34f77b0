package netrt

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

func TestListen_Errors(t *testing.T) {
	port := freePort(t, 1)
	hosts := loopbackHosts(t, 2, port)
	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name string
		opts Options
		want []string // substrings of the error
	}{
		{"address in use", Options{ID: 1, Hosts: hosts, Config: testConfig()},
			[]string{fmt.Sprintf("127.0.0.1:%d", port), "address already in use"}},
		{"id outside hosts", Options{ID: 3, Hosts: hosts, Config: testConfig()},
			[]string{"peer id 3 outside the hosts 1..2"}},
		{"id zero", Options{ID: 0, Hosts: hosts, Config: testConfig()},
			[]string{"peer id 0"}},
		{"no hosts", Options{ID: 1, Config: testConfig()},
			[]string{"no hosts"}},
		{"short key", Options{ID: 2, Hosts: hosts, Config: testConfig(), Keys: [][]byte{testKey(1), make([]byte, 16)}},
			[]string{"key 2 of 16 bytes, want 32"}},
		{"repeated key", Options{ID: 2, Hosts: hosts, Config: testConfig(), Keys: [][]byte{testKey(1), testKey(2), testKey(1)}},
			[]string{"key 3 repeats key 1"}},
		{"bad config", Options{ID: 2, Hosts: hosts},
			[]string{"HeartbeatInterval"}},
		{"bad broadcast address", Options{ID: 2, Hosts: hosts, Config: testConfig(), Broadcast: true, BroadcastAddr: "nowhere"},
			[]string{"broadcast address nowhere"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := Listen(tc.opts)
			if err == nil {
				rt.impl.tcpLn.Close()
				rt.impl.udpConn.Close()
				t.Fatal("Listen succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestListen_BoundAddresses(t *testing.T) {
	port := freePort(t, 2)
	rt, err := Listen(Options{ID: 2, Hosts: loopbackHosts(t, 2, port), Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.impl.tcpLn.Close()
	defer rt.impl.udpConn.Close()
	want := fmt.Sprintf("127.0.0.2:%d", port)
	if got := rt.TCPAddr(); got != want {
		t.Errorf("TCPAddr = %s, want %s", got, want)
	}
	if got := rt.UDPAddr(); got != want {
		t.Errorf("UDPAddr = %s, want %s", got, want)
	}
	if got := rt.Status(); got.ID != 2 || got.ViewID != 0 {
		t.Errorf("Status before Run = %+v, want peer 2 without a view", got)
	}
}
