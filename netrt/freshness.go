package netrt

import (
	"sync/atomic"
	"time"

	"github.com/memberly/memberly/protocol"
)

// skewWarnEvery is the least time between two warnings about one sender's
// stamps outside the window: a peer whose clock is off is worth a line
// now and then, not one per message.
const skewWarnEvery = 10 * time.Second

// freshness judges sealed messages' stamps against this peer's wall
// clock: a stamp must lie within window (Config.SuspectAfter) of it,
// either way. Behind it, the message is a replay (one recorded before
// this receiver restarted passes the replay guard, which starts empty) or
// was delayed past the point where a heartbeat says anything. Ahead of it,
// the sender's clock is ahead, or a key holder forged the stamp; refusing
// it keeps the replay guard's mark within window of the clock, so such a
// stamp cannot hold back its sender's later messages for longer than
// window.
//
// The window assumes loosely synchronized clocks, as memberlist's and
// TLS's do: a peer whose clock is off by more than window is refused by
// the others, and refuses them, and the refusals are logged (warn).
type freshness struct {
	window time.Duration
	now    func() time.Time // the wall clock
	// warned holds, by sender, when its stamps were last warned about
	// (UnixNano of now), so warnings come at most every skewWarnEvery.
	warned []atomic.Int64
}

func newFreshness(window time.Duration, hosts int) *freshness {
	return &freshness{window: window, now: time.Now, warned: make([]atomic.Int64, hosts+1)}
}

// judge returns dropNone for a stamp within the window around the clock
// at now, dropStaleStamp for one behind it, dropFutureStamp for one ahead,
// and in each case skew, how far the stamp is ahead of now (negative:
// behind). stamp must not exceed maxStamp.
func (f *freshness) judge(stamp uint64, now time.Time) (reason dropReason, skew time.Duration) {
	n := max(now.UnixNano(), 0)
	skew = time.Duration(int64(stamp) - n)
	switch {
	case skew < -f.window:
		return dropStaleStamp, skew
	case skew > f.window:
		return dropFutureStamp, skew
	}
	return dropNone, skew
}

// warnNow reports whether a refusal of sender's stamps at now is to be
// warned about: the first, and then one every skewWarnEvery. Readers of
// several connections may call it at once.
func (f *freshness) warnNow(sender protocol.PeerID, now time.Time) bool {
	w := &f.warned[sender]
	at := now.UnixNano()
	for {
		last := w.Load()
		if last != 0 && at-last < int64(skewWarnEvery) && at >= last {
			return false
		}
		if w.CompareAndSwap(last, at) {
			return true
		}
	}
}

// signed writes d with its sign, as a skew reads best: +3.2s, -150ms.
func signed(d time.Duration) string {
	if d > 0 {
		return "+" + d.String()
	}
	return d.String()
}

// refusedForSkew logs, at most every skewWarnEvery per sender, that
// sender's sealed messages are refused as outside the window, with the
// skew measured and the likely causes. It goes to the operator's log: a
// peer refused for its clock is soon suspected by every other, and its
// operator must see why whatever the diagnostics level.
func (r *runtime) refusedForSkew(sender protocol.PeerID, tr protocol.Transport, reason dropReason, skew time.Duration, now time.Time) {
	if !r.fresh.warnNow(sender, now) {
		return
	}
	cause := "the sender's clock is ahead of this peer's, or this peer's is behind (or a key holder forged the stamp)"
	if reason == dropStaleStamp {
		cause = "the sender's clock is behind this peer's, or this peer's is ahead, or the messages were delayed or replayed"
	}
	r.oplog.Warn("refusing sealed messages stamped outside the clock window: keep the peers' clocks within it (NTP)",
		"from", int(sender), "transport", tr.String(), "skew", signed(skew), "window", "±"+r.fresh.window.String(), "cause", cause)
}
