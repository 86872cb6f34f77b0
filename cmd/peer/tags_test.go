package main

// Tags (-tag) on the command line, and as every peer of a cluster of real
// processes shows them.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// mustTags parses key=value pairs; they are the test's own, and good.
func mustTags(pairs ...string) protocol.Tags {
	tags, err := protocol.ParseTags(pairs)
	if err != nil {
		panic(err)
	}
	return tags
}

func TestParseFlags_Tags(t *testing.T) {
	got, err := parseFlags([]string{"-h", "hosts", "-tag", "zone=eu-west/1", "-tag", "role=db", "-tag", "note=a b, ünïcode"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := mustTags("role=db", "zone=eu-west/1", "note=a b, ünïcode")
	if diff := cmp.Diff(want, got.tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

func TestParseFlags_BadTags(t *testing.T) {
	long := "k=" + strings.Repeat("x", protocol.MaxTagsSize)
	half := strings.Repeat("x", protocol.MaxTagsSize/2)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"repeated key", []string{"-tag", "role=db", "-tag", "role=web"}, `-tag: key "role" given twice`},
		{"missing =", []string{"-tag", "role"}, `invalid value "role" for flag -tag: "role" is not key=value`},
		{"empty key", []string{"-tag", "=db"}, `invalid value "=db" for flag -tag: key "" must be 1 to 64 bytes`},
		{"bad key character", []string{"-tag", "ro le=db"}, `invalid value "ro le=db" for flag -tag: key "ro le": byte ' ' is not a letter, digit or one of ._-/`},
		{"control character", []string{"-tag", "role=d\tb"}, `invalid value "role=d\tb" for flag -tag: value of "role" holds a control character`},
		{"one too large", []string{"-tag", long}, fmt.Sprintf("invalid value %q for flag -tag: more than 512 bytes (at key \"k\")", long)},
		{"together too large", []string{"-tag", "a=" + half, "-tag", "b=" + half}, `-tag: more than 512 bytes (at key "b")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(append([]string{"-h", "hosts"}, tc.args...), io.Discard)
			if err == nil {
				t.Fatal("parseFlags accepted the tags")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// getJSON decodes GET path of the peer serving HTTP at addr into v.
func getJSON(addr, path string, v any) error {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return errors.Wrap(err, "GET "+path)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.Errorf("GET %s: %s", path, resp.Status)
	}
	return errors.Wrap(json.NewDecoder(resp.Body).Decode(v), "decoding "+path)
}

// memberTags returns the tags of each member GET /members of peer id
// lists, by member id.
func (c *cluster) memberTags(id int) (map[protocol.PeerID]string, error) {
	var ms []memberJSON
	if err := getJSON(c.httpAddr(id), "/members", &ms); err != nil {
		return nil, err
	}
	got := map[protocol.PeerID]string{}
	for _, m := range ms {
		got[m.ID] = m.Tags.String()
	}
	return got, nil
}

// shows is a condition: every peer of ids lists the members with the tags
// of want on /members.
func (c *cluster) shows(ids []int, want map[protocol.PeerID]string) func() error {
	return func() error {
		for _, id := range ids {
			got, err := c.memberTags(id)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want, got); diff != "" {
				return errors.Errorf("peer %d's /members tags (-want +got):\n%s", id, diff)
			}
		}
		return nil
	}
}

// tagFlags are the -tag flags of peers 1..3 in the tests below.
var tagFlags = map[int][]string{
	1: {"-tag", "role=db", "-tag", "zone=a"},
	2: {"-tag", "role=web"},
	3: {"-tag", "role=cache", "-tag", "zone=b"},
}

// tagsShown is what /members shows for peers started with tagFlags.
var tagsShown = map[protocol.PeerID]string{1: "role=db,zone=a", 2: "role=web", 3: "role=cache,zone=b"}

// startTagged starts three peers with tagFlags, each serving HTTP, and
// waits for their view of three.
func startTagged(t *testing.T) *cluster {
	c := newCluster(t, 3, fastTiming...)
	for id := 1; id <= 3; id++ {
		c.start(id, append([]string{"-http", c.httpAddr(id)}, tagFlags[id]...)...)
	}
	c.waitView(ids(1, 3), members(1, 2, 3), 1)
	return c
}

// Three peers started with different -tag flags: every peer's /members
// lists all three with their tags, and its /status its own and each
// member's.
func TestCluster_TagsShownByEveryPeer(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := startTagged(t)
	c.waitFor("every peer to show the three members' tags", c.shows(ids(1, 3), tagsShown))
	for id := 1; id <= 3; id++ {
		var s statusJSON
		if err := getJSON(c.httpAddr(id), "/status", &s); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{"own": s.Tags.String()}
		for p, tags := range s.MemberTags {
			got[fmt.Sprint(p)] = tags.String()
		}
		want := map[string]string{"own": tagsShown[protocol.PeerID(id)], "1": tagsShown[1], "2": tagsShown[2], "3": tagsShown[3]}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("peer %d's /status tags (-want +got):\n%s", id, diff)
		}
	}
}

// A crash-stop peer restarted with other -tag flags is a new incarnation,
// and every peer comes to show its new tags.
func TestCluster_RestartTakesNewTags(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := startTagged(t)
	c.proc(3).killWait()
	c.start(3, "-http", c.httpAddr(3), "-tag", "role=queue")
	c.waitFor("every peer to show peer 3's new tags",
		c.shows(ids(1, 3), map[protocol.PeerID]string{1: tagsShown[1], 2: tagsShown[2], 3: "role=queue"}))
}

// A durable peer restarted with other -tag flags resumes as the member it
// was: it says in one line that it keeps its stored tags, and every peer
// still shows those.
func TestDurable_RestartKeepsTheStoredTags(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := newCluster(t, 3, fastTiming...)
	for id := 1; id <= 3; id++ {
		c.startDurable(id, tagFlags[id]...)
	}
	c.waitView(ids(1, 3), members(1, 2, 3), 1)
	c.waitFor("every peer to show the three members' tags", c.shows(ids(1, 3), tagsShown))
	held, _ := c.proc(1).lastView()
	c.proc(3).killWait()
	three := c.startDurable(3, "-tag", "role=queue")
	c.waitFor("one view of three after the restart", c.inOneView(ids(1, 3), held.ViewID, members(1, 2, 3)))
	if err := c.shows(ids(1, 3), tagsShown)(); err != nil {
		t.Error(err)
	}
	var kept []string
	for _, l := range three.opLines() {
		if strings.HasPrefix(l.Msg, "keeping the stored tags") {
			kept = append(kept, fmt.Sprintf("%s stored=%s given=%s", l.Level, l.Fields["stored"], l.Fields["given"]))
		}
	}
	if diff := cmp.Diff([]string{"WARN stored=role=cache,zone=b given=role=queue"}, kept); diff != "" {
		t.Errorf("peer 3's lines about its tags (-want +got):\n%s", diff)
	}
}
