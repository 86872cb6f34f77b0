package protocol

// Mutation breaks the protocol on purpose. It exists for one reason: to
// prove that the simulator's checkers catch a broken protocol. Never set it
// outside such a test; Config.Validate refuses nothing about it, and
// DefaultConfig leaves it at MutationNone.
type Mutation uint8

const (
	// MutationNone: the protocol as designed.
	MutationNone Mutation = iota
	// MutationQuorumOfOne: every set counts as a quorum, so a leader
	// decides alone and two leaders can decide different views.
	MutationQuorumOfOne
	// MutationSkipRecovery: a new leader ignores the operations its
	// promisers accepted, so a change the old leader decided can be
	// contradicted.
	MutationSkipRecovery
	// MutationStalePromises: a leader proposes in a new view on the
	// promises of the view it was elected in, without asking the new
	// view's members what they accepted there, so two leaders can decide
	// different views under one id.
	MutationStalePromises
	// MutationFoundAtOnce: peer 1 founds view 1 at every start without
	// asking the hosts first, so a restarted peer 1 founds a second
	// cluster beside the running one, reusing its view ids.
	MutationFoundAtOnce
	// MutationVolatilePromise: a durable peer stores its view but not its
	// promise or the operation it accepted, so after a restart it answers
	// a lower ballot and forgets what a decision counted on.
	MutationVolatilePromise
	// MutationLoneObserver: in a view larger than Observers+1, one
	// observer's suspicion is agreement enough, so one bad link removes a
	// live member.
	MutationLoneObserver
	// MutationSplitBatch: a new leader re-proposes only the first
	// operation of a recovered batch, so a view its predecessor decided
	// with the whole batch is decided again with part of it: two peers
	// install different members under one view id.
	MutationSplitBatch
	// MutationUntaggedRecovery: a new leader re-proposes a recovered ADD
	// without the tags it was accepted with, so a view its predecessor
	// decided is decided again with other tags: two peers hold different
	// tags for one member under one view id.
	MutationUntaggedRecovery
)

var mutationNames = [...]string{
	MutationNone:             "none",
	MutationQuorumOfOne:      "quorum-of-one",
	MutationSkipRecovery:     "skip-recovery",
	MutationStalePromises:    "stale-promises",
	MutationFoundAtOnce:      "found-at-once",
	MutationVolatilePromise:  "volatile-promise",
	MutationLoneObserver:     "lone-observer",
	MutationSplitBatch:       "split-batch",
	MutationUntaggedRecovery: "untagged-recovery",
}

func (m Mutation) String() string {
	if int(m) < len(mutationNames) {
		return mutationNames[m]
	}
	return "mutation(?)"
}

// ParseMutation returns the mutation named s.
func ParseMutation(s string) (Mutation, bool) {
	for m, name := range mutationNames {
		if name == s {
			return Mutation(m), true
		}
	}
	return MutationNone, false
}

// MutationNames lists every mutation's name, "none" first.
func MutationNames() []string { return append([]string(nil), mutationNames[:]...) }
