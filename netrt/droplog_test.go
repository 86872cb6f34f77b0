package netrt

import (
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// writeDropLog writes what the drop log has queued, as logDrops does while
// Run runs.
func writeDropLog(r *runtime) {
	lines := r.dropLog.queue()
	for {
		select {
		case l := <-lines:
			r.logDrop(l)
		default:
			return
		}
	}
}

// endDropInterval writes the queued lines, then the summaries of the
// interval, as logDrops does when its ticker fires.
func endDropInterval(r *runtime) {
	writeDropLog(r)
	for _, l := range r.dropLog.sum() {
		r.logDrop(l)
	}
}

// dropLogRuntime is a runtime with just what dropping needs, logging to
// logs at level.
func dropLogRuntime(logs *lockedBuffer, level slog.Level) *runtime {
	return &runtime{log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})).With("peer", 1)}
}

// logLines splits a log into its lines, checking that each holds one
// record and no stack trace.
func logLines(t *testing.T, logs string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(logs, "\n"), "\n")
	if logs == "" {
		lines = nil
	}
	for _, l := range lines {
		if strings.Count(l, "time=") != 1 {
			t.Errorf("not one record: %q", l)
		}
		// A stack trace names files (".go:") and functions; a panic's
		// names goroutines. Neither belongs in a log line.
		for _, bad := range []string{".go:", "goroutine", "github.com/", `\n`} {
			if strings.Contains(l, bad) {
				t.Errorf("line holds %q: %s", bad, l)
			}
		}
	}
	return lines
}

// sealErr is what opening junk returns: an error wrapped by pkg/errors,
// which carries a stack trace.
var sealErr = errors.Wrap(errors.New("cipher: message authentication failed"), "open sealed input")

// A flood from one sender: one warning, a few debug lines and a count per
// interval, however many datagrams; a sender silent for an interval is
// forgotten, and its next drop is a warning again.
func TestDropLog_FloodFromOneSender(t *testing.T) {
	var logs lockedBuffer
	r := dropLogRuntime(&logs, slog.LevelDebug)
	src := netip.MustParseAddrPort("10.0.0.9:40312")
	flood := func(n int) {
		for range n {
			r.droppedFrom(dropBadSeal, src, sealErr)
		}
		endDropInterval(r)
	}
	flood(100000)
	flood(50000)
	flood(0)
	flood(1)

	lines := logLines(t, logs.String())
	detail := `level=DEBUG msg="dropping sealed input that does not open with the key it names" peer=1 reason=bad-seal from=10.0.0.9 port=40312 err="open sealed input: cipher: message authentication failed"`
	first := strings.Replace(detail, "DEBUG", "WARN", 1)
	summary := func(n int) string {
		return fmt.Sprintf(`level=WARN msg="dropping sealed input that does not open with the key it names" peer=1 reason=bad-seal from=10.0.0.9 more=%d in_last=10s`, n)
	}
	want := []string{
		first, detail, detail, detail, summary(100000 - 1 - dropDetailLines),
		detail, detail, detail, summary(50000 - dropDetailLines),
		first,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), logs.String())
	}
	stamp := regexp.MustCompile(`^time=\S+ `)
	for i, l := range lines {
		if got := stamp.ReplaceAllString(l, ""); got != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got, want[i])
		}
	}
	if got := r.met.drops[dropBadSeal].Load(); got != 150001 {
		t.Errorf("bad-seal drops counted = %d, want 150001", got)
	}
}

// Without debug logging, a flood is a warning and then a count per
// interval.
func TestDropLog_WarningsOnly(t *testing.T) {
	var logs lockedBuffer
	r := dropLogRuntime(&logs, slog.LevelInfo)
	src := netip.MustParseAddrPort("10.0.0.9:40312")
	for range 3 {
		for range 1000 {
			r.droppedFrom(dropMalformed, src, errNotMessage)
		}
		endDropInterval(r)
	}
	lines := logLines(t, logs.String())
	if len(lines) != 4 {
		t.Fatalf("%d lines, want a warning and three counts:\n%s", len(lines), logs.String())
	}
	for i, more := range []string{"more=999 ", "more=1000 ", "more=1000 "} {
		if !strings.Contains(lines[i+1], more) {
			t.Errorf("line %d does not say %q: %s", i+2, more, lines[i+1])
		}
	}
}

// A flood from ever new (spoofed) addresses: a bounded number of
// warnings per interval, then one count for all the other senders; the
// drop log remembers a bounded number of senders.
func TestDropLog_SpoofedSenders(t *testing.T) {
	var logs lockedBuffer
	r := dropLogRuntime(&logs, slog.LevelDebug)
	const n = 100000
	for interval := range 3 {
		for i := range n {
			a := netip.AddrFrom4([4]byte{byte(10 + interval), byte(i >> 16), byte(i >> 8), byte(i)})
			r.droppedFrom(dropMalformed, netip.AddrPortFrom(a, 9), errNotMessage)
		}
		if len(r.dropLog.counts) > maxDropLogKeys {
			t.Errorf("the drop log tracks %d senders, want at most %d", len(r.dropLog.counts), maxDropLogKeys)
		}
		endDropInterval(r)
	}
	lines := logLines(t, logs.String())
	warnings, others := 0, 0
	for _, l := range lines {
		switch {
		case strings.Contains(l, `from="other senders" more=`):
			others++
		case strings.Contains(l, "level=WARN"):
			warnings++
		}
	}
	if warnings != 3*maxNewDropKeys || others != 3 || len(lines) != warnings+others {
		t.Errorf("%d lines: %d warnings, %d counts of other senders; want %d and 3:\n%s",
			len(lines), warnings, others, 3*maxNewDropKeys, logs.String())
	}
	if !strings.Contains(lines[len(lines)-1], fmt.Sprintf("more=%d ", n-maxNewDropKeys)) {
		t.Errorf("the last count is not of the %d untracked drops: %s", n-maxNewDropKeys, lines[len(lines)-1])
	}
}

