package check_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/check"
)

func TestParseOperatorLine_Fields(t *testing.T) {
	got, ok := check.ParseOperatorLine(`time=2025-01-01T00:00:00.000Z level=WARN msg="state file removed: a new member" path=/data/state members=[2,4] ballot=(3,1)` + "\n")
	want := check.OperatorLine{Level: "WARN", Msg: "state file removed: a new member", Fields: map[string]string{
		"time": "2025-01-01T00:00:00.000Z", "level": "WARN", "msg": "state file removed: a new member",
		"path": "/data/state", "members": "[2,4]", "ballot": "(3,1)",
	}}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("ParseOperatorLine: ok %v (-want +got):\n%s", ok, diff)
	}
}

func TestParseOperatorLine_Rejects(t *testing.T) {
	for _, s := range []string{
		"",
		`{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}`,
		`peer: -h: a hosts file is required`,
		`time=x level=INFO`,             // no msg
		`time=x msg=resumed`,            // no level
		`time=x level=INFO msg="open`,   // unterminated quote
		`time=x level=INFO msg=a b c`,   // a bare word, not key=value
		`time=x level=INFO "k"=v msg=a`, // a quoted key
	} {
		if l, ok := check.ParseOperatorLine(s); ok {
			t.Errorf("ParseOperatorLine(%q) = %+v, want not ok", s, l)
		}
	}
}
