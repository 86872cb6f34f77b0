package netrt

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"
)

const (
	// dropLogInterval is how often the drop log sums up, per reason and
	// sender, the drops it did not log one by one.
	dropLogInterval = 10 * time.Second
	// dropDetailLines is how many drops of one reason and sender are
	// logged one by one at debug level (-v) per interval, besides the
	// first warning: enough to see what a sender sends, never a line
	// per packet.
	dropDetailLines = 3
	// maxDropLogKeys bounds the reasons and senders the drop log tracks:
	// spoofed source addresses cannot make it use more memory.
	maxDropLogKeys = 1024
	// maxNewDropKeys bounds the senders that get a first warning per
	// interval. A flood from ever new (spoofed) addresses is otherwise a
	// line per packet; past it, new senders are counted together.
	maxNewDropKeys = 32
	// dropLogQueue bounds the lines waiting for the goroutine that logs
	// them. When it is full, a drop is counted for the next summary
	// rather than logged: whoever drops never waits for the log.
	dropLogQueue = 64
)

// dropKey is what the drop log counts by: a reason and who the drop is
// about. Input from the network is counted by the sender's IP address
// alone (its ports are the sender's to choose); anything else by subject,
// which names a peer or an event (see dropSubjects).
type dropKey struct {
	reason  dropReason
	from    netip.Addr
	subject string
}

// who names the key's sender or subject in a log line.
func (k dropKey) who() string {
	if k.from.IsValid() {
		return k.from.String()
	}
	return k.subject
}

// dropCount is the drop log's record of one key.
type dropCount struct {
	more   uint64 // drops not logged one by one since the last summary
	lines  int    // drops logged one by one in this interval
	active bool   // dropped in this interval
}

// dropLine is one line for the logging goroutine.
type dropLine struct {
	level slog.Level
	key   dropKey
	port  uint16 // the sender's port, 0 when unknown
	err   error  // the detail, formatted only when logged
	// A summary: more drops of key in the interval that ended (every
	// untracked sender's together when untracked).
	more      uint64
	untracked bool
}

// dropLog rate-limits the log lines about drops. The first drop of each
// reason and sender is a warning; while the drops go on, one line per
// interval says how many more there were, and with debug logging (-v) a
// few of them per interval are logged one by one. A key silent for a
// whole interval is forgotten: its next drop is a first warning again.
// Recording a drop never allocates once its key is known, and never
// blocks: lines go to a queue that run's logging goroutine (logDrops)
// writes out, so a slow log cannot hold up the reader that dropped, nor
// the event loop. Its zero value is ready to use.
type dropLog struct {
	// interval overrides dropLogInterval in tests.
	interval time.Duration

	mu        sync.Mutex
	counts    map[dropKey]*dropCount
	untracked [dropReasonEnd]uint64 // drops from senders not tracked, in this interval
	newKeys   int                   // keys added in this interval
	lines     chan dropLine
}

// every is the summary interval.
func (l *dropLog) every() time.Duration {
	if l.interval > 0 {
		return l.interval
	}
	return dropLogInterval
}

// queue returns the channel of lines to log, creating it on first use.
func (l *dropLog) queue() chan dropLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queueLocked()
}

func (l *dropLog) queueLocked() chan dropLine {
	if l.lines == nil {
		l.lines = make(chan dropLine, dropLogQueue)
	}
	return l.lines
}

// record notes one drop of key, from port when it is network input, and
// queues the line it deserves, if any. detail says whether debug lines
// are wanted.
func (l *dropLog) record(key dropKey, port uint16, err error, detail bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.counts[key]
	if c == nil {
		if len(l.counts) >= maxDropLogKeys || l.newKeys >= maxNewDropKeys {
			l.untracked[key.reason]++
			return
		}
		if l.counts == nil {
			l.counts = map[dropKey]*dropCount{}
		}
		c = &dropCount{}
		l.counts[key] = c
		l.newKeys++
		c.active = true
		l.send(c, dropLine{level: slog.LevelWarn, key: key, port: port, err: err})
		return
	}
	c.active = true
	if !detail || c.lines >= dropDetailLines {
		c.more++
		return
	}
	c.lines++
	l.send(c, dropLine{level: slog.LevelDebug, key: key, port: port, err: err})
}

