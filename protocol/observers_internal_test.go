package protocol

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// ringPeer returns a peer of the given view, watched on the ring by
// observers members each.
func ringPeer(t interface{ Fatal(...any) }, members []PeerID, universe, observers int) *Peer {
	cfg := DefaultConfig()
	cfg.Observers = observers
	p, err := NewPeer(cfg, members[0], universe)
	if err != nil {
		t.Fatal(err)
	}
	p.acc.view = View{ID: 1, Members: members}
	p.rewatch(View{}, Change{})
	return p
}

func TestRing_EveryMemberWatchesAndIsWatchedByObservers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		universe := rapid.IntRange(4, 300).Draw(t, "universe")
		ids := rapid.SliceOfNDistinct(rapid.IntRange(1, universe), 1, universe, rapid.ID[int]).Draw(t, "members")
		observers := rapid.IntRange(2, 16).Draw(t, "observers")
		if len(ids) <= observers+1 {
			t.Skip("a small view: everyone watches everyone")
		}
		members := make([]PeerID, len(ids))
		for i, id := range ids {
			members[i] = PeerID(id)
		}
		slices.Sort(members)
		p := ringPeer(t, members, universe, observers)
		watched := map[PeerID]int{}
		for _, q := range members {
			subjects := p.ringWalk(nil, q, 1)
			watchers := p.ringWalk(nil, q, -1)
			if len(subjects) != observers || len(watchers) != observers {
				t.Fatalf("member %d watches %v and is watched by %v, want %d each", q, subjects, watchers, observers)
			}
			if slices.Contains(subjects, q) || slices.Contains(watchers, q) {
				t.Fatalf("member %d watches itself: subjects %v, watchers %v", q, subjects, watchers)
			}
			for _, s := range subjects {
				watched[s]++
				if !slices.Contains(p.ringWalk(nil, s, -1), q) {
					t.Fatalf("member %d watches %d, which does not count it among its watchers", q, s)
				}
			}
		}
		for _, q := range members {
			if watched[q] != observers {
				t.Fatalf("member %d is watched by %d members, want %d", q, watched[q], observers)
			}
		}
	})
}

func TestRing_ChangedInPlaceEqualsDrawnAnew(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const universe = 200
		draw := func(label string) []PeerID {
			ids := rapid.SliceOfNDistinct(rapid.IntRange(1, universe), 12, 60, rapid.ID[int]).Draw(t, label)
			m := make([]PeerID, len(ids))
			for i, id := range ids {
				m[i] = PeerID(id)
			}
			slices.Sort(m)
			return m
		}
		from, to := draw("from"), draw("to")
		ring := slices.Clone(from)
		slices.SortFunc(ring, ringOrder)
		want := slices.Clone(to)
		slices.SortFunc(want, ringOrder)
		w := watchState{ring: ring}
		diffMembers(from, to, w.addToRing, w.deleteFromRing)
		if diff := cmp.Diff(want, w.ring); diff != "" {
			t.Fatalf("ring changed in place (-drawn anew +changed):\n%s", diff)
		}
	})
}

func TestRing_SmallViewHasNoRing(t *testing.T) {
	p := ringPeer(t, []PeerID{1, 2, 3, 4, 5, 6, 7, 8, 9}, 9, DefaultObservers)
	others := []PeerID{2, 3, 4, 5, 6, 7, 8, 9}
	if !p.watchesAll() || p.fd.watch.ring != nil || !slices.Equal(p.fd.watch.subjects, others) || !slices.Equal(p.fd.watch.watchers, others) {
		t.Errorf("a view of 9 with 8 observers: watchesAll %v, ring %v, subjects %v, watchers %v; want no ring, and every other member watched and heartbeated",
			p.watchesAll(), p.fd.watch.ring, p.fd.watch.subjects, p.fd.watch.watchers)
	}
}
