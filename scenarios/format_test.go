package scenarios_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// formatted compares scenarios but for what comes from where the text was
// read rather than from the text.
var formatted = []cmp.Option{
	cmpopts.IgnoreFields(scenarios.Scenario{}, "Name", "File"),
	cmpopts.IgnoreFields(scenarios.Action{}, "Line"),
}

// roundTrip parses Format(sc) and reports how the result differs from sc.
func roundTrip(t *testing.T, what string, sc scenarios.Scenario) {
	t.Helper()
	text := scenarios.Format(sc)
	got, err := scenarios.Parse("formatted.yaml", text)
	if err != nil {
		t.Errorf("%s: Parse(Format(sc)): %v\n%s", what, err, text)
		return
	}
	if diff := cmp.Diff(sc, got, formatted...); diff != "" {
		t.Errorf("%s: Parse(Format(sc)) differs (-sc +parsed):\n%s\n%s", what, diff, text)
	}
}

func TestFormat_RoundTripEmbedded(t *testing.T) {
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		roundTrip(t, sc.Name, sc)
	}
}

func TestFormat_RoundTripFull(t *testing.T) {
	sc, err := scenarios.Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, sc.File, sc)
}

// TestFormat_RoundTripRandom formats the simulator's random scenarios.
// Some break the parser's schedule rules (see generatorBreaks); those are
// logged and skipped, but only when the rule they break explains Parse's
// error, so that a formatting bug cannot hide among them.
func TestFormat_RoundTripRandom(t *testing.T) {
	var skipped []uint64
	for seed := uint64(1); seed <= 2000; seed++ {
		sc := sim.RandomScenario(seed)
		broken := generatorBreaks(sc)
		_, err := scenarios.Parse("formatted.yaml", scenarios.Format(sc))
		switch {
		case broken != "" && err != nil:
			t.Logf("seed %d skipped: RandomScenario breaks a parser rule (%s): %v", seed, broken, err)
			skipped = append(skipped, seed)
		case broken != "":
			t.Errorf("seed %d: RandomScenario breaks a rule (%s), yet Parse accepted its text", seed, broken)
		default:
			roundTrip(t, fmt.Sprintf("seed %d", seed), sc)
		}
	}
	if len(skipped) > 0 {
		t.Logf("%d of 2000 seeds skipped, their scenarios are invalid: %v", len(skipped), skipped)
	}
}

// generatorBreaks names the schedule rule sc breaks, or returns "": a
// timeline entry after the end of the run, or a fault still going on when
// the liveness phase heals everything.
func generatorBreaks(sc scenarios.Scenario) string {
	for _, a := range sc.Timeline {
		if a.At > sc.RunFor {
			return fmt.Sprintf("%s at %v is after run_for %v", a.Kind, a.At, sc.RunFor)
		}
		if l := sc.Liveness; l != nil && max(a.At, a.Until) > l.HealAt {
			return fmt.Sprintf("%s at %v, ending %v, is after liveness heal_at %v", a.Kind, a.At, max(a.At, a.Until), l.HealAt)
		}
	}
	return ""
}

// TestFormat_NetworkChanges checks that a network change is written as
// what differs from the network in force before it in timeline order, not
// in time order, including changes back to a default.
func TestFormat_NetworkChanges(t *testing.T) {
	base := scenarios.DefaultNetwork()
	base.LossPercent = 5
	net := func(change func(*scenarios.Network), prev scenarios.Network) *scenarios.Network {
		change(&prev)
		return &prev
	}
	n1 := net(func(n *scenarios.Network) { n.LossPercent = 0; n.LatencyDistribution = "uniform" }, base)
	n2 := net(func(n *scenarios.Network) { n.ReorderDelayMax = 1500 * time.Microsecond; n.ReorderPercent = 12.25 }, *n1)
	n3 := net(func(*scenarios.Network) {}, *n2) // no change at all
	n4 := net(func(n *scenarios.Network) { n.LatencyDistribution = "exponential"; n.LossPercent = 1e-3 }, *n3)
	sc := scenarios.Scenario{
		Peers:   3,
		Timing:  protocol.DefaultConfig(),
		Network: base,
		Timeline: []scenarios.Action{
			{At: 0, Kind: scenarios.ActStart, Peers: []protocol.PeerID{1, 2, 3}},
			{At: 20 * time.Second, Kind: scenarios.ActNetwork, SetNetwork: n1},
			{At: 10 * time.Second, Kind: scenarios.ActNetwork, SetNetwork: n2},
			{At: 15 * time.Second, Kind: scenarios.ActNetwork, SetNetwork: n3},
			{At: 90 * time.Second, Kind: scenarios.ActNetwork, SetNetwork: n4},
		},
		Expect: scenarios.Expect{Within: 90 * time.Second},
		RunFor: 100 * time.Second,
	}
	roundTrip(t, "network changes", sc)
	text := string(scenarios.Format(sc))
	for _, line := range []string{
		"  loss_percent: 5\n",
		"  - {at: 20s, network: {latency_distribution: uniform, loss_percent: 0}}\n",
		"  - {at: 10s, network: {reorder_percent: 12.25, reorder_delay_max: 1.5ms}}\n",
		"  - {at: 15s, network: {}}\n",
		"  - {at: 1m30s, network: {latency_distribution: exponential, loss_percent: 0.001}}\n",
		"run_for: 1m40s\n",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("Format lacks %q:\n%s", line, text)
		}
	}
}

