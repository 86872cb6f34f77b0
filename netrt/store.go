package netrt

import (
	"encoding/binary"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// This file keeps a durable peer's state in its data directory
// (Options.DataDir):
//
//	DIR/lock       held (flock) by the one process using DIR
//	DIR/state      the state, as protocol.EncodeState writes it
//	DIR/state.tmp  the next state, while it is being written
//
// A save writes state.tmp, syncs it, renames it over state and syncs the
// directory: at any moment state is a whole file, the last one saved or the
// one before, never a mix. A state.tmp found at start is what a crash left
// in the middle of a save, whose state was never reported stored: it is
// removed unread.

// Names inside a data directory.
const (
	lockName     = "lock"
	stateName    = "state"
	stateTmpName = "state.tmp"
)

// MaxStateFile bounds what is read of a state file. The largest state,
// a view of protocol.MaxPeers members with their incarnations, takes about
// 25 KiB; a larger file is refused as corrupt rather than read whole.
const MaxStateFile = 64 << 10

// ErrState is wrapped by every error about a state file that this peer
// cannot start from: corrupt or truncated, of another peer or cluster, of
// an unknown version, larger than MaxStateFile, or holding a state that
// the protocol refuses. Starting with ResetState discards the file, and
// the peer then joins as a new member. Errors reading the file (a
// permission, a disk error) do not wrap it: discarding the file would not
// cure them.
var ErrState = errors.New("netrt: unusable state file")

// stateError is an ErrState error: the file and what is wrong with it.
type stateError struct {
	path string
	err  error
}

func (e *stateError) Error() string { return "state file " + e.path + ": " + e.err.Error() }
func (e *stateError) Unwrap() error { return e.err }
func (e *stateError) Is(target error) bool {
	return target == ErrState
}

// Fingerprint is the 64-bit FNV-1a hash of the host lines as parsed: each
// host's id, name, TCP and UDP address, in order. A state file records the
// fingerprint of its cluster, and a peer refuses one whose fingerprint is
// not its own (protocol.ErrStateForeign): a data directory copied from
// another cluster, or kept across an edit of the hosts file or of the
// ports that complete its lines, is foreign. Comments, blank lines and
// line numbers do not count. After such an edit every peer must start with
// ResetState, as new members of a new cluster.
func (h Hosts) Fingerprint() uint64 {
	f := fnv.New64a()
	var b []byte
	for i, host := range h {
		// Length-prefixed fields: no two lists hash the same bytes.
		b = binary.AppendUvarint(b[:0], uint64(i+1))
		for _, s := range []string{host.Name, host.TCPAddr, host.UDPAddr} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		_, _ = f.Write(b)
	}
	return f.Sum64()
}

// errLocked says another open file holds a data directory's lock.
var errLocked = errors.New("locked")

// syncDir makes the entries of the directory d durable: a rename into it,
// a removal from it. Windows cannot sync a directory as a file.
func syncDir(d *os.File) error {
	if goruntime.GOOS == "windows" {
		return nil
	}
	return d.Sync()
}

// store is a data directory, locked by this process.
type store struct {
	dir, path, tmp string
	cluster        uint64
	lock           *os.File // holds the lock; closing it releases it
	dirFile        *os.File // the directory, synced after each rename
	buf            []byte   // reused encoding buffer
}

// openStore creates dir if needed (0700), takes its lock and removes what
// an interrupted save left. Two processes on one data directory would each
// take the other's promises back: the second is refused.
func openStore(dir string, cluster uint64) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errors.Wrap(err, "netrt: data directory")
	}
	s := &store{
		dir:     dir,
		path:    filepath.Join(dir, stateName),
		tmp:     filepath.Join(dir, stateTmpName),
		cluster: cluster,
	}
	lockPath := filepath.Join(dir, lockName)
	lock, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errors.Wrap(err, "netrt: data directory lock")
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		if errors.Is(err, errLocked) {
			return nil, errors.Errorf("netrt: data directory %s is in use by another process (%s is locked): one data directory per peer process", dir, lockPath)
		}
		return nil, errors.Wrapf(err, "netrt: locking %s", lockPath)
	}
	s.lock = lock
	if s.dirFile, err = os.Open(dir); err != nil {
		s.close()
		return nil, errors.Wrap(err, "netrt: data directory")
	}
	if err := os.Remove(s.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.close()
		return nil, errors.Wrap(err, "netrt: removing what an interrupted save left")
	}
	return s, nil
}

