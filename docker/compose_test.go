//go:build e2e

package docker_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// image is the peer image the compose files run; make image builds it.
const image = "memberly-peer"

// services are the compose services, in hosts file order: service i runs
// peer i+1 (docker/hostsfile.txt lists the same names).
var services = []string{"one", "two", "three", "four", "five"}

// run runs a command and returns what it wrote to stdout; an error carries
// its stderr as well. Output read by the test is stdout alone: compose v2
// warns on stderr even when it succeeds (that the version key, which v1
// needs, is obsolete), and such a line must not pass for a container id.
func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), err
}

// containerLog returns what a container wrote to stdout and stderr, with
// the daemon's receive time on each line (docker logs -t), to place the
// installs of different peers in one order. docker logs hands the
// container's stderr, where a peer's lines go, back on its own stderr.
func containerLog(ctx context.Context, id string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", "logs", "-t", id)
	var out bytes.Buffer
	// One writer for both: exec then gives the command a single pipe, which
	// keeps its lines in the order it wrote them.
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker logs -t %s: %w\n%s", id, err, out.String())
	}
	return out.String(), nil
}

// findCompose returns the compose command: docker compose (v2) where the
// plugin is installed, else docker-compose (v1). It skips the test when
// docker itself is not usable, as on a machine without a daemon.
func findCompose(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := run(ctx, "docker", "info"); err != nil {
		t.Skipf("docker is not usable here, so the e2e cases cannot run: %v", err)
	}
	if _, err := run(ctx, "docker", "compose", "version"); err == nil {
		return []string{"docker", "compose"}
	}
	if _, err := run(ctx, "docker-compose", "version"); err == nil {
		return []string{"docker-compose"}
	}
	t.Skip("neither docker compose nor docker-compose works here, so the e2e cases cannot run")
	return nil
}

// requireImage fails the test unless the peer image exists: compose would
// otherwise try to pull it, and there is no registry to pull it from.
func requireImage(t *testing.T) {
	t.Helper()
	if _, err := run(context.Background(), "docker", "image", "inspect", image); err != nil {
		t.Fatalf("the image %s does not exist: run make image first", image)
	}
}

// cluster is one compose project running one compose file.
type cluster struct {
	compose    []string
	file       string
	project    string
	start      time.Time         // just before up: log times count from here
	containers map[string]string // by service: container id
}

// startCluster starts file as project and returns once every container is
// created. Tear-down is registered before anything starts, so it runs
// whatever happens next: a failure, a skip, an interrupt.
func startCluster(ctx context.Context, t *testing.T, compose []string, file, project string) *cluster {
	t.Helper()
	c := &cluster{compose: compose, file: file, project: project, containers: map[string]string{}}
	t.Cleanup(func() {
		if err := c.down(); err != nil {
			t.Errorf("tearing down %s: %v", project, err)
		}
	})
	// Containers left by an earlier run that was killed would clash with
	// this one's names.
	if err := c.down(); err != nil {
		t.Fatalf("removing what an earlier run left of %s: %v", project, err)
	}
	c.start = time.Now()
	if _, err := c.composeCmd(ctx, "up", "-d"); err != nil {
		t.Fatalf("starting %s: %v", file, err)
	}
	for _, s := range services {
		// ps -a -q lists exited containers too, in v1 and v2 alike.
		out, err := c.composeCmd(ctx, "ps", "-a", "-q", s)
		id := strings.TrimSpace(out)
		if err != nil || id == "" || strings.ContainsAny(id, " \n") {
			t.Fatalf("finding the container of service %s: %q, %v", s, out, err)
		}
		c.containers[s] = id
	}
	return c
}

func (c *cluster) composeCmd(ctx context.Context, args ...string) (string, error) {
	all := append([]string{}, c.compose[1:]...)
	all = append(all, "-f", c.file, "-p", c.project)
	return run(ctx, c.compose[0], append(all, args...)...)
}

// down removes the project's containers and network. It runs on its own
// context, as it must work after the test's context was cancelled.
func (c *cluster) down() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := c.composeCmd(ctx, "down", "-v", "--remove-orphans", "-t", "5")
	return err
}

// collect reads every peer's log so far and its container's state.
func (c *cluster) collect(ctx context.Context) ([]peerLog, error) {
	ids := make([]string, len(services))
	for i, s := range services {
		ids[i] = c.containers[s]
	}
	out, err := run(ctx, "docker", append([]string{"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}"}, ids...)...)
	if err != nil {
		return nil, err
	}
	states := strings.Split(strings.TrimSpace(out), "\n")
	if len(states) != len(services) {
		return nil, fmt.Errorf("docker inspect gave %d states for %d containers:\n%s", len(states), len(services), out)
	}
	logs := make([]peerLog, len(services))
	for i, s := range services {
		l := peerLog{id: protocol.PeerID(i + 1), service: s, container: ids[i]}
		var status string
		if _, err := fmt.Sscan(states[i], &status, &l.exitCode); err != nil {
			return nil, fmt.Errorf("container state of %s: %q: %v", s, states[i], err)
		}
		l.exited = status == "exited" || status == "dead"
		text, err := containerLog(ctx, ids[i])
		if err != nil {
			return nil, err
		}
		l.entries = parseEntries(text, c.start)
		logs[i] = l
	}
	return logs, nil
}