// TestFormat_Descriptions round-trips descriptions that need a block
// scalar or quoting.
func TestFormat_Descriptions(t *testing.T) {
	long := strings.Repeat("word ", 40) + strings.Repeat("x", 100) + " end."
	for _, d := range []string{
		"",
		"plain",
		long,
		"key: value # not a comment, - not a list, [not] {a flow}, 'single' \"double\" \\ & * ! | > % @ `",
		"two  spaces, and a trailing backslash \\",
		"first line\nsecond line\n\nafter an empty line",
		"line\n  indented line\nline with trailing space \nend",
		"tab\there",
		"carriage\r\nreturn",
		"control \x00 \x01 \x1b \x7f \u0085 \u00a0 \u2028 \u2029 \ufeff \ufffd end",
		"unicode: héllo, 日本語, emoji 🙂, µs",
		"true",
		"12",
		"- starts like a list",
		"# starts like a comment",
		"\"quoted\"",
		"---",
		"...",
		"%YAML",
		"@at",
	} {
		sc := scenarios.Scenario{
			Description: d,
			Peers:       1,
			Timing:      protocol.DefaultConfig(),
			Network:     scenarios.DefaultNetwork(),
			Timeline:    []scenarios.Action{{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}}},
			Expect:      scenarios.Expect{Within: time.Second},
			RunFor:      time.Second,
		}
		roundTrip(t, fmt.Sprintf("description %q", d), sc)
	}
	for _, line := range strings.Split(string(scenarios.Format(scenarios.Scenario{Description: long})), "\n") {
		if n := len([]rune(line)); n > 76 && !strings.Contains(line, "xxxx") {
			t.Errorf("description line of %d characters, above 76: %q", n, line)
		}
	}
}

// TestFormat_Tags round-trips tags whose keys and values YAML would read
// as something other than text unless quoted, and writes a peer a line in
// id order.
func TestFormat_Tags(t *testing.T) {
	tag := func(m map[string]string) protocol.Tags {
		tt, err := protocol.NewTags(m)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	sc := scenarios.Scenario{
		Peers:    12,
		Timing:   protocol.DefaultConfig(),
		Network:  scenarios.DefaultNetwork(),
		Timeline: []scenarios.Action{{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}}},
		Expect:   scenarios.Expect{Within: time.Minute},
		RunFor:   time.Minute,
		Tags: map[protocol.PeerID]protocol.Tags{
			12: tag(map[string]string{"zone": "a"}),
			2: tag(map[string]string{"port": "8080", "on": "yes", "null": "null", "empty": "", "ratio": "0.5",
				"app.kubernetes.io/name": "memberly", "quote": `say "hi": {now} # not a comment`, "unicode": "日本語 µs 🙂"}),
			3: tag(map[string]string{"1": "2", "a-b_c": "-", "x": "[1, 2]"}),
		},
	}
	roundTrip(t, "tags", sc)
	text := string(scenarios.Format(sc))
	if want := "peers: 12\ntags:\n  2: {"; !strings.Contains(text, want) {
		t.Errorf("Format lacks %q:\n%s", want, text)
	}
	if i, j := strings.Index(text, "\n  3: "), strings.Index(text, "\n  12: {zone: a}\n"); i < 0 || j < i {
		t.Errorf("Format does not write peer 3 then peer 12:\n%s", text)
	}
	sc.Tags = nil
	if text := string(scenarios.Format(sc)); strings.Contains(text, "tags") {
		t.Errorf("Format writes tags, which no peer has:\n%s", text)
	}
}

