package check

import (
	"time"

	"github.com/memberly/memberly/protocol"
)

// History is what the checkers judge: every view installed, and the events
// that justify a change (JOINs sent, suspicions, evictions, leaves). The
// simulator feeds it as its run goes; CheckInstalls feeds it from a log.
type History struct {
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
	tags    []protocol.Tags // protocol.View.Tags: nil, or aligned with members
	at      time.Duration   // first installed
	by      protocol.PeerID
	// change is what the first installer's decision names as the change
	// that made the view (zero when unknown: a log line, a forced view).
	change protocol.Change
}

type install struct {
	incarnation uint64
	id          protocol.ViewID
}

// NewHistory returns the empty history of peers 1..peers, run with
// Config.MaxChangesPerView maxChanges (S3 reads 0 as 1).
func NewHistory(peers, maxChanges int) *History {
	return &History{
		views:      map[protocol.ViewID]viewRecord{},
		last:       make([]install, peers+1),
		joins:      make([][]time.Duration, peers+1),
		reasons:    make([][]time.Duration, peers+1),
		maxChanges: maxChanges,
	}
}

// NewCluster starts the history of a cluster founded after every process
// of the one before it stopped: its view ids start over at 1, and no live
// process can confuse its views with the old ones. Only S1 (per process)
// spans clusters.
func (h *History) NewCluster() {
	h.views = map[protocol.ViewID]viewRecord{}
}

// Members returns the members of view id as it was first installed, and
// whether it was.
func (h *History) Members(id protocol.ViewID) ([]protocol.PeerID, bool) {
	r, ok := h.views[id]
	return r.members, ok
}

// Sent records the messages S5 cares about.
func (h *History) Sent(m protocol.Message, now time.Duration) {
	switch m.Type {
	case protocol.MsgJoin:
		h.joins[m.From] = append(h.joins[m.From], now)
	case protocol.MsgLeave:
		h.reasons[m.From] = append(h.reasons[m.From], now)
	}
}

// Reason records a reason to remove p.
func (h *History) Reason(p protocol.PeerID, now time.Duration) {
	h.reasons[p] = append(h.reasons[p], now)
}

// Install records that peer (incarnation inc) installed v, made by the
// change c as its decision names it (zero when unknown), and runs the
// safety checkers on it. It returns the first violated property and what
// broke it, or "", "".
func (h *History) Install(peer protocol.PeerID, inc uint64, v protocol.View, c protocol.Change, now time.Duration) (property, detail string) {
	for _, c := range safetyCheckers {
		if detail := c.check(h, peer, inc, v); detail != "" {
			return c.property, detail
		}
	}
	h.last[peer] = install{incarnation: inc, id: v.ID}
	if _, seen := h.views[v.ID]; !seen {
		h.views[v.ID] = viewRecord{members: v.Members, tags: v.Tags, at: now, by: peer, change: c}
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
	check    func(h *History, peer protocol.PeerID, inc uint64, v protocol.View) string
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
func (h *History) checkPair(id protocol.ViewID) finding {
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
