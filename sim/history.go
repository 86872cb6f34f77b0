package sim

import (
	"time"

	"github.com/memberly/memberly/protocol"
)

// history is what the checkers judge: every view installed, and the events
// that justify a change (JOINs sent, suspicions, evictions, leaves).
type history struct {
	views map[protocol.ViewID]viewRecord // by view id: the first install of each
	last  []install                      // by peer: its latest install
	// joins and reasons hold, by peer, when it sent a JOIN and when a
	// reason to remove it arose (a suspicion anywhere, an eviction, a leave).
	joins   [][]time.Duration
	reasons [][]time.Duration
	// skipValidity turns S5 off, for histories read from logs: the seed's
	// log lines show no JOINs, evictions or LEAVEs (CheckInstalls).
	skipValidity bool
	// maxChanges is the run's Config.MaxChangesPerView: how many peers S3
	// lets two consecutive views differ by.
	maxChanges int
}

type viewRecord struct {
	members []protocol.PeerID
	at      time.Duration // first installed
	by      protocol.PeerID
	// change is what the first installer's decision names as the change
	// that made the view (zero when unknown: a log line, a forced view).
	change protocol.Change
}

type install struct {
	incarnation uint64
	id          protocol.ViewID
}

func newHistory(n int) history {
	return history{
		views:      map[protocol.ViewID]viewRecord{},
		last:       make([]install, n+1),
		joins:      make([][]time.Duration, n+1),
		reasons:    make([][]time.Duration, n+1),
		maxChanges: 1,
	}
}

// newCluster starts the history of a cluster founded after every process
// of the one before it stopped: its view ids start over at 1, and no live
// process can confuse its views with the old ones. Only S1 (per process)
// spans clusters.
func (h *history) newCluster() {
	h.views = map[protocol.ViewID]viewRecord{}
}

// sent records the messages S5 cares about.
func (h *history) sent(m protocol.Message, now time.Duration) {
	switch m.Type {
	case protocol.MsgJoin:
		h.joins[m.From] = append(h.joins[m.From], now)
	case protocol.MsgLeave:
		h.reasons[m.From] = append(h.reasons[m.From], now)
	}
}

// reason records a reason to remove p.
func (h *history) reason(p protocol.PeerID, now time.Duration) {
	h.reasons[p] = append(h.reasons[p], now)
}

// install records that peer (incarnation inc) installed v, made by the
// change c as its decision names it (zero when unknown), and runs the
// safety checkers on it. It returns the first violated property and what
// broke it, or "".
func (h *history) install(peer protocol.PeerID, inc uint64, v protocol.View, c protocol.Change, now time.Duration) (string, string) {
	for _, c := range safetyCheckers {
		if detail := c.check(h, peer, inc, v); detail != "" {
			return c.property, detail
		}
	}
	h.last[peer] = install{incarnation: inc, id: v.ID}
	if _, seen := h.views[v.ID]; !seen {
		h.views[v.ID] = viewRecord{members: v.Members, at: now, by: peer, change: c}
		// A new view id: judge it against its neighbours, as they become known.
		for _, id := range []protocol.ViewID{v.ID - 1, v.ID} {
			if f := h.checkPair(id); f.detail != "" {
				return f.property, f.detail
			}
		}
	}
	return "", ""
}

// safetyChecker judges one install against the history before it.
type safetyChecker struct {
	property string
	check    func(h *history, peer protocol.PeerID, inc uint64, v protocol.View) string
}

// safetyCheckers run on every install, in this order; S3 and S5 judge
// pairs of consecutive views (checkPair).
var safetyCheckers = []safetyChecker{
	{"S4", checkSelf},
	{"S1", checkMonotonic},
	{"S2", checkAgreement},
}

type finding struct{ property, detail string }

// checkPair judges views id and id+1 once both are known.
func (h *history) checkPair(id protocol.ViewID) finding {
	a, okA := h.views[id]
	b, okB := h.views[id+1]
	if !okA || !okB || id == 0 {
		return finding{}
	}
	if d := checkOneChange(id, a, b, h.maxChanges); d != "" {
		return finding{"S3", d}
	}
	if h.skipValidity {
		return finding{}
	}
	if d := checkValidity(h, id, a, b); d != "" {
		return finding{"S5", d}
	}
	return finding{}
}