// TestFormat_Durations round-trips durations of every size and unit.
func TestFormat_Durations(t *testing.T) {
	for _, d := range []time.Duration{time.Nanosecond, 1500 * time.Nanosecond, 250 * time.Millisecond,
		1500 * time.Millisecond, 90 * time.Second, time.Hour, 1<<63 - 1} {
		sc := scenarios.Scenario{
			Peers:    1,
			Timing:   protocol.DefaultConfig(),
			Network:  scenarios.DefaultNetwork(),
			Timeline: []scenarios.Action{{At: d, Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}}},
			Expect:   scenarios.Expect{Within: d},
			RunFor:   d,
		}
		sc.Network.LatencyMin = d
		roundTrip(t, fmt.Sprintf("duration %v", d), sc)
	}
}

// TestFormat_Drops round-trips drops of every message type.
func TestFormat_Drops(t *testing.T) {
	sc := scenarios.Scenario{
		Peers:    3,
		Timing:   protocol.DefaultConfig(),
		Network:  scenarios.DefaultNetwork(),
		Timeline: []scenarios.Action{{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}}},
		Expect:   scenarios.Expect{Within: time.Minute},
		RunFor:   time.Minute,
	}
	for ty := protocol.MsgType(1); ty.Valid(); ty++ {
		sc.Timeline = append(sc.Timeline, scenarios.Action{At: time.Second, Kind: scenarios.ActDrop,
			Drop: scenarios.Drop{Type: ty, From: 1, To: 2, Count: int(ty)}})
	}
	sc.Timeline = append(sc.Timeline, scenarios.Action{At: time.Second, Kind: scenarios.ActDrop, Drop: scenarios.Drop{To: 3, Count: 1}})
	roundTrip(t, "drops", sc)
}

// TestFormat_Triggers round-trips triggers of every action that may have
// one, with every field set or left out.
func TestFormat_Triggers(t *testing.T) {
	sc := scenarios.Scenario{
		Peers:    3,
		Timing:   protocol.DefaultConfig(),
		Network:  scenarios.DefaultNetwork(),
		Timeline: []scenarios.Action{{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1, 2, 3}}},
		Expect:   scenarios.Expect{Within: time.Minute},
		RunFor:   time.Minute,
	}
	s := time.Second
	triggered := []scenarios.Action{
		{Kind: scenarios.ActCrash, Peers: []protocol.PeerID{1}},
		{Kind: scenarios.ActKill, Peers: []protocol.PeerID{1, 2}},
		{Kind: scenarios.ActIsolate, Peer: 2, Until: 20 * s},
		{Kind: scenarios.ActSplit, Groups: [][]protocol.PeerID{{1}, {3}}, Until: 20 * s},
		{Kind: scenarios.ActCut, From: 3, To: 1},
		{Kind: scenarios.ActPause, Peer: 3, Until: 20 * s},
		{Kind: scenarios.ActDrop, Drop: scenarios.Drop{Type: protocol.MsgOK, Count: 2}},
	}
	triggers := []scenarios.Trigger{
		{},
		{Type: protocol.MsgNewView, From: 1},
		{Type: protocol.MsgReq, From: 1, To: 3, Delay: 3 * time.Millisecond},
		{To: 2, Delay: time.Nanosecond},
	}
	for i, a := range triggered {
		a.At = 10 * s
		tr := triggers[i%len(triggers)]
		a.After = &tr
		sc.Timeline = append(sc.Timeline, a)
	}
	roundTrip(t, "triggers", sc)
	text := string(scenarios.Format(sc))
	for _, line := range []string{
		"  - {at: 10s, crash: [1], after: {}}\n",
		"  - {at: 10s, kill: [1, 2], after: {type: NEWVIEW, from: 1}}\n",
		"  - {at: 10s, split: [[1], [3]], after: {to: 2, delay: 1ns}, until: 20s}\n",
		"  - {at: 10s, isolate: 2, after: {type: REQ, from: 1, to: 3, delay: 3ms}, until: 20s}\n",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("Format lacks %q:\n%s", line, text)
		}
	}
}

