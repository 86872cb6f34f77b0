package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/memberly/memberly/protocol"
)

// Format renders sc as a scenario file, in the layout of the embedded
// files: description, peers, tags, timing and network (each only with the keys
// that differ from their defaults), the timeline one flow-style entry per
// line in sc's order, expect, liveness, run_for when it is not the one
// Parse would work out, and explore_from when it is set.
//
// For every scenario Parse can return, Parse(name, Format(sc)) gives back
// sc but for Name, File and the actions' Line, which come from where the
// text is read. Two things a Scenario may hold have no key in the file and
// are not written: Timing.Mutation, and a Description's leading or
// trailing white space, which Parse trims. A scenario that Parse would
// reject is written anyway, as faithfully as the format allows, so that
// parsing the result reports what is wrong with it.
func Format(sc Scenario) []byte {
	var b strings.Builder
	if sc.Description != "" {
		writeDescription(&b, sc.Description)
	}
	fmt.Fprintf(&b, "peers: %d\n", sc.Peers)
	writeTags(&b, sc.Tags)
	if sc.Timing.Durable {
		b.WriteString("durable: true\n")
	}
	writeBlock(&b, "timing", timingKeyValues(protocol.DefaultConfig(), sc.Timing))
	writeBlock(&b, "network", networkKeyValues(DefaultNetwork(), sc.Network))

	if len(sc.Timeline) == 0 {
		b.WriteString("timeline: []\n")
	} else {
		b.WriteString("timeline:\n")
	}
	// A network change is written over the network in force before it in
	// the file, which is how Parse reads it back.
	net := sc.Network
	for _, a := range sc.Timeline {
		fmt.Fprintf(&b, "  - %s\n", flow(actionKeyValues(a, &net)))
	}

	var expect []keyValue
	if sc.Expect.View != nil {
		expect = append(expect, keyValue{"view", peerList(sc.Expect.View)})
	}
	if sc.Expect.Leader != 0 {
		expect = append(expect, keyValue{"leader", peerID(sc.Expect.Leader)})
	}
	expect = append(expect, keyValue{"within", duration(sc.Expect.Within)})
	if m := sc.Expect.FalseRemovalsMax; m != nil {
		expect = append(expect, keyValue{"false_removals_max", strconv.Itoa(*m)})
	}
	writeBlock(&b, "expect", expect)

	need := sc.Expect.Within
	if l := sc.Liveness; l != nil {
		kv := []keyValue{{"heal_at", duration(l.HealAt)}, {"within", duration(l.Within)}}
		if l.KeepDown != 0 {
			kv = append(kv, keyValue{"keep_down", strconv.Itoa(l.KeepDown)})
		}
		writeBlock(&b, "liveness", kv)
		need = max(need, l.HealAt+l.Within)
	}
	if sc.RunFor != need {
		fmt.Fprintf(&b, "run_for: %s\n", duration(sc.RunFor))
	}
	if sc.ExploreFrom != 0 {
		fmt.Fprintf(&b, "explore_from: %s\n", duration(sc.ExploreFrom))
	}
	if len(sc.Schedule) > 0 {
		b.WriteString("schedule:\n")
		for _, step := range sc.Schedule {
			fmt.Fprintf(&b, "  - %s\n", strconv.Quote(step))
		}
	}
	return []byte(b.String())
}

// writeTags writes the tags block, a peer a line in id order, or nothing
// when no peer has tags. A peer whose tags are zero is left out, as Parse
// reads {} as no tags.
func writeTags(b *strings.Builder, tags map[protocol.PeerID]protocol.Tags) {
	var kvs []keyValue
	for _, id := range slices.Sorted(maps.Keys(tags)) {
		var pairs []keyValue
		for k, v := range tags[id].All {
			pairs = append(pairs, keyValue{plainOrQuoted(k), plainOrQuoted(v)})
		}
		if len(pairs) > 0 {
			kvs = append(kvs, keyValue{peerID(id), flow(pairs)})
		}
	}
	writeBlock(b, "tags", kvs)
}

// keyValue is one key of a mapping and its value, already written as YAML.
type keyValue struct{ key, value string }

// writeBlock writes a block mapping under key, or nothing if kvs is empty.
func writeBlock(b *strings.Builder, key string, kvs []keyValue) {
	if len(kvs) == 0 {
		return
	}
	fmt.Fprintf(b, "%s:\n", key)
	for _, kv := range kvs {
		fmt.Fprintf(b, "  %s: %s\n", kv.key, kv.value)
	}
}

