package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

func ids(v ...protocol.PeerID) []protocol.PeerID { return v }

// tags returns the tags holding the pairs of m, which must be valid.
func tags(t *testing.T, m map[string]string) protocol.Tags {
	t.Helper()
	tt, err := protocol.NewTags(m)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

func TestParse_Full(t *testing.T) {
	const name = "testdata/full.yaml"
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scenarios.Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}

	net := scenarios.Network{
		LatencyMin:          2 * time.Millisecond,
		LatencyMean:         3 * time.Millisecond,
		LatencyDistribution: "uniform",
		LossPercent:         1.5,
		DuplicatePercent:    2,
		ReorderPercent:      3,
		ReorderDelayMax:     40 * time.Millisecond,
	}
	// Each network change applies to the one before it in the file.
	lossy := net
	lossy.LossPercent = 20
	exponential := lossy
	exponential.LatencyDistribution = "exponential"
	exponential.TimerLatenessMax = 20 * time.Millisecond

	s := time.Second
	want := scenarios.Scenario{
		Name:        "full",
		File:        name,
		Description: "Every key at once, folded.",
		Peers:       5,
		Tags: map[protocol.PeerID]protocol.Tags{
			1: tags(t, map[string]string{"role": "db", "zone": "a"}),
			4: tags(t, map[string]string{"port": "8080", "app/name": "memberly node"}),
		},
		Timing: protocol.Config{
			HeartbeatInterval: time.Second,
			SuspectAfter:      3 * time.Second,
			RetryInterval:     400 * time.Millisecond,
			JoinRetryInterval: 2 * time.Second,
			LeaveTimeout:      6 * time.Second,
			Rejoin:            false,
			Durable:           true,
			Observers:         3,
			MaxChangesPerView: 3,
			BatchWait:         50 * time.Millisecond,
		},
		Network: net,
		Timeline: []scenarios.Action{
			{At: 0, Kind: scenarios.ActStart, Line: 28, Peers: ids(1)},
			{At: 1 * s, Kind: scenarios.ActStart, Line: 29, Peers: ids(3, 2)},
			{At: 2 * s, Kind: scenarios.ActCrash, Line: 30, Peers: ids(5)},
			{At: 3 * s, Kind: scenarios.ActKill, Line: 31, Peers: ids(4)},
			{At: 4 * s, Kind: scenarios.ActRestart, Line: 32, Peers: ids(4, 5)},
			{At: 5 * s, Kind: scenarios.ActLeave, Line: 33, Peers: ids(2)},
			{At: 6 * s, Kind: scenarios.ActEvict, Line: 34, Peer: 3},
			{At: 7 * s, Kind: scenarios.ActIsolate, Line: 35, Peer: 3},
			{At: 8 * s, Kind: scenarios.ActIsolate, Line: 36, Peer: 4, Until: 9 * s},
			{At: 10 * s, Kind: scenarios.ActSplit, Line: 37, Groups: [][]protocol.PeerID{ids(1, 2), ids(3, 4, 5)}, Until: 12 * s},
			{At: 11 * s, Kind: scenarios.ActCut, Line: 38, From: 1, To: 2, Until: 13 * s},
			{At: 12 * s, Kind: scenarios.ActDrop, Line: 39, Drop: scenarios.Drop{Type: protocol.MsgReq, From: 1, To: 2, Count: 3}},
			{At: 12500 * time.Millisecond, Kind: scenarios.ActDrop, Line: 40, Drop: scenarios.Drop{Count: 1}},
			{At: 13 * s, Kind: scenarios.ActNetwork, Line: 41, SetNetwork: &lossy},
			{At: 14 * s, Kind: scenarios.ActNetwork, Line: 42, SetNetwork: &exponential},
			{At: 14500 * time.Millisecond, Kind: scenarios.ActPause, Line: 43, Peer: 2, Until: 15500 * time.Millisecond},
			{At: 14600 * time.Millisecond, Kind: scenarios.ActKill, Line: 44, Peers: ids(1),
				After: &scenarios.Trigger{Type: protocol.MsgNewView, From: 1}},
			{At: 14700 * time.Millisecond, Kind: scenarios.ActSplit, Line: 45, Groups: [][]protocol.PeerID{ids(1), ids(3)}, Until: 16 * s,
				After: &scenarios.Trigger{Type: protocol.MsgReq, From: 1, To: 3, Delay: 3 * time.Millisecond}},
			{At: 0, Kind: scenarios.ActHook, Line: 46, Peer: 1},
			{At: 15 * s, Kind: scenarios.ActChurn, Line: 47, Churn: scenarios.Churn{Interval: 5 * s, DownFor: 3 * s}, Until: 20 * s},
			{At: 16 * s, Kind: scenarios.ActKill, Line: 52, Peers: ids(3),
				After: &scenarios.Trigger{Type: protocol.MsgOK, From: 3, BeforeSync: true}},
			{At: 17 * s, Kind: scenarios.ActCorrupt, Line: 53, Peers: ids(3)},
			{At: 17500 * time.Millisecond, Kind: scenarios.ActTear, Line: 54, Peers: ids(4)},
			{At: 18 * s, Kind: scenarios.ActForceView, Line: 55, Peer: 1},
		},
		Expect:   scenarios.Expect{View: ids(1, 2, 4, 5), Leader: 2, Within: 25 * s, FalseRemovalsMax: intPtr(2)},
		Liveness: &scenarios.Liveness{HealAt: 25 * s, Within: 10 * s, KeepDown: 1},
		RunFor:   40 * s,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(%s) mismatch (-want +got):\n%s", name, diff)
	}
}

