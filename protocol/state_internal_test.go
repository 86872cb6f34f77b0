package protocol

import (
	"reflect"
	"testing"
)

// A field added to Peer must be encoded by AppendState and copied by
// Clone: this count fails until both are updated, and then is raised.
func TestState_CoversEveryField(t *testing.T) {
	const fields = 53
	if n := reflect.TypeOf(Peer{}).NumField(); n != fields {
		t.Errorf("Peer has %d fields, AppendState and Clone know %d: encode and copy the new ones, then update the count", n, fields)
	}
}