// Recording a drop never waits for the log: with nobody writing the lines
// out, the queue fills and the drops that find it full are counted in the
// next summary. Every drop is a line or in a count.
func TestDropLog_NeverWaitsForTheLog(t *testing.T) {
	var logs lockedBuffer
	r := dropLogRuntime(&logs, slog.LevelDebug)
	total := 0
	for i := range maxNewDropKeys {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 9)
		for range 10 {
			r.droppedFrom(dropMalformed, src, errNotMessage)
			total++
		}
	}
	if got := len(r.dropLog.queue()); got != dropLogQueue {
		t.Fatalf("%d lines queued, want the queue full (%d)", got, dropLogQueue)
	}
	endDropInterval(r)
	lines := logLines(t, logs.String())
	accounted := 0
	more := regexp.MustCompile(` more=(\d+) `)
	for _, l := range lines {
		if m := more.FindStringSubmatch(l); m != nil {
			var n int
			fmt.Sscan(m[1], &n)
			accounted += n
		} else {
			accounted++
		}
	}
	if accounted != total {
		t.Errorf("lines and counts account for %d drops, want %d:\n%s", accounted, total, logs.String())
	}
}

// Dropping junk allocates nothing, once the sender is known: neither the
// screen, nor counting, nor the drop log.
func TestDroppedFrom_Allocations(t *testing.T) {
	var logs lockedBuffer
	r := dropLogRuntime(&logs, slog.LevelDebug)
	src := netip.MustParseAddrPort("10.0.0.9:40312")
	junk := []byte{0xde, 0xad, 0xbe, 0xef}
	allocs := testing.AllocsPerRun(1000, func() {
		if reason, err := r.screenDatagram(junk); reason != dropNone {
			r.droppedFrom(reason, src, err)
		}
	})
	if allocs != 0 {
		t.Errorf("dropping junk allocates %v times", allocs)
	}
	if got := r.met.drops[dropMalformed].Load(); got != 1001 {
		t.Errorf("malformed drops = %d, want 1001", got)
	}

	sealed := &runtime{log: r.log, seal: &sealer{}}
	allocs = testing.AllocsPerRun(1000, func() {
		if reason, err := sealed.screenDatagram(junk); reason != dropNone {
			sealed.droppedFrom(reason, src, err)
		}
	})
	if allocs != 0 {
		t.Errorf("dropping junk too short to be sealed allocates %v times", allocs)
	}
}

// What the screen lets through, and what it drops.
func TestScreenDatagram(t *testing.T) {
	clear, sealed := &runtime{}, &runtime{seal: &sealer{}}
	hb := encode(t, protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 1, ViewID: 1, Ballot: protocol.InitialBallot})
	for _, tc := range []struct {
		name    string
		r       *runtime
		payload []byte
		want    dropReason
	}{
		{"clear heartbeat", clear, hb, dropNone},
		{"clear empty", clear, nil, dropMalformed},
		{"clear one byte", clear, hb[:1], dropMalformed},
		{"clear other version", clear, append([]byte{hb[0] + 1}, hb[1:]...), dropMalformed},
		{"clear JOIN", clear, append([]byte{hb[0], byte(protocol.MsgJoin)}, hb[2:]...), dropMalformed},
		{"sealed, long enough", sealed, make([]byte, sealOverhead+2), dropNone},
		{"sealed, too short", sealed, make([]byte, sealOverhead+1), dropBadSeal},
	} {
		if got, err := tc.r.screenDatagram(tc.payload); got != tc.want {
			t.Errorf("%s: %v (%v), want %v", tc.name, got, err, tc.want)
		}
	}
}

// slog's text handler writes an error from pkg/errors with its stack
// trace; errAttr writes its message alone.
func TestErrAttr_NoStackTrace(t *testing.T) {
	var raw, ours lockedBuffer
	slog.New(slog.NewTextHandler(&raw, nil)).Warn("dropping", "err", sealErr)
	if !strings.Contains(raw.String(), ".go:") {
		t.Fatalf("slog wrote a pkg/errors value without its stack: the reason for errAttr is gone?\n%s", raw.String())
	}
	slog.New(slog.NewTextHandler(&ours, nil)).Warn("dropping", errAttr(sealErr))
	logLines(t, ours.String())
	if !strings.Contains(ours.String(), `err="open sealed input: cipher: message authentication failed"`) {
		t.Errorf("errAttr lost the message: %s", ours.String())
	}
	if got := errText(errors.New("two\nlines")); got != "two; lines" {
		t.Errorf("errText of two lines = %q", got)
	}
}
