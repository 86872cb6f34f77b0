package protocol

import (
	"reflect"
	"testing"
)

// A field added to Peer, or to one of the structs that group its state by
// role, must be encoded by AppendState and copied by Clone: this count
// fails until both are updated, and then is raised.
func TestState_CoversEveryField(t *testing.T) {
	const fields = 54
	groups := map[reflect.Type]bool{
		reflect.TypeOf(acceptor{}): true, reflect.TypeOf(detector{}): true, reflect.TypeOf(leading{}): true,
		reflect.TypeOf(election{}): true, reflect.TypeOf(joiner{}): true,
	}
	n := 0
	peer := reflect.TypeOf(Peer{})
	for i := range peer.NumField() {
		if f := peer.Field(i); groups[f.Type] {
			n += f.Type.NumField()
		} else {
			n++
		}
	}
	if n != fields {
		t.Errorf("Peer holds %d fields, AppendState and Clone know %d: encode and copy the new ones, then update the count", n, fields)
	}
}