// send queues line, or counts it as one more drop when the queue is full.
func (l *dropLog) send(c *dropCount, line dropLine) {
	select {
	case l.queueLocked() <- line:
	default:
		c.more++
	}
}

// sum ends an interval: it returns the summaries of the drops not logged
// one by one, forgets the keys that had no drop, and starts the next.
func (l *dropLog) sum() []dropLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []dropLine
	for k, c := range l.counts {
		if c.more > 0 {
			lines = append(lines, dropLine{level: slog.LevelWarn, key: k, more: c.more})
		}
		if !c.active {
			delete(l.counts, k)
		}
		*c = dropCount{}
	}
	for reason, n := range l.untracked {
		if n > 0 {
			lines = append(lines, dropLine{level: slog.LevelWarn, key: dropKey{reason: dropReason(reason)}, more: n, untracked: true})
		}
	}
	l.untracked = [dropReasonEnd]uint64{}
	l.newKeys = 0
	return lines
}

// logDrops writes the drop log's lines as they come, and its summaries
// every interval, until ctx ends; then it writes what is left.
func (r *runtime) logDrops(ctx context.Context) {
	lines := r.dropLog.queue()
	tick := time.NewTicker(r.dropLog.every())
	defer tick.Stop()
	for {
		select {
		case l := <-lines:
			r.logDrop(l)
		case <-tick.C:
			for _, l := range r.dropLog.sum() {
				r.logDrop(l)
			}
		case <-ctx.Done():
			for {
				select {
				case l := <-lines:
					r.logDrop(l)
				default:
					for _, l := range r.dropLog.sum() {
						r.logDrop(l)
					}
					return
				}
			}
		}
	}
}

// logDrop writes one line of the drop log:
//
//	level=WARN msg="dropping malformed input" reason=malformed from=10.0.0.9 port=40312 err="wire: unsupported version 7"
//	level=WARN msg="dropping malformed input" reason=malformed from=10.0.0.9 more=48213 in_last=10s
func (r *runtime) logDrop(l dropLine) {
	reason := l.key.reason
	if reason <= dropIgnored || reason >= dropReasonEnd {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("reason", reason.String()))
	who := l.key.who()
	if l.untracked {
		who = "other senders"
	}
	attrs = append(attrs, slog.String(dropSubjects[reason], who))
	if l.port != 0 {
		attrs = append(attrs, slog.Int("port", int(l.port)))
	}
	if l.more > 0 {
		attrs = append(attrs, slog.Uint64("more", l.more), slog.Duration("in_last", r.dropLog.every()))
	}
	if l.err != nil {
		attrs = append(attrs, errAttr(l.err))
	}
	r.log.LogAttrs(context.Background(), l.level, dropMessages[reason], attrs...)
}

// errAttr is err as a log attribute: its message on one line. Never the
// error itself: slog's text handler formats an error with %+v, which for
// an error from github.com/pkg/errors is a stack trace full of build
// paths.
func errAttr(err error) slog.Attr { return slog.String("err", errText(err)) }

// errText is err's message on one line.
func errText(err error) string {
	s := err.Error()
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.FieldsFunc(s, func(c rune) bool { return c == '\r' || c == '\n' }), "; ")
	}
	return s
}

// droppedFrom counts a drop of input from src, the sender's address, and
// logs it within the drop log's limits; err is the detail, or nil. It is
// the path a flood takes: it allocates nothing once src is known to the
// drop log, formats nothing, and never waits for the log.
func (r *runtime) droppedFrom(reason dropReason, src netip.AddrPort, err error) {
	if reason <= dropIgnored || reason >= dropReasonEnd {
		return
	}
	r.met.drops[reason].Add(1)
	r.dropLog.record(dropKey{reason: reason, from: src.Addr()}, src.Port(), err, r.log.Enabled(context.Background(), slog.LevelDebug))
}
