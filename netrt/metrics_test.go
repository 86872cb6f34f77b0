package netrt

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestWriteMetrics_SinglePeer(t *testing.T) {
	p := startCluster(t, 1, nil)
	waitView(t, []protocol.PeerID{1}, p[1])
	var buf bytes.Buffer
	if err := p[1].rt.WriteMetrics(&buf); err != nil {
		t.Fatal(err)
	}
	want := `# HELP memberly_messages_in_total Messages received and handed to the peer, by type.
# TYPE memberly_messages_in_total counter
memberly_messages_in_total{type="HEARTBEAT"} 0
memberly_messages_in_total{type="JOIN"} 0
memberly_messages_in_total{type="REDIRECT"} 0
memberly_messages_in_total{type="REQ"} 0
memberly_messages_in_total{type="OK"} 0
memberly_messages_in_total{type="NACK"} 0
memberly_messages_in_total{type="NEWVIEW"} 0
memberly_messages_in_total{type="NEWLEADER"} 0
memberly_messages_in_total{type="PENDING"} 0
memberly_messages_in_total{type="NOTMEMBER"} 0
memberly_messages_in_total{type="LEAVE"} 0
# HELP memberly_messages_out_total Messages the peer sent, by type.
# TYPE memberly_messages_out_total counter
memberly_messages_out_total{type="HEARTBEAT"} 0
memberly_messages_out_total{type="JOIN"} 0
memberly_messages_out_total{type="REDIRECT"} 0
memberly_messages_out_total{type="REQ"} 0
memberly_messages_out_total{type="OK"} 0
memberly_messages_out_total{type="NACK"} 0
memberly_messages_out_total{type="NEWVIEW"} 0
memberly_messages_out_total{type="NEWLEADER"} 0
memberly_messages_out_total{type="PENDING"} 0
memberly_messages_out_total{type="NOTMEMBER"} 0
memberly_messages_out_total{type="LEAVE"} 0
# HELP memberly_drops_total Input or output thrown away, by reason.
# TYPE memberly_drops_total counter
memberly_drops_total{reason="malformed"} 0
memberly_drops_total{reason="oversized"} 0
memberly_drops_total{reason="identity"} 0
memberly_drops_total{reason="unknown-sender"} 0
memberly_drops_total{reason="misaddressed"} 0
memberly_drops_total{reason="bad-seal"} 0
memberly_drops_total{reason="queue-full"} 0
memberly_drops_total{reason="refused"} 0
memberly_drops_total{reason="send-failed"} 0
memberly_drops_total{reason="conn-limit"} 0
memberly_drops_total{reason="replayed"} 0
memberly_drops_total{reason="bad-stamp"} 0
memberly_drops_total{reason="unknown-key"} 0
memberly_drops_total{reason="stale-stamp"} 0
memberly_drops_total{reason="future-stamp"} 0
memberly_drops_total{reason="expired"} 0
memberly_drops_total{reason="join-rate"} 0
# HELP memberly_view_changes_total Views installed.
# TYPE memberly_view_changes_total counter
memberly_view_changes_total 1
# HELP memberly_suspicions_total Suspicions raised against members.
# TYPE memberly_suspicions_total counter
memberly_suspicions_total 0
# HELP memberly_reconnects_total Outbound TCP dials after a connection to that peer failed or broke.
# TYPE memberly_reconnects_total counter
memberly_reconnects_total 0
# HELP memberly_stall_redials_total Outbound TCP connections closed as stalled (data unacknowledged, or a write blocked, past the stall bound); the link redials.
# TYPE memberly_stall_redials_total counter
memberly_stall_redials_total 0
# HELP memberly_state_saves_total States a durable peer stored (each written and synced before what depends on it was sent).
# TYPE memberly_state_saves_total counter
memberly_state_saves_total 0
# HELP memberly_state_save_failures_total States a durable peer could not store; the peer stops at the first.
# TYPE memberly_state_save_failures_total counter
memberly_state_save_failures_total 0
# HELP memberly_state_save_seconds_total Time spent storing states, in seconds.
# TYPE memberly_state_save_seconds_total counter
memberly_state_save_seconds_total 0
# HELP memberly_view_id Id of the installed view (0 when not a member).
# TYPE memberly_view_id gauge
memberly_view_id 1
# HELP memberly_members Members of the installed view.
# TYPE memberly_members gauge
memberly_members 1
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriteMetrics_WriteError(t *testing.T) {
	p := startCluster(t, 1, nil)
	if err := p[1].rt.WriteMetrics(failingWriter{}); err == nil {
		t.Error("WriteMetrics to a failing writer returned nil")
	}
}
