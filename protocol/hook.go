package protocol

import "time"

// LeaderCrashHook reproduces the seed's -t flag (docs/design.md, section 10, case 4):
// once every peer of the universe has joined and installed the full view,
// the leader starts removing the highest peer, sends that REQ to everyone
// but the peer next in line to lead and the peer being removed, prints
// "crashing" and stops. The next
// leader must then learn the half-done removal from the others.
//
// It is a wrapper for drivers, not part of the protocol: the driver calls
// Fire after every Step of the peer it hooks.
type LeaderCrashHook struct {
	fired bool
	out   Output
}

// Fire triggers the hook when its moment has come, returning the extra
// output to handle (the filtered REQs, then the crash) and true; otherwise
// it returns false. The returned output is valid until the next call.
func (h *LeaderCrashHook) Fire(p *Peer, now time.Duration) (Output, bool) {
	if h.fired || !p.IsLeader() || len(p.view.Members) != p.universe || p.universe < 3 || !p.Idle() {
		return Output{}, false
	}
	h.fired = true
	victim := PeerID(p.universe)
	next := p.nextLeader(p.id)
	h.out = Output{}
	if out, err := p.Step(Event{Type: EventEvict, Now: now, Peer: victim}); err == nil {
		h.out.Notes = append(h.out.Notes, out.Notes...)
		for _, m := range out.Messages {
			if !(m.Type == MsgReq && (m.To == next || m.To == victim)) {
				h.out.Messages = append(h.out.Messages, m)
			}
		}
		h.out.Timers = append(h.out.Timers, out.Timers...)
	}
	out, _ := p.Step(Event{Type: EventCrash, Now: now})
	h.out.Notes = append(h.out.Notes, out.Notes...)
	h.out.Stopped = true
	return h.out, true
}
