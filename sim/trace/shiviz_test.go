package trace_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
	"github.com/memberly/memberly/sim/trace"
)

// TestWriteShiViz_Sample checks the exact log for sampleTrace. The clocks
// were worked out by hand: each host's own entry counts its events; a
// delivery takes the maximum with its send's clock first (p1's JOIN
// delivery gets p2:2, p2's NEWVIEW delivery gets p1:7, and the heartbeat's
// duplicate copy, delivered before the original, gets its original send's
// p2:5); the drop is p1's event; the network-wide faults are left out.
func TestWriteShiViz_Sample(t *testing.T) {
	var buf bytes.Buffer
	if err := trace.WriteShiViz(&buf, sampleTrace()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`(?<host>\S*) (?<clock>{.*})\n(?<event>.*)`,
		``,
		`p1 {"p1":1}`,
		`0.000s fault: start p1 (incarnation 1)`,
		`p1 {"p1":2}`,
		`0.000s note: {peer_id:1, view_id: 1, leader: 1, memb_list: [1]}`,
		`p2 {"p2":1}`,
		`2.000s fault: start p2 (incarnation 1)`,
		`p2 {"p2":2}`,
		`2.000s send JOIN 2->1 ADD 2#1`,
		`p1 {"p1":3,"p2":2}`,
		`2.005s deliver JOIN 2->1 ADD 2#1`,
		`p1 {"p1":4,"p2":2}`,
		`2.005s send REQ 1->3 b=(0,1) v=1 ADD 2#1`,
		`p1 {"p1":5,"p2":2}`,
		`2.005s drop: loss: REQ 1->3 b=(0,1) v=1 ADD 2#1`,
		`p1 {"p1":6,"p2":2}`,
		`2.005s note: {peer_id:1, view_id: 2, leader: 1, memb_list: [1,2]}`,
		`p1 {"p1":7,"p2":2}`,
		`2.005s send NEWVIEW 1->2 b=(0,1) v=2 [1,2] by ADD 2#1`,
		`p2 {"p1":7,"p2":3}`,
		`2.010s deliver NEWVIEW 1->2 b=(0,1) v=2 [1,2] by ADD 2#1`,
		`p2 {"p1":7,"p2":4}`,
		`2.010s note: {peer_id:2, view_id: 2, leader: 1, memb_list: [1,2]}`,
		`p3 {"p3":1}`,
		`3.000s fault: crash p3 <boom> & "more"`,
		`p3 {"p3":2}`,
		`3.000s note: {peer_id:3, view_id: 0, leader: 0, message:"crashing"}`,
		`p1 {"p1":8,"p2":2}`,
		`4.000s note: {peer_id:1, view_id: 2, leader: 1, message:"peer 3 unreachable"}`,
		`p2 {"p1":7,"p2":5}`,
		`4.500s send HEARTBEAT 2->1 b=(0,1) v=2`,
		`p1 {"p1":9,"p2":5}`,
		`4.501s deliver HEARTBEAT 2->1 b=(0,1) v=2`,
		`p1 {"p1":10,"p2":5}`,
		`4.503s deliver HEARTBEAT 2->1 b=(0,1) v=2`,
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ShiViz log (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Error("log does not end in a newline")
	}
}

// TestWriteShiViz_OneLinePerEvent: a line break inside a fault's text must
// not split the event, or the rest of the log would be misparsed.
func TestWriteShiViz_OneLinePerEvent(t *testing.T) {
	var buf bytes.Buffer
	events := []sim.TraceEvent{{Kind: sim.TraceFault, Peer: 2, Reason: "two\nlines\r\nhere"}}
	if err := trace.WriteShiViz(&buf, events); err != nil {
		t.Fatal(err)
	}
	want := "(?<host>\\S*) (?<clock>{.*})\\n(?<event>.*)\n\np2 {\"p2\":1}\n0.000s fault: two lines here\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("ShiViz log (-want +got):\n%s", diff)
	}
}

func TestWriteShiViz_WriteError(t *testing.T) {
	if err := trace.WriteShiViz(failingWriter{}, sampleTrace()); err != errWrite {
		t.Errorf("WriteShiViz to a failing writer = %v, want %v", err, errWrite)
	}
}

// TestWriteShiViz_RealRun checks a real run's log against what ShiViz
// itself insists on, and more: each host's own entry goes 1, 2, 3, ...;
// every other entry names an event of that host already written (so the
// clocks point only backwards); and a host's clock never goes down.
func TestWriteShiViz_RealRun(t *testing.T) {
	sc, err := scenarios.Load("leader-crash-loss")
	if err != nil {
		t.Fatal(err)
	}
	res := sim.Run(sc, sim.Options{Seed: 1, Trace: true})
	var buf bytes.Buffer
	if err := trace.WriteShiViz(&buf, res.Trace); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) < 4 || lines[1] != "" || len(lines)%2 != 0 {
		t.Fatalf("log has %d lines, second %q: want the regexp, an empty line, then pairs", len(lines), lines[1])
	}
	count := map[string]uint64{}           // events written per host
	last := map[string]map[string]uint64{} // each host's latest clock
	deliveries := 0
	for i := 2; i < len(lines); i += 2 {
		host, clockText, ok := strings.Cut(lines[i], " ")
		if !ok {
			t.Fatalf("line %d: %q is not \"host clock\"", i+1, lines[i])
		}
		var clock map[string]uint64
		if err := json.Unmarshal([]byte(clockText), &clock); err != nil {
			t.Fatalf("line %d: clock %q: %v", i+1, clockText, err)
		}
		if clock[host] != count[host]+1 {
			t.Fatalf("line %d: %s's own entry is %d after %d events", i+1, host, clock[host], count[host])
		}
		for h, v := range clock {
			if h != host && (v < 1 || v > count[h]) {
				t.Fatalf("line %d: entry %s:%d, but %s has %d events so far", i+1, h, v, h, count[h])
			}
		}
		for h, v := range last[host] {
			if clock[h] < v {
				t.Fatalf("line %d: %s's entry for %s went down from %d to %d", i+1, host, h, v, clock[h])
			}
		}
		count[host]++
		last[host] = clock
		ev := lines[i+1]
		if _, rest, ok := strings.Cut(ev, "s "); !ok || rest == "" {
			t.Fatalf("line %d: event %q lacks its time", i+2, ev)
		}
		if strings.Contains(ev, " deliver ") {
			deliveries++
		}
	}
	if uint64(deliveries) != res.Delivered {
		t.Errorf("%d deliveries in the log, the run delivered %d", deliveries, res.Delivered)
	}
	hosts := make([]string, 0, len(count))
	for h := range count {
		hosts = append(hosts, h)
	}
	if len(hosts) != sc.Peers {
		t.Errorf("hosts %v, want one per peer (%d)", hosts, sc.Peers)
	}
	t.Logf("%d events over %d hosts, %s bytes", (len(lines)-2)/2, len(hosts), strconv.Itoa(buf.Len()))
}