// TestFormat_ExploreFrom checks that explore_from is written when set,
// and only then, and reads back.
func TestFormat_ExploreFrom(t *testing.T) {
	sc := scenarios.Scenario{
		Peers:    3,
		Timing:   protocol.DefaultConfig(),
		Network:  scenarios.DefaultNetwork(),
		Timeline: []scenarios.Action{{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1, 2, 3}}},
		Expect:   scenarios.Expect{Within: 10 * time.Second},
		RunFor:   10 * time.Second,
	}
	if text := string(scenarios.Format(sc)); strings.Contains(text, "explore_from") {
		t.Errorf("Format writes explore_from, which is not set:\n%s", text)
	}
	for _, d := range []time.Duration{time.Nanosecond, 2999500 * time.Microsecond, 3 * time.Second, 10*time.Second - 1} {
		sc.ExploreFrom = d
		roundTrip(t, fmt.Sprintf("explore_from %v", d), sc)
		if text, line := string(scenarios.Format(sc)), "\nexplore_from: "+d.String()+"\n"; !strings.Contains(text, line) {
			t.Errorf("Format lacks %q:\n%s", line[1:], text)
		}
	}
}

// A schedule round-trips, each step as written, quotes and all.
func TestFormat_Schedule(t *testing.T) {
	sc := scenarios.Scenario{
		Peers:       3,
		Timing:      protocol.DefaultConfig(),
		Network:     scenarios.DefaultNetwork(),
		Timeline:    []scenarios.Action{{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1, 2, 3}}},
		Expect:      scenarios.Expect{Within: 10 * time.Second},
		RunFor:      10 * time.Second,
		ExploreFrom: 3 * time.Second,
		Schedule:    []string{"deliver p3->p1", "fire p2 suspect", "lose datagram 0", `odd "step"`},
	}
	roundTrip(t, "schedule", sc)
}

func TestFormat_Readable(t *testing.T) {
	sc, err := scenarios.Load("leader-crash-loss")
	if err != nil {
		t.Fatal(err)
	}
	const want = `description: >-
  Seed case 4: once all five have joined, leader 1 starts DEL 5, sends the
  REQ to 3 and 4 only and crashes; peer 2 takes over, learns DEL 5 from 3
  and 4, completes it, removes 1, and peer 5 rejoins: [2,3,4,5] led by 2.
peers: 5
timeline:
  - {at: 0s, leader_crash_hook: 1}
  - {at: 0s, start: [1]}
  - {at: 2s, start: [2]}
  - {at: 4s, start: [3]}
  - {at: 6s, start: [4]}
  - {at: 8s, start: [5]}
expect:
  view: [2, 3, 4, 5]
  leader: 2
  within: 30s
`
	if diff := cmp.Diff(want, string(scenarios.Format(sc))); diff != "" {
		t.Errorf("Format(leader-crash-loss) (-want +got):\n%s", diff)
	}
}

// FuzzFormat checks that whatever Parse accepts, Format writes so that
// Parse reads it back the same.
func FuzzFormat(f *testing.F) {
	addScenarioFiles(f)
	f.Add([]byte("description: \"a\\tb\\n\\u0000 c \"\npeers: 3\nnetwork: {loss_percent: 1e-9}\n" +
		"timeline: [{at: 1h1m1.5s, network: {loss_percent: 0}}, {at: 0s, network: {loss_percent: 0.5}}]\n" +
		"expect: {within: 1h1m1.5s}\nrun_for: 2h\n"))
	f.Add([]byte("peers: 4\ntimeline: [{at: 0s, start: [1, 2, 3, 4]}, {at: 5s, pause: 2, until: 7s, after: {type: PENDING, from: 2}},\n" +
		"  {at: 6s, drop: {type: OK}, after: {delay: 1.5ms}}, {at: 6s, split: [[1], [4]], after: {type: REQ, from: 1, to: 4, delay: 3ms}, until: 8s}]\n" +
		"expect: {within: 10s}\n"))
	f.Add([]byte("peers: 3\ntimeline: [{at: 0s, start: [1, 2]}, {at: 2.9995s, start: [3]}]\nexpect: {view: [1, 2, 3], leader: 1, within: 10s}\n" +
		"explore_from: 3s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scenarios.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		roundTrip(t, "fuzz", sc)
	})
}