// flow writes kvs as a flow mapping: {at: 5s, crash: [3]}.
func flow(kvs []keyValue) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = kv.key + ": " + kv.value
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// timingKeyValues lists the timing keys whose values in c differ from
// base, in the order timingKeys gives.
func timingKeyValues(base, c protocol.Config) []keyValue {
	var kvs []keyValue
	durations := []struct {
		key     string
		base, c time.Duration
	}{
		{"heartbeat", base.HeartbeatInterval, c.HeartbeatInterval},
		{"suspect_after", base.SuspectAfter, c.SuspectAfter},
		{"retry", base.RetryInterval, c.RetryInterval},
		{"join_retry", base.JoinRetryInterval, c.JoinRetryInterval},
		{"leave_timeout", base.LeaveTimeout, c.LeaveTimeout},
	}
	for _, d := range durations {
		if d.c != d.base {
			kvs = append(kvs, keyValue{d.key, duration(d.c)})
		}
	}
	if c.Rejoin != base.Rejoin {
		kvs = append(kvs, keyValue{"rejoin", strconv.FormatBool(c.Rejoin)})
	}
	if c.Observers != base.Observers {
		kvs = append(kvs, keyValue{"observers", strconv.Itoa(c.Observers)})
	}
	if c.MaxChangesPerView != base.MaxChangesPerView {
		kvs = append(kvs, keyValue{"max_changes_per_view", strconv.Itoa(c.MaxChangesPerView)})
	}
	if c.BatchWait != base.BatchWait {
		kvs = append(kvs, keyValue{"batch_wait", duration(c.BatchWait)})
	}
	return kvs
}

// networkKeyValues lists the network keys whose values in n differ from
// base, in the order networkKeys gives.
func networkKeyValues(base, n Network) []keyValue {
	var kvs []keyValue
	addDuration := func(key string, base, v time.Duration) {
		if v != base {
			kvs = append(kvs, keyValue{key, duration(v)})
		}
	}
	addPercent := func(key string, base, v float64) {
		if v != base {
			kvs = append(kvs, keyValue{key, percent(v)})
		}
	}
	addDuration("latency_min", base.LatencyMin, n.LatencyMin)
	addDuration("latency_mean", base.LatencyMean, n.LatencyMean)
	if n.LatencyDistribution != base.LatencyDistribution {
		kvs = append(kvs, keyValue{"latency_distribution", plainOrQuoted(n.LatencyDistribution)})
	}
	addPercent("loss_percent", base.LossPercent, n.LossPercent)
	addPercent("duplicate_percent", base.DuplicatePercent, n.DuplicatePercent)
	addPercent("reorder_percent", base.ReorderPercent, n.ReorderPercent)
	addDuration("reorder_delay_max", base.ReorderDelayMax, n.ReorderDelayMax)
	addDuration("timer_lateness_max", base.TimerLatenessMax, n.TimerLatenessMax)
	return kvs
}

// actionKeyValues lists a timeline entry's keys: at, the action, after,
// until.
// A network change is written as the keys where a.SetNetwork differs from
// *net, the network in force before it, and then becomes *net.
func actionKeyValues(a Action, net *Network) []keyValue {
	var v string
	switch a.Kind {
	case ActStart, ActCrash, ActKill, ActRestart, ActLeave, ActCorrupt, ActTear:
		v = peerList(a.Peers)
	case ActEvict, ActIsolate, ActPause, ActHook, ActForceView:
		v = peerID(a.Peer)
	case ActSplit:
		groups := make([]string, len(a.Groups))
		for i, g := range a.Groups {
			groups[i] = peerList(g)
		}
		v = "[" + strings.Join(groups, ", ") + "]"
	case ActCut:
		v = flow([]keyValue{{"from", peerID(a.From)}, {"to", peerID(a.To)}})
	case ActDrop:
		kvs := messageFilterKeyValues(a.Drop.Type, a.Drop.From, a.Drop.To)
		if a.Drop.Count != 1 { // Parse's default
			kvs = append(kvs, keyValue{"count", strconv.Itoa(a.Drop.Count)})
		}
		v = flow(kvs)
	case ActNetwork:
		set := *net
		if a.SetNetwork != nil {
			set = *a.SetNetwork
		}
		v = flow(networkKeyValues(*net, set))
		*net = set
	case ActChurn:
		v = flow([]keyValue{{"interval", duration(a.Churn.Interval)}, {"down_for", duration(a.Churn.DownFor)}})
	default: // not a kind Parse knows: written so that Parse names it
		v = "null"
	}
	kvs := []keyValue{{"at", duration(a.At)}, {plainOrQuoted(string(a.Kind)), v}}
	if t := a.After; t != nil {
		after := messageFilterKeyValues(t.Type, t.From, t.To)
		if t.Delay != 0 { // Parse's default
			after = append(after, keyValue{"delay", duration(t.Delay)})
		}
		if t.BeforeSync {
			after = append(after, keyValue{"fsync", "before"})
		}
		kvs = append(kvs, keyValue{"after", flow(after)})
	}
	if a.Until != 0 {
		kvs = append(kvs, keyValue{"until", duration(a.Until)})
	}
	return kvs
}