func TestParse_Defaults(t *testing.T) {
	const minimal = "peers: 3\ntimeline:\n  - {at: 0s, start: [1]}\nexpect:\n  within: 10s\n"
	live := &scenarios.Liveness{HealAt: 12 * time.Second, Within: 20 * time.Second}
	tests := []struct {
		name     string
		data     string
		liveness *scenarios.Liveness
		runFor   time.Duration
	}{
		{"no liveness: expect.within", minimal, nil, 10 * time.Second},
		{"liveness: its end", minimal + "liveness: {heal_at: 12s, within: 20s}\n", live, 32 * time.Second},
		{"run_for wins", minimal + "liveness: {heal_at: 12s, within: 20s}\nrun_for: 1m\n", live, time.Minute},
		{"keep_down", minimal + "liveness: {heal_at: 12s, within: 20s, keep_down: 1}\n",
			&scenarios.Liveness{HealAt: 12 * time.Second, Within: 20 * time.Second, KeepDown: 1}, 32 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scenarios.Parse("dir/minimal.yaml", []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			want := scenarios.Scenario{
				Name:     "minimal",
				File:     "dir/minimal.yaml",
				Peers:    3,
				Timing:   protocol.DefaultConfig(),
				Network:  scenarios.DefaultNetwork(),
				Timeline: []scenarios.Action{{At: 0, Kind: scenarios.ActStart, Line: 3, Peers: ids(1)}},
				Expect:   scenarios.Expect{Within: 10 * time.Second},
				Liveness: tt.liveness,
				RunFor:   tt.runFor,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParse_ExploreFrom(t *testing.T) {
	got, err := scenarios.Parse("x.yaml", []byte(withTop("explore_from: 12s")))
	if err != nil {
		t.Fatal(err)
	}
	want := scenarios.Scenario{
		Name:        "x",
		File:        "x.yaml",
		Peers:       5,
		Timing:      protocol.DefaultConfig(),
		Network:     scenarios.DefaultNetwork(),
		Timeline:    []scenarios.Action{{At: 0, Kind: scenarios.ActStart, Line: 3, Peers: ids(1)}},
		Expect:      scenarios.Expect{Within: 30 * time.Second},
		RunFor:      30 * time.Second,
		ExploreFrom: 12 * time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// Building blocks for bad files: a valid minimal file with one change.
const (
	head = "peers: 5\ntimeline:\n  - {at: 0s, start: [1]}\n" // lines 1-3
	tail = "expect:\n  within: 30s\n"                        // 2 lines
)

// withEntry puts entry on line 4, as the timeline's second entry.
func withEntry(entry string) string { return head + "  - " + entry + "\n" + tail }

// withTop appends top-level keys from line 6 on.
func withTop(extra string) string { return head + tail + extra + "\n" }

func TestParse_Rejects(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		// The document.
		{"empty file", "", "x.yaml:1: empty file"},
		{"syntax error", "peers: 5\ntimeline: [\n", "x.yaml:2: YAML syntax: did not find expected node content"},
		{"syntax error line 1", "a: b: c\n", "x.yaml:1: YAML syntax: mapping values are not allowed in this context"},
		{"not a mapping", "- 1\n- 2\n", "x.yaml:1: the document is a list, not a mapping"},
		{"two documents", withTop("---\npeers: 3"), "x.yaml:6: a second YAML document"},
		{"alias", "peers: &n 5\n" + withTop("run_for: *n")[len("peers: 5\n"):], "x.yaml:6: aliases (*n) are not supported"},

		// Top level.
		{"unknown top key", "peers: 5\npeerz: 5\n", `x.yaml:2: unknown key "peerz" in scenario (known: description, peers,`},
		{"duplicate key", "peers: 5\npeers: 6\n", `x.yaml:2: duplicate key "peers" in scenario (first at line 1)`},
		{"description not text", "description: [a]\n" + head + tail, "x.yaml:1: description: expected text, got a list"},
		{"missing peers", "timeline: []\n", "x.yaml:1: missing peers"},
		{"peers 0", strings.Replace(head, "5", "0", 1) + tail, "x.yaml:1: peers 0 out of range 1..1024"},
		{"peers too many", strings.Replace(head, "5", "1025", 1) + tail, "x.yaml:1: peers 1025 out of range 1..1024"},
		{"peers not a number", strings.Replace(head, "5", "five", 1) + tail, `x.yaml:1: peers: expected a whole number, got "five"`},
		{"missing timeline", "peers: 5\n" + tail, "x.yaml:1: missing timeline"},
		{"empty timeline", "peers: 5\ntimeline: []\n" + tail, "x.yaml:2: timeline is empty"},
		{"timeline not a list", "peers: 5\ntimeline: {at: 1s}\n" + tail, "x.yaml:2: timeline: expected a list of entries"},
		{"missing expect", head, "x.yaml:1: missing expect"},

		// Durations.
		{"bad duration", withTop("run_for: 2x"), `x.yaml:6: bad duration "2x": time: unknown unit "x" in duration "2x"`},
		{"bare number", withTop("run_for: 40"), `x.yaml:6: bad duration "40": durations need a unit, e.g. 2s`},
		{"bare float", withEntry("{at: 1.5, start: [2]}"), `x.yaml:4: bad duration "1.5": durations need a unit, e.g. 2s`},
		{"quoted bare number", withTop(`run_for: "40"`), `x.yaml:6: bad duration "40": durations need a unit, e.g. 2s`},
		{"negative duration", withEntry("{at: -1s, start: [2]}"), `x.yaml:4: bad duration "-1s": must not be negative`},
		{"duration a list", withTop("run_for: [1s]"), "x.yaml:6: run_for: expected a duration like 2s or 500ms, got a list"},

		// Tags.
		{"tags not a mapping", withTop("tags: [1]"), "x.yaml:6: tags: expected a mapping of peer ids to their tags, like 1: {zone: a}, got a list"},
		{"tags peer out of range", withTop("tags:\n  9: {zone: a}"), "x.yaml:7: peer 9 out of range 1..5"},
		{"tags peer not a number", withTop("tags:\n  one: {zone: a}"), `x.yaml:7: tags: expected a whole number, got "one"`},
		{"tags peer twice", withTop("tags:\n  1: {zone: a}\n  1: {zone: b}"), "x.yaml:8: tags: peer 1 given twice (first at line 7)"},
		{"tags of a peer not a mapping", withTop("tags:\n  1: zone=a"),
			`x.yaml:7: tags of peer 1: expected a mapping of keys to values, like {zone: a}, got "zone=a"`},
		{"tag key bad", withTop("tags:\n  1:\n    zone: a\n    \"bad key\": b"),
			`x.yaml:9: tags of peer 1: protocol: bad tags: key "bad key": byte ' ' is not a letter, digit or one of ._-/`},
		{"tag key empty", withTop(`tags: {2: {"": a}}`), `x.yaml:6: tags of peer 2: protocol: bad tags: key "" must be 1 to 64 bytes`},
		{"tag key a list", withTop("tags: {2: {[a]: b}}"), "x.yaml:6: tags of peer 2: expected a key, got a list"},
		{"tag key twice", withTop("tags:\n  1:\n    zone: a\n    zone: b"), `x.yaml:9: tags of peer 1: key "zone" given twice (first at line 8)`},
		{"tag value missing", withTop("tags:\n  1: {zone: }"), `x.yaml:7: tags of peer 1: value of "zone": expected text, got nothing`},
		{"tag value a list", withTop("tags:\n  1: {zone: [a]}"), `x.yaml:7: tags of peer 1: value of "zone": expected text, got a list`},
		{"tag value control character", withTop("tags:\n  1: {zone: \"a\\tb\"}"),
			`x.yaml:7: tags of peer 1: protocol: bad tags: value of "zone" holds a control character`},
		{"tag value too long", withTop("tags:\n  1: {zone: " + strings.Repeat("x", 600) + "}"),
			`x.yaml:7: tags of peer 1: protocol: bad tags: more than 512 bytes (at key "zone")`},
		{"tags too many bytes together", withTop("tags:\n  1:\n    a: " + strings.Repeat("x", 300) + "\n    b: " + strings.Repeat("y", 300)),
			`x.yaml:8: tags of peer 1: protocol: bad tags: more than 512 bytes (at key "b")`},

		// Timing.
		{"unknown timing key", withTop("timing:\n  heartbeet: 1s"), `x.yaml:7: unknown key "heartbeet" in timing`},
		{"timing invalid", withTop("timing:\n  heartbeat: 2s\n  suspect_after: 1s"),
			"x.yaml:6: timing: invalid config: SuspectAfter 1s must be at least twice HeartbeatInterval 2s"},
		{"timing zero", withTop("timing:\n  retry: 0s"), "x.yaml:6: timing: invalid config: RetryInterval is 0s, must be positive"},
		{"rejoin not a bool", withTop("timing:\n  rejoin: yes"), `x.yaml:7: rejoin: expected true or false, got "yes"`},
		{"observers too few", withTop("timing:\n  observers: 1"), `x.yaml:7: observers 1: want 2..1024 (members watching each member)`},
		{"observers too many", withTop("timing:\n  observers: 5000"), `x.yaml:7: observers 5000: want 2..1024 (members watching each member)`},
		{"observers not a number", withTop("timing:\n  observers: eight"), `x.yaml:7: observers: expected a whole number, got "eight"`},
		{"max changes per view 0", withTop("timing:\n  max_changes_per_view: 0"), "x.yaml:7: max_changes_per_view 0: a view change decides at least 1 operation"},
		{"max changes per view negative", withTop("timing:\n  heartbeat: 1s\n  max_changes_per_view: -2"), "x.yaml:8: max_changes_per_view -2: a view change decides at least 1 operation"},
		{"max changes per view above the limit", withTop("timing:\n  max_changes_per_view: 5000"), "x.yaml:7: max_changes_per_view 5000: above 64"},
		{"max changes per view not a count", withTop("timing:\n  max_changes_per_view: 2s"), `x.yaml:7: max_changes_per_view: expected a whole number, got "2s"`},
		{"timing not a mapping", withTop("timing: 1s"), `x.yaml:6: timing: expected a mapping of keys (heartbeat,`},

		// Network.
		{"loss over 100", withTop("network:\n  loss_percent: 120"), "x.yaml:7: loss_percent 120 outside 0..100"},
		{"loss NaN", withTop("network:\n  loss_percent: .nan"), "x.yaml:7: loss_percent NaN outside 0..100"},
		{"loss with %", withTop("network:\n  loss_percent: 20%"), `x.yaml:7: loss_percent: expected a number in 0..100, got "20%"`},
		{"bad distribution", withTop("network:\n  latency_distribution: normal"),
			`x.yaml:7: latency_distribution "normal" is not one of exponential, uniform`},
		{"unknown network key", withTop("network:\n  loss: 1"), `x.yaml:7: unknown key "loss" in network`},

		// Timeline entries.
		{"entry not a mapping", withEntry("start"), `x.yaml:4: timeline entry: expected a mapping`},
		{"unknown entry key", withEntry("{at: 1s, crsh: [2]}"), `x.yaml:4: unknown key "crsh" in timeline entry`},
		{"two actions", withEntry("{at: 1s, start: [2], crash: [1]}"), "x.yaml:4: timeline entry has two actions (start, crash)"},
		{"three actions", withEntry("{kill: [2], at: 1s, start: [2], crash: [1]}"), "x.yaml:4: timeline entry has three actions (kill, start, crash)"},
		{"no action", withEntry("{at: 1s}"), "x.yaml:4: timeline entry has no action (one of start, crash,"},
		{"no at", withEntry("{start: [2]}"), "x.yaml:4: timeline entry has no at"},
		{"peer out of range", withEntry("{at: 1s, start: [2, 7]}"), "x.yaml:4: peer 7 out of range 1..5"},
		{"peer 0", withEntry("{at: 1s, evict: 0}"), "x.yaml:4: peer 0 out of range 1..5"},
		{"peer listed twice", withEntry("{at: 1s, crash: [2, 2]}"), "x.yaml:4: crash: peer 2 listed twice"},
		{"empty peer list", withEntry("{at: 1s, kill: []}"), "x.yaml:4: kill: the list of peers is empty"},
		{"peers not a list", withEntry("{at: 1s, start: 2}"), `x.yaml:4: start: expected a list of peer ids like [1, 2], got "2"`},
		{"until not after at", withEntry("{at: 10s, isolate: 3, until: 5s}"), "x.yaml:4: until (5s) is not after at (10s)"},
		{"until equal to at", withEntry("{at: 10s, isolate: 3, until: 10s}"), "x.yaml:4: until (10s) is not after at (10s)"},
		{"until on crash", withEntry("{at: 1s, crash: [3], until: 5s}"), "x.yaml:4: until is only allowed with isolate, split, cut, pause, churn"},
		{"pause a list", withEntry("{at: 1s, pause: [3]}"), "x.yaml:4: pause: expected a whole number, got a list"},
		{"pause out of range", withEntry("{at: 1s, pause: 6}"), "x.yaml:4: peer 6 out of range 1..5"},
		{"after on start", withEntry("{at: 1s, start: [2], after: {type: REQ}}"),
			"x.yaml:4: after is only allowed with crash, kill, isolate, split, cut, pause, drop, evict"},
		{"after not a mapping", withEntry("{at: 1s, kill: [2], after: REQ}"), `x.yaml:4: after: expected a mapping of keys (type, from, to, delay, fsync), got "REQ"`},
		{"after unknown key", withEntry("{at: 1s, kill: [2], after: {typ: REQ}}"), `x.yaml:4: unknown key "typ" in after (known: type, from, to, delay, fsync)`},
		{"after unknown type", withEntry("{at: 1s, kill: [2], after: {type: DECIDE}}"), `x.yaml:4: unknown message type "DECIDE"`},
		{"after from == to", withEntry("{at: 1s, kill: [2], after: {from: 2, to: 2}}"), "x.yaml:4: after from 2 to 2 matches nothing: from and to must differ"},
		{"after from out of range", withEntry("{at: 1s, kill: [2], after: {from: 9}}"), "x.yaml:4: peer 9 out of range 1..5"},
		{"after negative delay", withEntry("{at: 1s, kill: [2], after: {delay: -3ms}}"), `x.yaml:4: bad duration "-3ms": must not be negative`},
		{"after bare delay", withEntry("{at: 1s, kill: [2], after: {delay: 3}}"), `x.yaml:4: bad duration "3": durations need a unit, e.g. 2s`},
		{"after twice", withEntry("{at: 1s, kill: [2], after: {}, after: {}}"), `x.yaml:4: duplicate key "after" in timeline entry`},
		{"fsync without durable", withEntry("{at: 1s, kill: [2], after: {type: OK, fsync: before}}"),
			"x.yaml:4: after fsync: before needs durable peers, which sync their state: add durable: true"},
		{"fsync on a cut", withEntry("{at: 1s, cut: {from: 1, to: 2}, after: {fsync: before}}"), "x.yaml:4: after fsync is only allowed with crash and kill"},
		{"fsync with a delay", withEntry("{at: 1s, kill: [2], after: {delay: 1ms, fsync: before}}"), "x.yaml:4: after fsync needs no delay"},
		{"fsync bad value", withEntry("{at: 1s, kill: [2], after: {fsync: soon}}"), `x.yaml:4: after fsync: expected before or after, got "soon"`},
		{"corrupt without durable", withEntry("{at: 1s, corrupt: [2]}"), "x.yaml:4: corrupt damages a state file, which only durable peers keep: add durable: true"},
		{"tear without durable", withEntry("{at: 1s, tear: [2]}"), "x.yaml:4: tear damages a state file"},
		{"pause until before at", withEntry("{at: 10s, pause: 3, until: 9s}"), "x.yaml:4: until (9s) is not after at (10s)"},
		{"split overlapping", withEntry("{at: 1s, split: [[1, 2], [2, 3]]}"), "x.yaml:4: peer 2 is in two split groups"},
		{"split one group", withEntry("{at: 1s, split: [[1, 2]]}"), "x.yaml:4: split needs at least 2 groups, got 1"},
		{"split empty group", withEntry("{at: 1s, split: [[1, 2], []]}"), "x.yaml:4: split group: the list of peers is empty"},
		{"cut from == to", withEntry("{at: 1s, cut: {from: 2, to: 2}}"), "x.yaml:4: cut from 2 to 2: from and to must differ"},
		{"cut without to", withEntry("{at: 1s, cut: {from: 2}}"), "x.yaml:4: cut needs both from and to"},
		{"unknown message type", withEntry("{at: 1s, drop: {type: REQQ}}"),
			`x.yaml:4: unknown message type "REQQ" (one of HEARTBEAT, JOIN, REDIRECT, REQ, OK, NACK, NEWVIEW, NEWLEADER, PENDING, NOTMEMBER, LEAVE)`},
		{"drop count 0", withEntry("{at: 1s, drop: {count: 0}}"), "x.yaml:4: drop count 0 must be at least 1"},
		{"drop from == to", withEntry("{at: 1s, drop: {from: 3, to: 3}}"), "x.yaml:4: drop from 3 to 3 matches nothing"},
		{"network change bad", withEntry("{at: 1s, network: {duplicate_percent: -1}}"), "x.yaml:4: duplicate_percent -1 outside 0..100"},
		{"churn interval 0", withEntry("{at: 1s, churn: {interval: 0s, down_for: 1s}}"), "x.yaml:4: churn interval must be positive, got 0s"},
		{"churn down_for negative", withEntry("{at: 1s, churn: {interval: 1s, down_for: -1s}}"), `x.yaml:4: bad duration "-1s": must not be negative`},
		{"churn missing down_for", withEntry("{at: 1s, churn: {interval: 1s}}"), "x.yaml:4: churn needs both interval and down_for"},
		{"churn with 2 peers", "peers: 2\ntimeline:\n  - {at: 1s, churn: {interval: 1s, down_for: 1s}}\n" + tail,
			"x.yaml:3: churn needs at least 3 peers"},

		// Expectations.
		{"view not sorted", head + "expect:\n  view: [1, 3, 2]\n  within: 10s\n", "x.yaml:5: expect.view is not sorted: 2 after 3"},
		{"view duplicated", head + "expect:\n  view: [1, 1]\n  within: 10s\n", "x.yaml:5: expect.view lists peer 1 twice"},
		{"view out of range", head + "expect:\n  view: [1, 6]\n  within: 10s\n", "x.yaml:5: peer 6 out of range 1..5"},
		{"view empty", head + "expect:\n  view: []\n  within: 10s\n", "x.yaml:5: expect.view is empty"},
		{"leader not in view", head + "expect:\n  view: [1, 2]\n  leader: 3\n  within: 10s\n", "x.yaml:6: expect.leader 3 is not in expect.view [1,2]"},
		{"expect without within", head + "expect:\n  leader: 1\n", "x.yaml:4: expect needs within"},
		{"expect within 0", head + "expect:\n  within: 0s\n", "x.yaml:5: expect.within must be positive, got 0s"},
		{"liveness without within", withTop("liveness:\n  heal_at: 30s"), "x.yaml:6: liveness needs both heal_at and within"},
		{"schedule without explore_from", withTop("schedule: [action]"), "schedule needs explore_from"},
		{"schedule not a list", withTop("explore_from: 1s\nschedule: action"), "schedule: expected a list of steps"},
		{"keep_down half", withTop("liveness: {heal_at: 30s, within: 10s, keep_down: 3}"),
			"liveness.keep_down 3: want 0 up to fewer than half of the 5 peers"},
		{"keep_down negative", withTop("liveness: {heal_at: 30s, within: 10s, keep_down: -1}"), "liveness.keep_down -1"},
		{"keep_down not a number", withTop("liveness: {heal_at: 30s, within: 10s, keep_down: two}"),
			"liveness.keep_down: expected a whole number"},
		{"heal_at before last action", head + "  - {at: 20s, isolate: 2, until: 45s}\n" + tail + "liveness: {heal_at: 40s, within: 10s}\n",
			"x.yaml:7: liveness heal_at 40s is before the last timeline action (45s, line 4)"},
		{"expect after heal", head + tail + "liveness: {heal_at: 20s, within: 10s}\n",
			"x.yaml:5: expect.within 30s is after liveness heal_at 20s"},
		{"run_for too short", withTop("run_for: 5s"), "x.yaml:6: run_for 5s is shorter than the checks need (30s)"},
		{"run_for short of liveness", withTop("liveness: {heal_at: 30s, within: 10s}\nrun_for: 35s"),
			"x.yaml:7: run_for 35s is shorter than the checks need (40s)"},
		{"entry after the run", withEntry("{at: 31s, crash: [1]}"), "x.yaml:4: timeline entry at 31s never happens: the run ends at 30s"},

		// Exploring.
		{"explore_from 0", withTop("explore_from: 0s"), "x.yaml:6: explore_from must be positive, got 0s"},
		{"explore_from negative", withTop("explore_from: -1s"), `x.yaml:6: bad duration "-1s": must not be negative`},
		{"explore_from bare number", withTop("explore_from: 12"), `x.yaml:6: bad duration "12": durations need a unit, e.g. 2s`},
		{"explore_from at the end", withTop("explore_from: 30s"),
			"x.yaml:6: explore_from 30s is not before the end of the run (30s): there would be nothing left to explore"},
		{"explore_from after the end", withTop("run_for: 40s\nexplore_from: 41s"),
			"x.yaml:7: explore_from 41s is not before the end of the run (40s)"},
		{"explore_from with churn", withEntry("{at: 1s, churn: {interval: 2s, down_for: 1s}, until: 9s}") + "explore_from: 12s\n",
			"x.yaml:7: explore_from cannot go with churn (line 4): churn kills and restarts peers drawn at random, " +
				"and an exploration must start from one deterministic state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scenarios.Parse("x.yaml", []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q; got %+v\nfile:\n%s", tt.want, s, tt.data)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error\n  %v\nwant it to contain\n  %s\nfile:\n%s", err, tt.want, tt.data)
			}
		})
	}
}

// The timing error keeps protocol.ErrConfig in its chain, so callers can
// tell a bad configuration from a malformed file.
func TestParse_TimingWrapsConfigError(t *testing.T) {
	_, err := scenarios.Parse("x.yaml", []byte(withTop("timing:\n  leave_timeout: 1ms")))
	if !errors.Is(err, protocol.ErrConfig) {
		t.Errorf("Parse error %v does not wrap protocol.ErrConfig", err)
	}
}

// A bad tag's error keeps protocol.ErrBadTags in its chain, as the
// runtime's own refusal of the same tags does.
func TestParse_TagsWrapBadTags(t *testing.T) {
	_, err := scenarios.Parse("x.yaml", []byte(withTop("tags: {1: {\"a b\": c}}")))
	if !errors.Is(err, protocol.ErrBadTags) {
		t.Errorf("Parse error %v does not wrap protocol.ErrBadTags", err)
	}
}

// Tag values are taken as written, whatever YAML would read them as, and
// a peer given no pairs has no tags.
func TestParse_Tags(t *testing.T) {
	got, err := scenarios.Parse("x.yaml", []byte(withTop("tags:\n  1: {port: 8080, ratio: 0.50, on: true, empty: \"\"}\n  2: {}\n  5: {zone: eu-west}")))
	if err != nil {
		t.Fatal(err)
	}
	want := map[protocol.PeerID]protocol.Tags{
		1: tags(t, map[string]string{"port": "8080", "ratio": "0.50", "on": "true", "empty": ""}),
		5: tags(t, map[string]string{"zone": "eu-west"}),
	}
	if diff := cmp.Diff(want, got.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

// wantNames are the scenarios the simulator engineer runs; a file added or
// renamed must be added here on purpose.
var wantNames = []string{
	"batch-join", "batch-lost-decision", "batch-wait-join", "cascading-leader-crash", "churn", "crash-during-join", "cross-view-add", "cross-view-del",
	"durable-accept-kept", "durable-all-restart", "durable-corrupt-state", "durable-crash-after-fsync", "durable-crash-before-fsync", "durable-force-view",
	"durable-majority-restart", "durable-two-lowest", "evict", "explore-batch", "explore-durable", "explore-four", "explore-restart",
	"explore-tags", "explore-three", "flapping-link", "join", "join-storm", "keep-down", "kill-after-decision", "late-timers", "leader-crash-loss",
	"leave", "lossy-60s", "lossy-heartbeats", "lost-decision", "mass-join", "multi-crash",
	"observers-bad-link", "observers-crash", "observers-leader-crash", "observers-unwatched-leader", "partition-heal", "partition-minority-leader",
	"pause-after-decision", "pause-leader", "restart-founder", "restart-rejoin", "single-crash", "tags", "tags-recovery",
}

func TestEmbedded_AllParse(t *testing.T) {
	if diff := cmp.Diff(wantNames, scenarios.Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(wantNames) {
		t.Fatalf("All() returned %d scenarios, want %d", len(all), len(wantNames))
	}
	for i, s := range all {
		if s.Name != wantNames[i] || s.File != "scenarios/"+wantNames[i]+".yaml" {
			t.Errorf("All()[%d] is %s from %s, want %s", i, s.Name, s.File, wantNames[i])
		}
		if s.Description == "" {
			t.Errorf("%s has no description", s.File)
		}
	}
}

func TestLoad_PathAndName(t *testing.T) {
	byName, err := scenarios.Load("join")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("join.yaml") // tests run in the package directory
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "join.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	byPath, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if byName.File != "scenarios/join.yaml" || byPath.File != path {
		t.Errorf("File = %q by name, %q by path; want scenarios/join.yaml, %s", byName.File, byPath.File, path)
	}
	byPath.File = byName.File
	if diff := cmp.Diff(byName, byPath); diff != "" {
		t.Errorf("Load by name and by path differ (-name +path):\n%s", diff)
	}

	_, err = scenarios.Load("nope")
	if err == nil || !strings.Contains(err.Error(), `unknown scenario "nope"`) || !strings.Contains(err.Error(), strings.Join(wantNames, ", ")) {
		t.Errorf(`Load("nope") error = %v, want one naming the known scenarios`, err)
	}
}

// errorAt is the form every Parse error takes.
var errorAt = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*: `)

// FuzzParse checks that no input makes Parse panic, that every error names
// file:line, and that what it accepts keeps the invariants it promises.
func FuzzParse(f *testing.F) {
	addScenarioFiles(f)
	for _, s := range []string{"", "peers: 5\ntimeline: [\n", "- 1\n", withEntry("{at: 1s, split: [[1, 2], [2, 3]]}"),
		withEntry("{at: 1s, pause: 3, after: {type: OK, to: 1, delay: 1ms}, until: 2s}"), withEntry("{at: 1s, crash: [2], after: {}}"),
		withTop("liveness: {heal_at: 2562047h, within: 2562047h}"), "a: &a [*a]\n", withTop("explore_from: 12s"),
		withEntry("{at: 1s, churn: {interval: 2s, down_for: 1s}}") + "explore_from: 12s\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Parse("fuzz.yaml", data)
		if err != nil {
			if !errorAt.MatchString(err.Error()) {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		if s.Peers < 1 || s.Peers > protocol.MaxPeers || len(s.Timeline) == 0 || s.Expect.Within <= 0 {
			t.Fatalf("accepted a scenario breaking its invariants: %+v", s)
		}
		if s.RunFor < s.Expect.Within || (s.Liveness != nil && s.RunFor < s.Liveness.HealAt+s.Liveness.Within) {
			t.Fatalf("RunFor %v too short: %+v", s.RunFor, s)
		}
		if err := s.Timing.Validate(); err != nil {
			t.Fatalf("accepted invalid timing: %v", err)
		}
		if s.ExploreFrom != 0 {
			if s.ExploreFrom < 0 || s.ExploreFrom >= s.RunFor {
				t.Fatalf("accepted explore_from %v outside (0, RunFor %v)", s.ExploreFrom, s.RunFor)
			}
			for _, a := range s.Timeline {
				if a.Kind == scenarios.ActChurn {
					t.Fatalf("accepted explore_from with churn at line %d", a.Line)
				}
			}
		}
	})
}

// addScenarioFiles seeds a fuzz corpus with every embedded scenario and
// testdata/full.yaml, which uses every key.
func addScenarioFiles(f *testing.F) {
	for _, name := range append(scenarios.Names(), "testdata/full") {
		data, err := os.ReadFile(name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func intPtr(n int) *int { return &n }
