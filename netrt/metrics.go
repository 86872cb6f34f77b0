package netrt

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// dropReason says why input or output was thrown away.
type dropReason uint8

const (
	dropNone    dropReason = iota // not dropped
	dropIgnored                   // dropped silently: expected, not a fault (see admit)

	dropMalformed     // not a valid frame or message
	dropOversized     // longer than any message
	dropIdentity      // the sender's address is not the one its id has
	dropUnknownSender // an id outside the hosts file
	dropMisaddressed  // addressed to another peer
	dropBadSeal       // does not open with our key
	dropQueueFull     // a send queue overflowed: its oldest frame went
	dropRefused       // the peer refused the event (Step returned an error)
	dropSendFailed    // could not be encoded, addressed or written
	dropConnLimit     // an inbound connection over the limit was closed
	dropReplayed      // sealed input older than what its sender sent since
	dropBadStamp      // sealed input stamped above any clock reading
	dropUnknownKey    // input naming a key id not in the keyring (another key, or clear text)
	dropStaleStamp    // sealed input stamped further behind this peer's clock than the window
	dropFutureStamp   // sealed input stamped further ahead of this peer's clock than the window
	dropExpired       // a queued frame sealed longer ago than receivers accept
	dropJoinRate      // a JOIN over its claimed sender's rate limit (joinLimiter)

	dropReasonEnd
)

// dropReasonNames are the metric labels, in the order metrics list them.
var dropReasonNames = [...]string{
	dropMalformed:     "malformed",
	dropOversized:     "oversized",
	dropIdentity:      "identity",
	dropUnknownSender: "unknown-sender",
	dropMisaddressed:  "misaddressed",
	dropBadSeal:       "bad-seal",
	dropQueueFull:     "queue-full",
	dropRefused:       "refused",
	dropSendFailed:    "send-failed",
	dropConnLimit:     "conn-limit",
	dropReplayed:      "replayed",
	dropBadStamp:      "bad-stamp",
	dropUnknownKey:    "unknown-key",
	dropStaleStamp:    "stale-stamp",
	dropFutureStamp:   "future-stamp",
	dropExpired:       "expired",
	dropJoinRate:      "join-rate",
}

func (d dropReason) String() string {
	if d < dropReasonEnd && dropReasonNames[d] != "" {
		return dropReasonNames[d]
	}
	return "drop(" + strconv.Itoa(int(d)) + ")"
}

// metrics are the runtime's counters. Every field is an atomic: readers
// and senders on many goroutines count, WriteMetrics reads at any time.
type metrics struct {
	in, out     [256]atomic.Uint64 // by MsgType
	drops       [dropReasonEnd]atomic.Uint64
	viewChanges atomic.Uint64
	suspicions  atomic.Uint64
	reconnects  atomic.Uint64
	// stallRedials counts outbound connections closed as stalled.
	stallRedials atomic.Uint64
	// A durable peer's saves: how many, how many failed, and the time
	// they took (written, synced, renamed, directory synced).
	saves, saveFailures atomic.Uint64
	saveNanos           atomic.Uint64
}

// msgTypes lists the valid message types in wire order.
func msgTypes() []protocol.MsgType {
	var ts []protocol.MsgType
	for t := protocol.MsgType(1); t.Valid(); t++ {
		ts = append(ts, t)
	}
	return ts
}

