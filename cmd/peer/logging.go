package main

import (
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"

	"github.com/memberly/memberly/protocol"
)

// lockedWriter serialises writes to w. The note writer and the diagnostics
// logger share stderr, and each line must reach it whole, in one write, for
// the seed's harness (and ours) to read it back.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// noteWriter returns the netrt.Options.OnNote callback that logs the notes
// the seed logs, in format (logText or logJSON), on w, and the two notes of
// a durable peer an operator must see (operatorNotes). The others
// (candidacy, proposals, ...) are left out: extra lines could confuse the
// seed's harness.
func noteWriter(format string, w io.Writer) func(protocol.Note) {
	seed := textNotes(w)
	if format == logJSON {
		seed = jsonNotes(w)
	}
	ops := operatorNotes(format, w)
	return func(n protocol.Note) {
		switch n.Kind {
		case protocol.NoteResumed, protocol.NoteForcedView:
			ops(n)
		default:
			seed(n)
		}
	}
}

// operatorLog returns the logger of the lines an operator must see whatever
// -v says, in format: slog's, as the diagnostics, never the seed's, which
// the seed's harness reads. Only -data-dir and its flags produce them (a
// resumed state, a forced view, a reset state file), so a peer run with the
// seed's flags prints the seed's lines alone.
func operatorLog(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{ReplaceAttr: plainErrors}
	if format == logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// plainErrors is the ReplaceAttr of every slog handler of the peer: an
// error is written as its message, on one line. slog's text handler would
// format it with %+v, which for an error from github.com/pkg/errors is its
// stack trace, full of build paths: no place in an operator's log.
func plainErrors(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindAny {
		return a
	}
	if err, ok := a.Value.Any().(error); ok {
		return slog.String(a.Key, oneLine(err.Error()))
	}
	return a
}

// oneLine is s on one line: line breaks become "; ", runs of spaces one.
// What the peer prints of an error is always one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// operatorNotes logs the notes of a durable peer on the operator's log:
//
//	time=... level=INFO msg=resumed peer_id=2 view_id=5 leader=1 members=[1,2,3,4,5] ballot=(3,1)
//	time=... level=WARN msg=forced-view peer_id=2 view_id=5 leader=1 members=[1,2] ballot=(4,2)
//
// msg is the note kind and the header is the seed line's, as in the JSON
// lines; the members are "members", not "memb_list": neither note installs
// a view (a forced view's install follows as a seed line).
func operatorNotes(format string, w io.Writer) func(protocol.Note) {
	logger := operatorLog(format, w)
	return func(n protocol.Note) {
		level := slog.LevelInfo
		if n.Kind == protocol.NoteForcedView {
			// It can lose decisions: worth a warning.
			level = slog.LevelWarn
		}
		members := slog.String("members", protocol.FormatMembers(n.Members))
		if format == logJSON {
			members = slog.Any("members", nonNil(n.Members))
		}
		logger.LogAttrs(context.Background(), level, n.Kind.String(),
			slog.Uint64("peer_id", uint64(n.Peer)),
			slog.Uint64("view_id", uint64(n.ViewID)),
			slog.Uint64("leader", uint64(n.Leader)),
			members,
			slog.String("ballot", n.Ballot.String()),
		)
	}
}

// textNotes writes the seed's lines exactly, one Write per line so that
// lines never interleave with another writer's.
func textNotes(w io.Writer) func(protocol.Note) {
	return func(n protocol.Note) {
		line, ok := protocol.FormatNote(n)
		if !ok {
			return
		}
		// A failing stderr has nowhere to be reported; the peer goes on.
		_, _ = io.WriteString(w, line+"\n")
	}
}

// jsonNotes writes one JSON object per note through slog's JSONHandler,
// with the seed line's fields: peer_id, view_id, leader, and memb_list or
// message. The record's msg is the note kind, for filtering.
func jsonNotes(w io.Writer) func(protocol.Note) {
	logger := slog.New(slog.NewJSONHandler(w, nil))
	return func(n protocol.Note) {
		l, ok := protocol.NoteLine(n)
		if !ok {
			return
		}
		attrs := []slog.Attr{
			slog.Uint64("peer_id", uint64(l.Peer)),
			slog.Uint64("view_id", uint64(l.ViewID)),
			slog.Uint64("leader", uint64(l.Leader)),
		}
		if l.IsView() {
			attrs = append(attrs, slog.Any("memb_list", l.Members))
		} else {
			attrs = append(attrs, slog.String("message", l.Message))
		}
		logger.LogAttrs(context.Background(), slog.LevelInfo, n.Kind.String(), attrs...)
	}
}

// diagnostics returns the logger for netrt's diagnostics: nil (discard)
// unless verbose, so that by default stderr holds the seed's lines only.
func diagnostics(verbose bool, format string, w io.Writer) *slog.Logger {
	if !verbose {
		return nil
	}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: plainErrors}
	if format == logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serverLog is the HTTP server's error log (bad requests, broken
// connections): a diagnostic like the others.
func serverLog(diag *slog.Logger) *log.Logger {
	if diag == nil {
		return log.New(io.Discard, "", 0)
	}
	return slog.NewLogLogger(diag.Handler(), slog.LevelDebug)
}
