package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pkg/errors"
)

// The subcommands talk to a running peer's -http endpoint, the way an
// operator would with curl:
//
//	peer members -http ADDR [-json]
//	peer evict -http ADDR [-token-file F] N
//	peer leave -http ADDR [-token-file F]
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"members": membersCommand,
	"evict":   evictCommand,
	"leave":   leaveCommand,
}

// clientTimeout bounds each subcommand's request.
const clientTimeout = 5 * time.Second

// maxAnswer bounds what a subcommand reads of an answer. The largest is
// GET /members of protocol.MaxPeers members, each with
// protocol.MaxTagsSize bytes of tags, which JSON may write six bytes for
// one (\u003c for <): some 5 MB.
const maxAnswer = 8 << 20

// subcommandFlags is the flag set of one subcommand: -http, and for the
// commands that change the membership -token-file.
type subcommandFlags struct {
	fs        *flag.FlagSet
	usage     string
	http      string
	tokenFile string
	json      bool
}

func newSubcommandFlags(name, usage string, token, asJSON bool) *subcommandFlags {
	f := &subcommandFlags{fs: flag.NewFlagSet("peer "+name, flag.ContinueOnError)}
	f.fs.SetOutput(io.Discard)
	f.fs.StringVar(&f.http, "http", "", "the peer's -http `address` (host:port)")
	if token {
		f.fs.StringVar(&f.tokenFile, "token-file", "", "`file` holding the token the peer's -http-token-file names (not needed over loopback without one)")
	}
	if asJSON {
		f.fs.BoolVar(&f.json, "json", false, "print the members as JSON, as GET /members returns them")
	}
	f.fs.Usage = func() {}
	f.usage = usage
	return f
}

// parse parses args, printing the usage to stdout for -help; it returns
// the exit status to stop with, or -1 to go on.
func (f *subcommandFlags) parse(args []string, stdout, stderr io.Writer, wantArgs int) int {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "usage: %s\n\n", f.usage)
			f.fs.SetOutput(stdout)
			f.fs.PrintDefaults()
			return exitOK
		}
		return startupError(stderr, errors.Errorf("%s: %v", f.fs.Name(), err))
	}
	switch {
	case f.http == "":
		return startupError(stderr, errors.Errorf("%s: -http: the peer's HTTP address is required", f.fs.Name()))
	case f.fs.NArg() != wantArgs:
		return startupError(stderr, errors.Errorf("%s: want %d argument(s) after the flags, got %d (usage: %s)", f.fs.Name(), wantArgs, f.fs.NArg(), f.usage))
	}
	return -1
}

// request sends method path to the peer and returns the body of a 2xx
// answer, or an error holding the peer's one-line answer.
func (f *subcommandFlags) request(method, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+f.http+path, nil)
	if err != nil {
		return nil, errors.Wrapf(err, "-http %s", f.http)
	}
	if f.tokenFile != "" {
		token, err := readTokenFile(f.tokenFile)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, errors.Wrapf(err, "%s %s", method, path)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, errors.Wrapf(err, "%s %s", method, path)
	}
	if len(body) > maxAnswer {
		return nil, errors.Errorf("%s %s: an answer larger than %d bytes", method, path, maxAnswer)
	}
	if resp.StatusCode/100 != 2 {
		return nil, errors.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

func membersCommand(args []string, stdout, stderr io.Writer) int {
	f := newSubcommandFlags("members", "peer members -http ADDR [-json]: the view the peer holds, a member per line with its tags", false, true)
	if st := f.parse(args, stdout, stderr, 0); st >= 0 {
		return st
	}
	body, err := f.request(http.MethodGet, "/members")
	if err != nil {
		return startupError(stderr, err)
	}
	if f.json {
		_, _ = stdout.Write(body)
		return exitOK
	}
	var members []memberJSON
	if err := json.Unmarshal(body, &members); err != nil {
		return startupError(stderr, errors.Wrap(err, "GET /members: not a member list"))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tADDRESS\tINCARNATION\tROLE\tLAST HEARD\tTAGS")
	for _, m := range members {
		heard := "-"
		switch {
		case m.Self:
			heard = "(self)"
		case m.Watched:
			heard = strconv.FormatFloat(m.LastHeardSeconds, 'f', 1, 64) + "s ago"
		default:
			heard = strconv.FormatFloat(m.LastHeardSeconds, 'f', 1, 64) + "s ago (not watched)"
		}
		tags := m.Tags.String()
		if tags == "" {
			tags = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", m.ID, m.Address, m.Incarnation, m.Role, heard, tags)
	}
	_ = tw.Flush()
	return exitOK
}

func evictCommand(args []string, stdout, stderr io.Writer) int {
	f := newSubcommandFlags("evict", "peer evict -http ADDR [-token-file F] N: ask the leader at ADDR to remove member N", true, false)
	if st := f.parse(args, stdout, stderr, 1); st >= 0 {
		return st
	}
	id, err := strconv.ParseUint(f.fs.Arg(0), 10, 32)
	if err != nil || id == 0 {
		return startupError(stderr, errors.Errorf("peer evict: %q: want a member's id", f.fs.Arg(0)))
	}
	body, err := f.request(http.MethodPost, "/evict?peer="+strconv.FormatUint(id, 10))
	if err != nil {
		return startupError(stderr, err)
	}
	_, _ = stdout.Write(body)
	return exitOK
}

func leaveCommand(args []string, stdout, stderr io.Writer) int {
	f := newSubcommandFlags("leave", "peer leave -http ADDR [-token-file F]: have the peer at ADDR leave the group gracefully", true, false)
	if st := f.parse(args, stdout, stderr, 0); st >= 0 {
		return st
	}
	body, err := f.request(http.MethodPost, "/leave")
	if err != nil {
		return startupError(stderr, err)
	}
	_, _ = stdout.Write(body)
	return exitOK
}