// close releases the lock. The store must not be used afterwards.
func (s *store) close() {
	if s.dirFile != nil {
		s.dirFile.Close()
		s.dirFile = nil
	}
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// load reads and decodes the state of peer id; nil, nil when there is no
// state file. Every reason the file cannot be used is an ErrState error
// naming the file.
func (s *store) load(id protocol.PeerID) (*protocol.DurableState, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Wrap(err, "netrt: reading the state file")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxStateFile+1))
	if err != nil {
		return nil, errors.Wrapf(err, "netrt: reading the state file %s", s.path)
	}
	if len(b) > MaxStateFile {
		return nil, &stateError{s.path, errors.Wrapf(protocol.ErrStateCorrupt, "larger than %d bytes, the most a state takes", MaxStateFile)}
	}
	st, err := protocol.DecodeState(b, id, s.cluster)
	if err != nil {
		return nil, &stateError{s.path, err}
	}
	return &st, nil
}

// reset removes the state file; removed says whether there was one.
func (s *store) reset() (removed bool, err error) {
	err = os.Remove(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, errors.Wrap(err, "netrt: removing the state file")
	}
	if err := syncDir(s.dirFile); err != nil {
		return true, errors.Wrapf(err, "netrt: syncing %s", s.dir)
	}
	return true, nil
}

// save stores st durably: when it returns nil, the state file holds st
// and survives a crash of the process or the machine. Its errors name the
// state file, then the operation and file that failed.
func (s *store) save(st protocol.DurableState) error {
	s.buf = append(s.buf[:0], protocol.EncodeState(st, s.cluster)...)
	if err := s.writeTmp(s.buf); err != nil {
		_ = os.Remove(s.tmp)
		return errors.Wrapf(err, "state file %s", s.path)
	}
	if err := os.Rename(s.tmp, s.path); err != nil {
		_ = os.Remove(s.tmp)
		return errors.Wrapf(err, "state file %s", s.path)
	}
	// The rename is durable once the directory is.
	if err := syncDir(s.dirFile); err != nil {
		return errors.Wrapf(err, "state file %s: syncing its directory", s.path)
	}
	return nil
}

// writeTmp writes b to the temporary file and syncs it. The *PathErrors
// it returns name the operation and the file.
func (s *store) writeTmp(b []byte) error {
	f, err := os.OpenFile(s.tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	// A close can report a failed write-back on some file systems.
	return f.Close()
}

// describeState renders what a stored state holds, for logs.
func describeState(st *protocol.DurableState) string {
	if st.View.ID == 0 {
		return "no view, incarnation " + strconv.FormatUint(st.Incarnation, 10)
	}
	return "view " + st.View.String() + ", incarnation " + strconv.FormatUint(st.Incarnation, 10)
}

// openDataDir opens Options.DataDir for the runtime: it locks it, carries
// out ResetState, and reads the state to resume from, which it checks the
// way the start will (a state the protocol refuses is an ErrState error
// now, while Listen can still report it, rather than in Run).
func (r *runtime) openDataDir() error {
	s, err := openStore(r.opts.DataDir, r.opts.Hosts.Fingerprint())
	if err != nil {
		return err
	}
	r.store = s
	if r.opts.ResetState {
		removed, err := s.reset()
		if err != nil {
			r.closeStore()
			return err
		}
		if removed {
			r.oplog.Warn("state file removed: this peer starts as a new member under a new incarnation; the view, promises and incarnation it held are lost",
				"path", s.path)
		} else {
			r.oplog.Info("no state file to remove: this peer starts as a new member", "path", s.path)
		}
		return nil
	}
	st, err := s.load(r.id)
	if err != nil {
		r.closeStore()
		return err
	}
	if st == nil && r.opts.ForceView {
		// A fresh peer could join a running cluster before the force,
		// and force a view on it.
		r.closeStore()
		return errors.Errorf("netrt: cannot force a view: %s holds no state file, so this peer has no view stored", s.dir)
	}
	if st == nil {
		r.log.Info("no state file: starting as a new member", "path", s.path)
		return nil
	}
	probe, err := protocol.NewNode(r.opts.Config, r.id, len(r.opts.Hosts), discardEffects{})
	if err == nil {
		err = probe.Resume(0, *st)
	}
	if err != nil {
		r.closeStore()
		return &stateError{s.path, err}
	}
	r.resumeFrom = st
	r.log.Info("resuming from the state file", "path", s.path, "state", describeState(st))
	if st.Tags != r.opts.Tags {
		r.oplog.Warn("keeping the stored tags, not the ones given: the members know this peer by the tags its incarnation joined with; "+
			"reset the state to start as a new member with new ones", "stored", st.Tags.String(), "given", r.opts.Tags.String())
	}
	return nil
}

// closeStore releases the data directory, if any.
func (r *runtime) closeStore() {
	if r.store != nil {
		r.store.close()
		r.store = nil
	}
}

// discardEffects carries out nothing: the start openDataDir tries on a
// throwaway node.
type discardEffects struct{}

func (discardEffects) Note(protocol.Note)               {}
func (discardEffects) Send(protocol.Message)            {}
func (discardEffects) Timer(protocol.TimerRequest)      {}
func (discardEffects) Stop()                            {}
func (discardEffects) Save(protocol.DurableState) error { return nil }
