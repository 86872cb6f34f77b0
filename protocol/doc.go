// Package protocol is Memberly's membership protocol as a pure state
// machine. docs/design.md states the protocol and its safety argument;
// this page states the contract with drivers and the messages.
//
// # The contract
//
// A Peer holds one peer's state. Its driver (the simulator, the network
// runtime, or a test) owns it and is the only caller of Peer.Step, one event
// at a time:
//
//	out, err := peer.Step(protocol.Event{Type: protocol.EventMessage, Now: now, Msg: m})
//
// Step never blocks, reads no clock, draws no random number, starts no
// goroutine and does no I/O: the same events give the same outputs, which is
// what lets the simulator replay any run from its seed. Time enters only as
// Event.Now, the driver's monotonic time.
//
// Events are: EventStart (once; peer 1 asks the hosts and founds view 1 =
// [1] only if no cluster answers, every other peer starts joining), EventMessage (a decoded message
// from Msg.From), EventTimer (a timer the peer armed has fired), EventEvict
// (an operator asks the leader to remove a peer), EventLeave (leave
// gracefully), EventCrash (stop for good, printing "crashing") and
// EventForceView (an operator's recovery from a lost majority).
//
// The driver handles an Output in this order:
//
//  0. Save: a durable peer's (Config.Durable) state to store, written and
//     synced, before anything else of the Output; when it cannot be
//     stored, nothing else is done and the process stops. A new process
//     resumes from it (EventStart with Event.State) as the same member.
//  1. Notes: log them (FormatNote renders the seed's log lines) or record
//     them, before anything else, so a peer's line for a view precedes any
//     other peer's reaction to it.
//  2. Messages: send each to Msg.To using Msg.Type.Transport(): HEARTBEAT as
//     a datagram, every other type over a reliable stream, in order.
//  3. Timers: arm each TimerRequest After from now, replacing the armed timer
//     of the same kind, or cancel it. Cancelling is only an optimisation:
//     every Timer carries a generation and the peer ignores stale fires.
//  4. Stopped: the peer crashed or left; stop feeding it events (a process
//     exits).
//
// Output slices are reused by the next Step. An error from Step means the
// event was refused (a message from an unknown peer, one addressed to
// someone else, an invalid field, a view id or ballot round of
// math.MaxUint64, time going backwards, a call before start or after
// stop, an eviction the peer cannot serve); the peer's state is then
// unchanged and the Output empty, so the driver counts the refusal and
// carries on.
//
// Node is the driver every Memberly runtime uses: it owns a Peer, turns a
// process start, messages, timers and operator requests into events, and
// carries out each Output in the order above through an Effects. A
// crash-stop start and restart are the same call, Node.Start; a durable
// peer's restart is Node.Resume.
//
// # Messages
//
// The MsgType numbers are the wire format (Encode, Decode): append-only.
//
//   - HEARTBEAT (datagram): "alive, at view V, following ballot B", to every
//     other member each HeartbeatInterval. Any message counts as a sign of
//     life; a member silent for SuspectAfter is suspected. The leader answers
//     a heartbeat showing an older view with NEWVIEW (anti-entropy).
//
//   - JOIN: a non-member asks the leader it believes in to add it, naming
//     its incarnation and the highest view id it has known; re-sent every
//     JoinRetryInterval, moving on through the hosts when nobody answers.
//
//   - REDIRECT: a member names the leader: a follower, or the leader
//     itself when it queues a JOIN.
//
//   - REQ: phase one of a change: the leader proposes an operation (ADD or
//     DEL of one peer), or a batch of operations of distinct peers
//     (Config.MaxChangesPerView, Message.More), on view V under its
//     ballot. A batch is one value: accepted, decided and recovered whole. A member whose promise is
//     not above the ballot and whose view is V accepts it and answers OK;
//     otherwise NACK.
//
//   - OK: acceptance of a REQ. OKs from a quorum of V (the leader's own
//     included) decide view V+1.
//
//   - NACK: a refusal carrying the refuser's promise and view id: a leader
//     with a lower ballot steps down, a candidate outbids it while next in
//     line, and a lagging refuser is sent the current view.
//
//   - NEWVIEW: phase two: view V+1, its members, its ballot and the operation
//     that made it. Installed by every member that holds an older view
//     (skipping ids is catch-up); a member not in it learns it was removed.
//
//   - NEWLEADER: a candidate asks the members of its view for promises.
//
//   - PENDING: a promise, with the promiser's view and the operation it
//     accepted for that view, if any, and under which ballot. From a quorum
//     of answers the candidate leads, first re-proposing the operation
//     accepted under the highest ballot, so a change the old leader may have
//     decided is never lost or contradicted. A member also answers a
//     NEWVIEW from the leader it promised with PENDING for the new view.
//
//   - NOTMEMBER: "you are not in my view V, led by L": the answer to a
//     message from a peer outside the view that names an older view. A
//     non-member answers JOIN with it too, naming the highest view id it
//     has known and the leader it believes in (both 0 when it never held a
//     view).
//
//   - LEAVE: a member asks the leader to remove it.
//
// # Promises are per view
//
// Each view is its own consensus instance whose acceptors are its members.
// Two quorums of one view intersect; quorums of two views need not ({1,4}
// of [1,2,3,4] and {2,3} of [1,2,3] are disjoint). So a leader proposes in
// view V only while it holds promises for its ballot from a quorum of V,
// and first re-proposes the operation accepted for V under the highest
// ballot among them. Promises gathered at one view never carry over to the
// next. The stable path pays nothing for it: an OK for a proposal on view V
// is also a promise at V+1 with nothing accepted there (the member held V
// when it answered), and members answer NEWVIEW with their promise, so the
// next REQ usually goes out with the NEWVIEW.
// # Founding and restarts
//
// A process without stored state cannot tell its first start from a
// restart, so EventStart means both. Peer 1 founds view 1 = [1] only after
// asking every other host (JOIN) and learning that none holds or held a
// view, or after JoinRetryInterval with no sign of a cluster; otherwise it
// joins like any peer. Every message carries its sender's incarnation: a
// message from another process under a member's id is no sign of life of
// that member, which is suspected at once. See found.go for the rule and
// its limit (a restarted peer 1 cut off from every member founds a second
// cluster).
//
// # Finer points
//
// A restarted process forgets its promises. So each process has an
// incarnation (Event.Incarnation), carried in every message and in ADD
// operations, and every peer records the incarnation each member was added with. A process
// without a view installs only a view that holds its own incarnation: the
// one that added it, or one whose NEWVIEW names it (ToIncarnation). A leader
// that receives JOIN from a member re-sends the view if the incarnation is
// the one it holds, and otherwise removes that member and adds it again. An
// acceptor that forgot a promise is thus never counted twice.
//
// A leader re-sends the view to a joining member only when it is the same
// process: for a restarted one it would let an acceptor that forgot its
// promises vote again.
//
// A process may start with tags (Event.Tags): its ADD carries them, and
// they are part of the operation the members accept, so a recovered ADD
// is proposed with them and every member installing a view id holds the
// same tags for each member (View.Tags, carried whole by NEWVIEW). They
// are fixed for the life of the process, like its incarnation.
//
// A member of the view that asks to join holds no view and cannot lead: it
// is skipped when choosing who is next in line. The REQ removing a peer is
// sent to that peer too, and its OK counts: it is an acceptor of the view
// like any member, and without its vote a false suspicion plus one real
// crash can deadlock a view of three. An operation recovered from
// PENDING answers is always proposed again, even when it removes the new
// leader itself, which then hands the view over and rejoins.
//
// Heartbeats carry the ballot of the leadership the sender follows, not its
// promise: after a failed candidacy the promise stays high, and advertising
// it would make the real leader step down in favour of nobody.
//
// A leader that leaves never installs a view without itself: it decides the
// view, sends it, and stops. Any member, not only the leader, answers a
// heartbeat showing an older view with NEWVIEW, since a member may lag
// behind a view whose leader is gone. A candidate does not remove the old leader if
// that leader answered it (it was alive after all). Suspicion is checked at
// the precise moment a member's silence reaches SuspectAfter rather than only
// at heartbeat ticks, and again before any message handled after that
// moment: a driver's timer that fires late never lets the leader's news of
// a removal overtake the peer's own detection.
//
// View ids and ballot rounds grow one at a time, and past math.MaxUint64
// they would wrap to 0, below every view and ballot. So the largest value
// is refused wherever it arrives (Decode, Step), and a peer never makes
// it: a leader holding view math.MaxUint64-1 makes no further change, and
// a peer that has seen round math.MaxUint64-1 no longer campaigns. Only a
// faulty peer can bring a cluster there; it then keeps what it has.
//
// The leader a log line names is the one the peer follows, except while
// that leader is outside the installed view (it left, handing the view
// over, and its successor is still gathering promises): the line then
// names the member next in line, never a leader outside the view.
package protocol
