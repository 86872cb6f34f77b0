package netrt

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFreshness_Judge(t *testing.T) {
	f := newFreshness(2*time.Second, 1)
	now := time.Unix(1000, 0)
	type verdict struct {
		Reason string
		Skew   time.Duration
	}
	var got []verdict
	for _, stamp := range []uint64{998e9 - 1, 998e9, 999e9, 1000e9, 1002e9, 1002e9 + 1, 2000e9, 0} {
		reason, skew := f.judge(stamp, now)
		got = append(got, verdict{reason.String(), skew})
	}
	want := []verdict{
		{"stale-stamp", -2*time.Second - 1}, {accepted, -2 * time.Second}, {accepted, -time.Second}, {accepted, 0},
		{accepted, 2 * time.Second}, {"future-stamp", 2*time.Second + 1}, {"future-stamp", 1000 * time.Second},
		{"stale-stamp", -1000 * time.Second},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stamps judged at 1000 s, window 2 s (-want +got):\n%s", diff)
	}
}

// A heartbeat recorded while it was fresh and replayed to a receiver that
// has restarted since (its replay guard starts empty) is refused: its
// stamp is further behind the clock than the window.
func TestFreshness_ReplayAfterRestartRefused(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	recorded := sealedAt(t, now, heartbeat(t, 2, 1), testKey(7))
	before, src := keyedReceiver(t, &now, testKey(7))
	got := []string{admitReason(before, recorded, src)}

	later := now.Add(testConfig().SuspectAfter + time.Millisecond)
	restarted, src := keyedReceiver(t, &later, testKey(7))
	got = append(got, admitReason(restarted, recorded, src))
	if diff := cmp.Diff([]string{accepted, "stale-stamp"}, got); diff != "" {
		t.Errorf("a heartbeat admitted, then replayed to the restarted receiver (-want +got):\n%s", diff)
	}
}

// A heartbeat held back longer than the window, as a man in the middle
// could, is refused; the sender's next one, sealed now, is not.
func TestFreshness_DelayedMessageRefused(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	now := start
	r, src := keyedReceiver(t, &now, testKey(7))
	delayed := sealedAt(t, start, heartbeat(t, 2, 1), testKey(7))
	now = start.Add(testConfig().SuspectAfter + time.Millisecond)
	got := []string{admitReason(r, delayed, src), admitReason(r, sealedAt(t, now, heartbeat(t, 2, 1), testKey(7)), src)}
	if diff := cmp.Diff([]string{"stale-stamp", accepted}, got); diff != "" {
		t.Errorf("a heartbeat delayed past the window, then a fresh one (-want +got):\n%s", diff)
	}
}

// A stamp from beyond the window ahead is refused, so it cannot raise the
// sender's mark: its next message, stamped now, gets through. A stamp at
// the window's far edge is accepted, and then holds the sender's messages
// back only until the clock reaches it.
func TestFreshness_FutureStampRefusedAndSenderNotSilenced(t *testing.T) {
	window := testConfig().SuspectAfter
	start := time.Unix(1_700_000_000, 0)
	now := start
	r, src := keyedReceiver(t, &now, testKey(7))
	hb := heartbeat(t, 2, 1)
	admitAt := func(stampedAt time.Time) string { return admitReason(r, sealedAt(t, stampedAt, hb, testKey(7)), src) }

	var got []string
	got = append(got, admitAt(start.Add(window+time.Hour)))        // a key holder's stamp far ahead
	got = append(got, admitAt(start.Add(window+time.Nanosecond)))  // just beyond the window
	got = append(got, admitAt(start))                              // the sender, now: not silenced
	got = append(got, admitAt(start.Add(window)))                  // the far edge: accepted
	got = append(got, admitAt(start.Add(time.Millisecond)))        // held back by the edge stamp
	now = start.Add(window + time.Millisecond)                     // one window later
	got = append(got, admitAt(start.Add(window+time.Millisecond))) // the sender again: heard
	want := []string{"future-stamp", "future-stamp", accepted, accepted, "replayed", accepted}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stamps ahead of the receiver's clock (-want +got):\n%s", diff)
	}
}

// Stamps within the window either way are accepted: the sender's clock
// may be a little behind or ahead of the receiver's.
func TestFreshness_WithinWindowAccepted(t *testing.T) {
	window := testConfig().SuspectAfter
	now := time.Unix(1_700_000_000, 0)
	r, src := keyedReceiver(t, &now, testKey(7))
	var got []string
	for _, at := range []time.Time{now.Add(-window), now.Add(-window / 2), now, now.Add(window / 2), now.Add(window)} {
		got = append(got, admitReason(r, sealedAt(t, at, heartbeat(t, 2, 1), testKey(7)), src))
	}
	if diff := cmp.Diff([]string{accepted, accepted, accepted, accepted, accepted}, got); diff != "" {
		t.Errorf("stamps from one window behind to one window ahead (-want +got):\n%s", diff)
	}
}

// Refusals for the clock are warned about on the operator's log, naming
// the sender, the skew and the window: once, then not again for
// skewWarnEvery, whatever the number of messages.
func TestFreshness_SkewWarnedOncePerSenderPerInterval(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	now := start
	r, src := keyedReceiver(t, &now, testKey(7))
	var logs lockedBuffer
	r.oplog = slog.New(slog.NewTextHandler(&logs, nil))
	ahead := 5 * time.Second
	for range 3 {
		admitReason(r, sealedAt(t, now.Add(ahead), heartbeat(t, 2, 1), testKey(7)), src)
		now = now.Add(time.Second)
	}
	now = start.Add(skewWarnEvery + time.Second)
	admitReason(r, sealedAt(t, now.Add(-ahead), heartbeat(t, 2, 1), testKey(7)), src)

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if i := strings.Index(line, "level="); i >= 0 {
			line = line[i:]
		}
		got = append(got, line)
	}
	const msg = `level=WARN msg="refusing sealed messages stamped outside the clock window: keep the peers' clocks within it (NTP)" from=2 transport=datagram `
	want := []string{
		msg + `skew=+5s window=±300ms cause="the sender's clock is ahead of this peer's, or this peer's is behind (or a key holder forged the stamp)"`,
		msg + `skew=-5s window=±300ms cause="the sender's clock is behind this peer's, or this peer's is ahead, or the messages were delayed or replayed"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operator log (-want +got):\n%s", diff)
	}
}

// A frame that waited in a link's queue longer than receivers accept is
// dropped there, counted, rather than sent to be refused.
func TestLink_ExpiredFramesAreNotSent(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	now := start
	r, _ := keyedReceiver(t, &now, testKey(7))
	r.seal.now = func() time.Time { return now }
	frame := func() []byte {
		payload, err := r.seal.seal(heartbeat(t, 1, 2))
		if err != nil {
			t.Fatal(err)
		}
		return appendFrame(nil, payload)
	}
	l := r.link(2)
	old := frame()
	now = now.Add(testConfig().SuspectAfter + time.Millisecond)
	fresh := frame()
	l.queue.push(old)
	l.queue.push(fresh)
	got, ok := l.next(context.Background())
	if !ok || string(got) != string(fresh) {
		t.Errorf("next = %x, %v; want the fresh frame %x", got, ok, fresh)
	}
	if diff := cmp.Diff(uint64(1), r.met.drops[dropExpired].Load()); diff != "" {
		t.Errorf("expired drops (-want +got):\n%s", diff)
	}
}
