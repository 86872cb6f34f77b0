package protocol

// This file holds how the leader takes its next change from the queue:
// one operation, or a batch of several (Config.MaxChangesPerView).
//
// A batch is one value of the view's consensus instance, exactly as a
// single operation is: accepted, decided, reported in PENDING and
// recovered whole. Safety is unchanged (docs/design.md, section 12): it
// rests on one value per view id, not on what the value holds.

// nextBatch takes from the head of the queue the next change to propose:
// up to MaxChangesPerView operations that still change the view, in queue
// order. It returns a change of no operation when the entries it took were
// all stale; the caller asks again while the queue holds any.
//
// A batch stops before
//
//   - a recovered change, which is proposed alone and exactly as it was
//     accepted: it may have been decided so, and any other value for the
//     view could contradict that decision;
//   - a second operation about a peer already in the batch: the DEL and
//     ADD of a restarted member take two views, so the old process is out
//     before the new one is in (and a change names each peer once, so its
//     operations commute);
//   - a DEL that would leave no majority of the old view in the new one
//     (see keepsMajority).
func (p *Peer) nextBatch() Change {
	var c Change
	dels := 0
	for len(p.lead.queue) > 0 && c.Len() < p.cfg.MaxChangesPerView {
		q := p.lead.queue[0]
		if q.reason == reasonRecovered {
			if c.Len() > 0 {
				break
			}
			p.popQueue()
			if q.change.Changes(p.acc.view) {
				return q.change
			}
			continue
		}
		op := q.change.Op
		if c.Names(op.Peer) || (op.Kind == OpDel && c.Len() > 0 && !p.keepsMajority(dels+1)) {
			break
		}
		p.popQueue()
		if !p.stillWanted(op, q.reason) {
			continue
		}
		c = c.With(op)
		if op.Kind == OpDel {
			dels++
		}
	}
	return c
}

// keepsMajority reports whether a batch removing dels members of the view
// keeps more than half of them. The first operation of a batch is exempt:
// alone, it is the one change per view the protocol always made.
//
// Why: the members a view change keeps are the ones that go on answering
// for the old view. The removed may be gone for good (crashed, left,
// evicted), and a removed peer that learns of it stops answering for the
// old view. Should the leader die before the kept members learn the new
// view, they must recover it among themselves, from a quorum of the old
// view: a majority of it always is one. One removal at a time always kept
// that (k-1 of k, for k > 2); a batch of removals keeps it only under
// this rule.
func (p *Peer) keepsMajority(dels int) bool {
	n := len(p.acc.view.Members)
	return 2*(n-dels) > n
}

// popQueue drops the head of the queue.
func (p *Peer) popQueue() {
	p.lead.queue = p.lead.queue[:copy(p.lead.queue, p.lead.queue[1:])]
}

// decided starts the wait of Config.BatchWait after a decision, when the
// leader batches: changes that arrive meanwhile queue, and go out
// together when TimerBatch fires.
func (p *Peer) decided() {
	p.lead.decidedAt = p.now
	if p.cfg.MaxChangesPerView > 1 && p.cfg.BatchWait > 0 {
		p.arm(TimerBatch, p.cfg.BatchWait)
	}
}

// batchWaiting reports whether the leader holds its queue back: it
// batches with a wait, decided a view less than BatchWait ago, and has
// fewer operations queued than a batch holds.
func (p *Peer) batchWaiting() bool {
	return p.cfg.MaxChangesPerView > 1 && p.cfg.BatchWait > 0 && p.lead.decidedAt != 0 &&
		p.now < p.lead.decidedAt+p.cfg.BatchWait && len(p.lead.queue) < p.cfg.MaxChangesPerView
}