// writeMetrics implements WriteMetrics: the Prometheus text format, in a
// fixed order, every series present even at zero so that rates work from
// the first scrape.
func (r *runtime) writeMetrics(w io.Writer) error {
	st := r.status()
	m := &r.met
	bw := bufio.NewWriter(w)
	family := func(name, kind, help string) {
		bw.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + kind + "\n")
	}
	sample := func(name, labels string, v uint64) {
		bw.WriteString(name)
		if labels != "" {
			bw.WriteString("{" + labels + "}")
		}
		bw.WriteString(" " + strconv.FormatUint(v, 10) + "\n")
	}

	family("memberly_messages_in_total", "counter", "Messages received and handed to the peer, by type.")
	for _, t := range msgTypes() {
		sample("memberly_messages_in_total", `type="`+t.String()+`"`, m.in[t].Load())
	}
	family("memberly_messages_out_total", "counter", "Messages the peer sent, by type.")
	for _, t := range msgTypes() {
		sample("memberly_messages_out_total", `type="`+t.String()+`"`, m.out[t].Load())
	}
	family("memberly_drops_total", "counter", "Input or output thrown away, by reason.")
	for d := dropMalformed; d < dropReasonEnd; d++ {
		sample("memberly_drops_total", `reason="`+d.String()+`"`, m.drops[d].Load())
	}
	family("memberly_view_changes_total", "counter", "Views installed.")
	sample("memberly_view_changes_total", "", m.viewChanges.Load())
	family("memberly_suspicions_total", "counter", "Suspicions raised against members.")
	sample("memberly_suspicions_total", "", m.suspicions.Load())
	family("memberly_reconnects_total", "counter", "Outbound TCP dials after a connection to that peer failed or broke.")
	sample("memberly_reconnects_total", "", m.reconnects.Load())
	family("memberly_stall_redials_total", "counter", "Outbound TCP connections closed as stalled (data unacknowledged, or a write blocked, past the stall bound); the link redials.")
	sample("memberly_stall_redials_total", "", m.stallRedials.Load())
	family("memberly_state_saves_total", "counter", "States a durable peer stored (each written and synced before what depends on it was sent).")
	sample("memberly_state_saves_total", "", m.saves.Load())
	family("memberly_state_save_failures_total", "counter", "States a durable peer could not store; the peer stops at the first.")
	sample("memberly_state_save_failures_total", "", m.saveFailures.Load())
	family("memberly_state_save_seconds_total", "counter", "Time spent storing states, in seconds.")
	bw.WriteString("memberly_state_save_seconds_total " + strconv.FormatFloat(float64(m.saveNanos.Load())/1e9, 'g', -1, 64) + "\n")
	family("memberly_view_id", "gauge", "Id of the installed view (0 when not a member).")
	sample("memberly_view_id", "", uint64(st.ViewID))
	family("memberly_members", "gauge", "Members of the installed view.")
	sample("memberly_members", "", uint64(len(st.Members)))

	return errors.Wrap(bw.Flush(), "write metrics")
}

// dropMessages are the warnings logged for drops of input.
var dropMessages = [...]string{
	dropMalformed:     "dropping malformed input",
	dropOversized:     "dropping oversized input",
	dropIdentity:      "dropping a message whose sender id does not match its address",
	dropUnknownSender: "dropping a message from an id outside the hosts file",
	dropMisaddressed:  "dropping a message addressed to another peer",
	dropBadSeal:       "dropping sealed input that does not open with the key it names",
	dropQueueFull:     "send queue full: dropping its oldest frame",
	dropRefused:       "the peer refused an event",
	dropSendFailed:    "could not send a message",
	dropConnLimit:     "too many inbound connections: closing one",
	dropReplayed:      "dropping sealed input replayed or overtaken",
	dropBadStamp:      "dropping sealed input stamped above any clock reading",
	dropUnknownKey:    "dropping input that names no key of ours (another key, or not sealed)",
	dropStaleStamp:    "dropping sealed input stamped too far behind our clock",
	dropFutureStamp:   "dropping sealed input stamped too far ahead of our clock",
	dropExpired:       "dropping a queued frame sealed longer ago than receivers accept",
	dropJoinRate:      "dropping a JOIN over its sender id's rate limit",
}

// dropSubjects name, in the log, what dropped's addr argument is.
var dropSubjects = [...]string{
	dropMalformed:     "from",
	dropOversized:     "from",
	dropIdentity:      "from",
	dropUnknownSender: "from",
	dropMisaddressed:  "from",
	dropBadSeal:       "from",
	dropQueueFull:     "to",
	dropRefused:       "event",
	dropSendFailed:    "to",
	dropConnLimit:     "from",
	dropReplayed:      "from",
	dropBadStamp:      "from",
	dropUnknownKey:    "from",
	dropStaleStamp:    "from",
	dropFutureStamp:   "from",
	dropExpired:       "to",
	dropJoinRate:      "from",
}

// dropped counts a drop and logs it; addr is the sender's address (the
// receiver's for output, the event for a refusal), err the detail or nil.
// The log is rate-limited (see dropLog); input from the network is counted
// with droppedFrom, by the sender's IP address.
func (r *runtime) dropped(reason dropReason, addr string, err error) {
	if reason <= dropIgnored || reason >= dropReasonEnd {
		return
	}
	r.met.drops[reason].Add(1)
	r.dropLog.record(dropKey{reason: reason, subject: addr}, 0, err, r.log.Enabled(context.Background(), slog.LevelDebug))
}