// messageFilterKeyValues lists the type, from and to keys of a drop or a
// trigger, each only when it is set.
func messageFilterKeyValues(ty protocol.MsgType, from, to protocol.PeerID) []keyValue {
	var kvs []keyValue
	if ty != 0 {
		kvs = append(kvs, keyValue{"type", plainOrQuoted(ty.String())})
	}
	if from != 0 {
		kvs = append(kvs, keyValue{"from", peerID(from)})
	}
	if to != 0 {
		kvs = append(kvs, keyValue{"to", peerID(to)})
	}
	return kvs
}

// duration writes d the way Parse reads it: 1.5s, 250ms, 1m30s.
func duration(d time.Duration) string { return d.String() }

// percent writes v as the shortest number that reads back as v.
func percent(v float64) string { return fmt.Sprintf("%g", v) }

func peerID(id protocol.PeerID) string { return strconv.FormatUint(uint64(id), 10) }

// peerList writes ids as a flow list: [1, 2, 3].
func peerList(ids []protocol.PeerID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = peerID(id)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// plainOrQuoted writes a word as is if it is a letter followed by
// letters, digits and underscores (uniform, REQ, leader_crash_hook), and
// else double quoted. Words YAML reads as something other than text
// (true, null, and the YAML 1.1 booleans such as yes or off) are quoted.
func plainOrQuoted(s string) string {
	plain := s != "" && isASCIILetter(rune(s[0]))
	for _, r := range s {
		if !(isASCIILetter(r) || r == '_' || r >= '0' && r <= '9') {
			plain = false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "y", "n", "yes", "no", "on", "off":
		plain = false
	}
	if plain {
		return s
	}
	return doubleQuoted(s)
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// descriptionWidth is where the description's folded lines wrap, the
// two-space indent included, as in the embedded files.
const descriptionWidth = 76

// writeDescription writes the description key. One line of plain words is
// written folded (>-) and wrapped; lines of such text kept as they are
// (|-); anything else, such as tabs, control characters, or space at the
// start or end of a line, double quoted with escapes.
func writeDescription(b *strings.Builder, text string) {
	switch {
	case !strings.Contains(text, "\n") && blockSafe(text) && !strings.Contains(text, "  "):
		b.WriteString("description: >-\n")
		for _, line := range wrap(text, descriptionWidth-2) {
			b.WriteString("  " + line + "\n")
		}
	case blockSafe(text):
		b.WriteString("description: |-\n")
		for _, line := range strings.Split(text, "\n") {
			if line == "" {
				b.WriteString("\n")
			} else {
				b.WriteString("  " + line + "\n")
			}
		}
	default:
		b.WriteString("description: " + doubleQuoted(text) + "\n")
	}
}

// blockSafe reports whether text reads back unchanged from a block scalar:
// its lines hold only printable characters and plain spaces, none at
// either end of a line, and it neither starts nor ends with a line break.
func blockSafe(text string) bool {
	if text == "" || strings.HasPrefix(text, "\n") || strings.HasSuffix(text, "\n") {
		return false
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, " ") || strings.HasSuffix(line, " ") {
			return false
		}
		for _, r := range line {
			if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
				return false
			}
		}
	}
	return true
}

// wrap breaks text, whose words are separated by single spaces, into lines
// of at most width characters, but never within a word. Folding joins the
// lines back with single spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Split(text, " ") {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// doubleQuoted writes s as a YAML double-quoted scalar: printable
// characters as they are, the rest as YAML escapes.
func doubleQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			switch {
			case unicode.IsPrint(r) && r != unicode.ReplacementChar:
				b.WriteRune(r)
			case r <= 0xFFFF:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				fmt.Fprintf(&b, `\U%08X`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
