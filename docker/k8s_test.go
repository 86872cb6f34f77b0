// The Kubernetes manifest (k8s/memberly.yaml) is checked without a
// cluster: its parts name one another (the Service, the ConfigMap holding
// the hosts file, the StatefulSet, its volumes and probe), and a peer
// only starts, finds its line and is reached when those names, ports and
// paths agree. This file has no build tag: make test runs it.
package docker_test

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/memberly/memberly/netrt"
)

// k8sManifestFile is the manifest docs/deploy.md describes.
const k8sManifestFile = "k8s/memberly.yaml"

// k8sImage is the image make image builds from docker/Dockerfile.
const k8sImage = "memberly-peer"

// The parts of the manifest the checks read. Fields not listed here are
// not decoded: the checks are about how the parts refer to one another,
// not a schema of Kubernetes.
type k8sManifest struct {
	Service     k8sService
	ConfigMap   k8sConfigMap
	StatefulSet k8sStatefulSet
	PDB         *k8sPDB // optional
}

type k8sMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

type k8sService struct {
	Metadata k8sMeta `yaml:"metadata"`
	Spec     struct {
		ClusterIP                string            `yaml:"clusterIP"`
		PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
		Selector                 map[string]string `yaml:"selector"`
		Ports                    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"` // a number or a port's name
			Protocol   string `yaml:"protocol"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type k8sConfigMap struct {
	Metadata k8sMeta           `yaml:"metadata"`
	Data     map[string]string `yaml:"data"`
}

type k8sStatefulSet struct {
	Metadata k8sMeta `yaml:"metadata"`
	Spec     struct {
		ServiceName string `yaml:"serviceName"`
		Replicas    *int   `yaml:"replicas"`
		Selector    struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata k8sMeta `yaml:"metadata"`
			Spec     struct {
				InitContainers []k8sContainer `yaml:"initContainers"`
				Containers     []k8sContainer `yaml:"containers"`
				Volumes        []k8sVolume    `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata k8sMeta `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Name            string   `yaml:"name"`
	Image           string   `yaml:"image"`
	ImagePullPolicy string   `yaml:"imagePullPolicy"`
	Command         []string `yaml:"command"`
	Args            []string `yaml:"args"`
	Ports           []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
		Protocol      string `yaml:"protocol"`
	} `yaml:"ports"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	StartupProbe   *k8sProbe `yaml:"startupProbe"`
	Lifecycle      *struct {
		PostStart *k8sProbe `yaml:"postStart"` // a handler: exec, httpGet, ...
		PreStop   *k8sProbe `yaml:"preStop"`
	} `yaml:"lifecycle"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
}

// k8sProbe is a probe, or a lifecycle handler: both name one action.
type k8sProbe struct {
	Exec *struct {
		Command []string `yaml:"command"`
	} `yaml:"exec"`
	HTTPGet *struct {
		Path   string `yaml:"path"`
		Port   string `yaml:"port"` // a number or a port's name
		Host   string `yaml:"host"`
		Scheme string `yaml:"scheme"`
	} `yaml:"httpGet"`
}

type k8sVolume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name  string         `yaml:"name"`
		Items []k8sKeyToPath `yaml:"items"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
	} `yaml:"secret"`
}

// k8sKeyToPath maps a ConfigMap key to a file name in the volume.
type k8sKeyToPath struct {
	Key  string `yaml:"key"`
	Path string `yaml:"path"`
}

type k8sPDB struct {
	Metadata k8sMeta `yaml:"metadata"`
	Spec     struct {
		MinAvailable   *int `yaml:"minAvailable"`
		MaxUnavailable *int `yaml:"maxUnavailable"`
		Selector       struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	} `yaml:"spec"`
}

// parseK8sManifest decodes the documents of a manifest: exactly one
// Service, ConfigMap and StatefulSet, and at most one PodDisruptionBudget.
func parseK8sManifest(data []byte) (*k8sManifest, error) {
	var m k8sManifest
	seen := map[string]int{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := doc.Decode(&head); err != nil {
			return nil, err
		}
		seen[head.Kind]++
		if seen[head.Kind] > 1 {
			return nil, fmt.Errorf("line %d: a second %s; the checks expect one", doc.Line, head.Kind)
		}
		switch head.Kind {
		case "Service":
			err = doc.Decode(&m.Service)
		case "ConfigMap":
			err = doc.Decode(&m.ConfigMap)
		case "StatefulSet":
			err = doc.Decode(&m.StatefulSet)
		case "PodDisruptionBudget":
			m.PDB = &k8sPDB{}
			err = doc.Decode(m.PDB)
		default:
			return nil, fmt.Errorf("line %d: kind %q, which the checks do not know", doc.Line, head.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", head.Kind, err)
		}
	}
	for _, kind := range []string{"Service", "ConfigMap", "StatefulSet"} {
		if seen[kind] == 0 {
			return nil, fmt.Errorf("no %s", kind)
		}
	}
	return &m, nil
}

// peerFlag is a flag of the peer binary: its name, whether it is boolean
// (takes no value), and its default when the source gives it literally.
type peerFlag struct {
	name   string
	isBool bool
	def    string
}

// readPeerFlags finds the peer's flags in the source of cmd/peer: every
// call such as fs.IntVar(&v, "tcp-port", 8080, "...") or fs.Var(v,
// "d", "..."). The binary cannot be imported (package main), and a list
// copied here would go stale unnoticed; read from the source, a renamed
// flag fails the check of the manifest that still uses the old name.
func readPeerFlags(dir string) (map[string]peerFlag, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	flags := map[string]peerFlag{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			var nameArg int // which argument names the flag
			switch sel.Sel.Name {
			case "BoolVar", "StringVar", "IntVar", "Int64Var", "UintVar", "Uint64Var", "Float64Var", "DurationVar", "Var", "TextVar", "Func", "BoolFunc":
				nameArg = 1
				if sel.Sel.Name == "Func" || sel.Sel.Name == "BoolFunc" {
					nameArg = 0
				}
			case "Bool", "String", "Int", "Int64", "Uint", "Uint64", "Float64", "Duration":
				nameArg = 0
			default:
				return true
			}
			if len(call.Args) < nameArg+2 {
				return true
			}
			lit, ok := call.Args[nameArg].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			name, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			pf := peerFlag{name: name, isBool: strings.HasPrefix(sel.Sel.Name, "Bool")}
			if !strings.HasSuffix(sel.Sel.Name, "Func") && sel.Sel.Name != "Var" && sel.Sel.Name != "TextVar" {
				pf.def = literal(call.Args[nameArg+1])
			}
			flags[name] = pf
			return true
		})
	}
	if len(flags) == 0 {
		return nil, fmt.Errorf("no flag definition found in %s", dir)
	}
	return flags, nil
}

// literal is the value of a literal default (8080, "text", true), or ""
// for anything computed.
func literal(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, _ := strconv.Unquote(e.Value)
			return s
		}
		return e.Value
	case *ast.Ident:
		if e.Name == "true" || e.Name == "false" {
			return e.Name
		}
	}
	return ""
}

// parsePeerArgs parses args as the peer does (the flag package's syntax)
// and returns every flag's value, given or default, and the flags given.
func parsePeerArgs(flags map[string]peerFlag, args []string) (values map[string]string, given map[string]bool, err error) {
	fs := flag.NewFlagSet("peer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	vals := map[string]*string{}
	for name, f := range flags {
		v := f.def
		vals[name] = &v
		if f.isBool {
			fs.Var(boolValue{&v}, name, "")
		} else {
			fs.StringVar(&v, name, f.def, "")
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected argument %q: the peer takes flags only", fs.Arg(0))
	}
	values = map[string]string{}
	for name, v := range vals {
		values[name] = *v
	}
	given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return values, given, nil
}

// boolValue is a boolean flag kept as its text; IsBoolFlag makes the
// flag package take it without a value, as the peer's own parser does.
type boolValue struct{ s *string }

func (b boolValue) String() string {
	if b.s == nil {
		return ""
	}
	return *b.s
}
func (b boolValue) Set(s string) error { *b.s = s; return nil }
func (b boolValue) IsBoolFlag() bool   { return true }

// majority is the least number of members of a view of n that decide
// without the lowest id's help.
func majority(n int) int { return n/2 + 1 }

// checkK8sManifest returns what is wrong with m: every way its parts fail
// to agree, as one line each; none when they agree.
func checkK8sManifest(m *k8sManifest, flags map[string]peerFlag) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	svc, sts := m.Service, m.StatefulSet
	pod := sts.Spec.Template

	// Names: the pods' DNS names live under the Service that the
	// StatefulSet names, and only a headless one gives each pod its own.
	if sts.Spec.ServiceName != svc.Metadata.Name {
		bad("StatefulSet serviceName %q is not the Service %q: the pods' DNS names would not exist", sts.Spec.ServiceName, svc.Metadata.Name)
	}
	if svc.Spec.ClusterIP != "None" {
		bad("Service clusterIP %q, want None (headless: a DNS name per pod, no virtual IP)", svc.Spec.ClusterIP)
	}
	if !svc.Spec.PublishNotReadyAddresses {
		bad("Service publishNotReadyAddresses is false: a joining peer (not ready) would have no DNS name, and could never join")
	}
	if !selects(svc.Spec.Selector, pod.Metadata.Labels) {
		bad("Service selector %v does not select the pod labels %v", svc.Spec.Selector, pod.Metadata.Labels)
	}
	if !selects(sts.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		bad("StatefulSet selector %v does not select the pod labels %v", sts.Spec.Selector.MatchLabels, pod.Metadata.Labels)
	}
	replicas := 1 // Kubernetes' default
	if sts.Spec.Replicas != nil {
		replicas = *sts.Spec.Replicas
	}
	if pdb := m.PDB; pdb != nil {
		if !selects(pdb.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
			bad("PodDisruptionBudget selector %v does not select the pod labels %v", pdb.Spec.Selector.MatchLabels, pod.Metadata.Labels)
		}
		switch s := pdb.Spec; {
		case s.MaxUnavailable != nil && replicas-*s.MaxUnavailable < majority(replicas):
			bad("PodDisruptionBudget maxUnavailable %d of %d replicas leaves less than a majority (%d)", *s.MaxUnavailable, replicas, majority(replicas))
		case s.MinAvailable != nil && *s.MinAvailable < majority(replicas):
			bad("PodDisruptionBudget minAvailable %d of %d replicas is less than a majority (%d)", *s.MinAvailable, replicas, majority(replicas))
		case s.MaxUnavailable == nil && s.MinAvailable == nil:
			bad("PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
		}
	}

	// The image has no shell (FROM scratch, a static binary): nothing may
	// run one, and the one container runs the peer.
	if len(pod.Spec.InitContainers) > 0 {
		bad("%d init containers: the peer image has nothing but /peer to run", len(pod.Spec.InitContainers))
	}
	if len(pod.Spec.Containers) != 1 {
		bad("%d containers, want 1 (the peer)", len(pod.Spec.Containers))
		return problems
	}
	c := pod.Spec.Containers[0]
	if name, _, _ := strings.Cut(c.Image, ":"); name != k8sImage {
		bad("image %q, want %s (make image builds it from docker/Dockerfile)", c.Image, k8sImage)
	}
	if c.ImagePullPolicy != "IfNotPresent" && c.ImagePullPolicy != "Never" {
		bad("imagePullPolicy %q: a locally built %s would be pulled, and not found", c.ImagePullPolicy, k8sImage)
	}
	if len(c.Command) > 0 && !cmp.Equal(c.Command, []string{"/peer"}) {
		bad("command %q: the image runs /peer, and has no shell", c.Command)
	}
	for what, p := range map[string]*k8sProbe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe, "startupProbe": c.StartupProbe} {
		if p != nil && p.Exec != nil {
			bad("%s runs %q: the image has no shell nor any command but /peer", what, p.Exec.Command)
		}
	}
	if l := c.Lifecycle; l != nil {
		for what, h := range map[string]*k8sProbe{"postStart": l.PostStart, "preStop": l.PreStop} {
			if h != nil && h.Exec != nil {
				bad("lifecycle %s runs %q: the image has no shell nor any command but /peer", what, h.Exec.Command)
			}
		}
	}

	values, given, err := parsePeerArgs(flags, c.Args)
	if err != nil {
		bad("args %q: %v", c.Args, err)
		return problems
	}
	if given["id"] {
		bad("args give -id %s: every pod runs the same args, so each must find its own line by its host name", values["id"])
	}

	// Ports: the container's, by name and protocol.
	portNamed := map[string]int{}
	ports := map[string]map[int]bool{"TCP": {}, "UDP": {}}
	for _, p := range c.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		if ports[proto] == nil {
			ports[proto] = map[int]bool{}
		}
		ports[proto][p.ContainerPort] = true
		if p.Name != "" {
			portNamed[p.Name] = p.ContainerPort
		}
	}
	for _, p := range svc.Spec.Ports {
		target := p.Port
		if p.TargetPort != "" {
			if n, ok := resolvePort(p.TargetPort, portNamed); ok {
				target = n
			} else {
				bad("Service port %q targets %q, which the container does not name", p.Name, p.TargetPort)
				continue
			}
		}
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		if !ports[proto][target] {
			bad("Service port %q is %s %d, which the container does not expose", p.Name, proto, target)
		}
	}

	// Volumes: which volume is mounted where.
	mountOf := map[string]string{} // volume name to mount path
	subPathOf := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mountOf[vm.Name] = vm.MountPath
		subPathOf[vm.Name] = vm.SubPath
	}

	// The hosts file: the ConfigMap's file, mounted where -h reads it.
	hostsPath := values["h"]
	var hostsData string
	var hostsFound bool
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap == nil || v.ConfigMap.Name != m.ConfigMap.Metadata.Name {
			continue
		}
		mount, ok := mountOf[v.Name]
		if !ok {
			continue
		}
		for key, data := range m.ConfigMap.Data {
			if configMapFile(mount, subPathOf[v.Name], key, v.ConfigMap.Items) == path.Clean(hostsPath) {
				hostsData, hostsFound = data, true
			}
		}
	}
	if !hostsFound {
		bad("-h %q is no file of the ConfigMap %q as the container mounts it", hostsPath, m.ConfigMap.Metadata.Name)
	} else {
		problems = append(problems, checkHostsFile(hostsData, hostsPath, values, replicas, sts.Metadata.Name, svc.Metadata.Name, ports)...)
	}

	// -data-dir: the volume each pod gets from the claim template.
	dataDir := values["data-dir"]
	if dataDir == "" {
		bad("no -data-dir: a rescheduled pod would come back as a new member")
	} else {
		claimed := false
		for _, t := range sts.Spec.VolumeClaimTemplates {
			if mount, ok := mountOf[t.Metadata.Name]; ok && subPathOf[t.Metadata.Name] == "" && path.Clean(mount) == path.Clean(dataDir) {
				claimed = true
			}
		}
		if !claimed {
			bad("-data-dir %q is not where a volumeClaimTemplate is mounted: the state would not outlive the pod", dataDir)
		}
	}

	// -key-file: a Secret's file. Other pods can reach the peers' ports,
	// and without a key identity by address is no security.
	if keyFile := values["key-file"]; keyFile == "" {
		bad("no -key-file: any pod of the cluster could speak for a member")
	} else {
		inSecret := false
		for _, v := range pod.Spec.Volumes {
			if mount, ok := mountOf[v.Name]; ok && v.Secret != nil && subPathOf[v.Name] == "" && path.Dir(path.Clean(keyFile)) == path.Clean(mount) {
				inSecret = true
			}
		}
		if !inSecret {
			bad("-key-file %q is not in a Secret mounted as a directory (a subPath mount never sees a rotation)", keyFile)
		}
	}

	// Readiness: GET /ready on the -http port, on an address the kubelet
	// reaches (the pod's).
	httpHost, httpPort, err := splitListenAddr(values["http"])
	switch {
	case values["http"] == "":
		bad("no -http: nothing to probe")
	case err != nil:
		bad("-http %q: %v", values["http"], err)
	case httpHost != "" && httpHost != "0.0.0.0" && httpHost != "::":
		bad("-http %q listens on %s only: the kubelet probes the pod's address", values["http"], httpHost)
	}
	p := c.ReadinessProbe
	switch {
	case p == nil || p.HTTPGet == nil:
		bad("no readinessProbe with httpGet: a pod would count as ready before it joins")
	default:
		g := p.HTTPGet
		if g.Path != "/ready" {
			bad("readinessProbe path %q, want /ready (200 only while the peer is a member of a view)", g.Path)
		}
		if n, ok := resolvePort(g.Port, portNamed); !ok || err != nil || n != httpPort {
			bad("readinessProbe port %q is not the -http port (%q)", g.Port, values["http"])
		}
		if g.Host != "" || (g.Scheme != "" && g.Scheme != "HTTP") {
			bad("readinessProbe goes to host %q, scheme %q: the peer serves plain HTTP on the pod's address", g.Host, g.Scheme)
		}
		if err == nil && !ports["TCP"][httpPort] {
			bad("the -http port %d is not a container port", httpPort)
		}
	}
	return problems
}

// checkHostsFile checks the hosts file against the StatefulSet: a line
// per replica at least (spare ones leave room to grow), line i naming pod
// sts-(i-1) under the Service svc, at the
// ports the container exposes.
func checkHostsFile(data, file string, values map[string]string, replicas int, sts, svc string, ports map[string]map[int]bool) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	tcpPort, err1 := strconv.Atoi(values["tcp-port"])
	udpPort, err2 := strconv.Atoi(values["udp-port"])
	if err1 != nil || err2 != nil {
		return []string{fmt.Sprintf("-tcp-port %q, -udp-port %q: want numbers", values["tcp-port"], values["udp-port"])}
	}
	hosts, err := netrt.ParseHosts([]byte(data), file, tcpPort, udpPort)
	if err != nil {
		return []string{fmt.Sprintf("the hosts file does not parse: %v", err)}
	}
	// More lines than replicas leave room to grow (docs/deploy.md).
	if len(hosts) < replicas {
		bad("the hosts file lists %d peers for %d replicas: a pod without a line cannot find its id", len(hosts), replicas)
	}
	for i, h := range hosts {
		if want := fmt.Sprintf("%s-%d.%s", sts, i, svc); !strings.EqualFold(h.Name, want) {
			bad("%s:%d: peer %d is %q, want %q (the pod %s-%d under the Service)", file, h.Line, h.ID, h.Name, want, sts, i)
		}
		for _, a := range []struct{ proto, addr string }{{"TCP", h.TCPAddr}, {"UDP", h.UDPAddr}} {
			_, port, err := net.SplitHostPort(a.addr)
			n, _ := strconv.Atoi(port)
			if err != nil || !ports[a.proto][n] {
				bad("%s:%d: %s port %s of peer %d is not a container port", file, h.Line, a.proto, port, h.ID)
			}
		}
	}
	return problems
}

// selects reports whether a label selector picks pods with labels; an
// empty selector picks nothing here (a StatefulSet requires one, and a
// Service without one manages no pod's DNS name).
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// resolvePort reads a port given as a number or as a container port's name.
func resolvePort(s string, named map[string]int) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	n, ok := named[s]
	return n, ok
}

// configMapFile is where a ConfigMap key appears in the container: under
// the mount, by its own name or its item's path, or the mount itself
// with a subPath naming it. "" when it does not appear.
func configMapFile(mount, subPath, key string, items []k8sKeyToPath) string {
	name := key
	if len(items) > 0 {
		name = ""
		for _, it := range items {
			if it.Key == key {
				name = it.Path
			}
		}
		if name == "" {
			return ""
		}
	}
	if subPath != "" {
		if subPath != name {
			return ""
		}
		return path.Clean(mount)
	}
	return path.Join(mount, name)
}

// splitListenAddr splits an -http address such as ":9000".
func splitListenAddr(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, fmt.Errorf("port %q is not a number", port)
	}
	return host, n, nil
}

// loadK8s reads the manifest and the peer's flags.
func loadK8s(t *testing.T) (*k8sManifest, map[string]peerFlag) {
	t.Helper()
	data, err := os.ReadFile(k8sManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseK8sManifest(data)
	if err != nil {
		t.Fatalf("%s: %v", k8sManifestFile, err)
	}
	flags, err := readPeerFlags(filepath.Join("..", "cmd", "peer"))
	if err != nil {
		t.Fatal(err)
	}
	return m, flags
}

func TestK8sManifest_PartsAgree(t *testing.T) {
	m, flags := loadK8s(t)
	if diff := cmp.Diff([]string(nil), checkK8sManifest(m, flags)); diff != "" {
		t.Errorf("%s: problems (-want +got):\n%s", k8sManifestFile, diff)
	}
	// Five, as the compose cases: the checks above hold for any number,
	// so pin the one docs/deploy.md speaks of.
	if got := *m.StatefulSet.Spec.Replicas; got != 5 {
		t.Errorf("replicas %d, want 5", got)
	}
	// Spare lines for pods to come are room to grow, not a mismatch.
	k := hostsKey(m)
	m.ConfigMap.Data[k] += "memberly-5.memberly:8080:8081\nmemberly-6.memberly:8080:8081\n"
	if diff := cmp.Diff([]string(nil), checkK8sManifest(m, flags)); diff != "" {
		t.Errorf("with two spare hosts lines: problems (-want +got):\n%s", diff)
	}
}

// TestK8sManifest_ChecksFail: each way the parts can drift apart makes
// the check fail, saying so.
func TestK8sManifest_ChecksFail(t *testing.T) {
	container := func(m *k8sManifest) *k8sContainer { return &m.StatefulSet.Spec.Template.Spec.Containers[0] }
	setArg := func(m *k8sManifest, name, value string) {
		args := container(m).Args
		for i := range args {
			if args[i] == "-"+name && i+1 < len(args) {
				args[i+1] = value
				return
			}
		}
		panic("no -" + name + " in the manifest's args")
	}
	dropArg := func(m *k8sManifest, name string) {
		c := container(m)
		for i := range c.Args {
			if c.Args[i] == "-"+name {
				c.Args = append(c.Args[:i:i], c.Args[i+2:]...)
				return
			}
		}
		panic("no -" + name + " in the manifest's args")
	}
	for _, tc := range []struct {
		name   string
		mutate func(m *k8sManifest)
		want   string // in one of the problems
	}{
		{"service renamed", func(m *k8sManifest) { m.Service.Metadata.Name = "members" }, `serviceName "memberly" is not the Service "members"`},
		{"service not headless", func(m *k8sManifest) { m.Service.Spec.ClusterIP = "" }, "clusterIP"},
		{"not-ready pods unpublished", func(m *k8sManifest) { m.Service.Spec.PublishNotReadyAddresses = false }, "publishNotReadyAddresses"},
		{"an extra replica without a hosts line", func(m *k8sManifest) { six := 6; m.StatefulSet.Spec.Replicas = &six }, "lists 5 peers for 6 replicas"},
		{"a spare hosts line naming another pod", func(m *k8sManifest) {
			k := hostsKey(m)
			m.ConfigMap.Data[k] += "memberly-9.memberly:8080:8081\n"
		}, `peer 6 is "memberly-9.memberly", want "memberly-5.memberly"`},
		{"hosts lines out of order", func(m *k8sManifest) {
			k := hostsKey(m)
			d := m.ConfigMap.Data[k]
			d = strings.Replace(d, "memberly-1.", "memberly-X.", 1)
			d = strings.Replace(d, "memberly-2.", "memberly-1.", 1)
			m.ConfigMap.Data[k] = strings.Replace(d, "memberly-X.", "memberly-2.", 1)
		}, `peer 2 is "memberly-2.memberly", want "memberly-1.memberly"`},
		{"hosts line under another service", func(m *k8sManifest) {
			k := hostsKey(m)
			m.ConfigMap.Data[k] = strings.Replace(m.ConfigMap.Data[k], "memberly-3.memberly", "memberly-3.peers", 1)
		}, `peer 4 is "memberly-3.peers"`},
		{"wrong TCP port in a hosts line", func(m *k8sManifest) {
			k := hostsKey(m)
			m.ConfigMap.Data[k] = strings.Replace(m.ConfigMap.Data[k], "memberly-4.memberly:8080", "memberly-4.memberly:7946", 1)
		}, "TCP port 7946 of peer 5 is not a container port"},
		{"wrong container UDP port", func(m *k8sManifest) { container(m).Ports[1].ContainerPort = 7947 }, "UDP port 8081 of peer 1 is not a container port"},
		{"UDP port exposed as TCP", func(m *k8sManifest) { container(m).Ports[1].Protocol = "TCP" }, "UDP port 8081 of peer 1 is not a container port"},
		{"service port off the container", func(m *k8sManifest) { m.Service.Spec.Ports[0].TargetPort = "7946" }, "Service port \"peer\" is TCP 7946"},
		{"hosts file unparsable", func(m *k8sManifest) { m.ConfigMap.Data[hostsKey(m)] = "memberly-0.memberly:http\n" }, "does not parse"},
		{"pod labels changed", func(m *k8sManifest) {
			m.StatefulSet.Spec.Template.Metadata.Labels = map[string]string{"app": "other"}
		}, "Service selector"},
		{"statefulset selector changed", func(m *k8sManifest) {
			m.StatefulSet.Spec.Selector.MatchLabels = map[string]string{"app.kubernetes.io/name": "other"}
		}, "StatefulSet selector"},
		{"hosts file path off the mount", func(m *k8sManifest) { setArg(m, "h", "/etc/memberly/hosts.txt") }, `-h "/etc/memberly/hosts.txt" is no file of the ConfigMap`},
		{"configmap renamed", func(m *k8sManifest) { m.ConfigMap.Metadata.Name = "hosts" }, "is no file of the ConfigMap"},
		{"data dir off the claim", func(m *k8sManifest) { setArg(m, "data-dir", "/var/lib/memberly") }, `-data-dir "/var/lib/memberly" is not where a volumeClaimTemplate is mounted`},
		{"claim template renamed", func(m *k8sManifest) { m.StatefulSet.Spec.VolumeClaimTemplates[0].Metadata.Name = "state" }, "is not where a volumeClaimTemplate is mounted"},
		{"crash-stop peers", func(m *k8sManifest) { dropArg(m, "data-dir") }, "no -data-dir"},
		{"no key", func(m *k8sManifest) { dropArg(m, "key-file") }, "no -key-file"},
		{"key off the secret", func(m *k8sManifest) { setArg(m, "key-file", "/data/cluster.key") }, "is not in a Secret"},
		{"http port not the probe's", func(m *k8sManifest) { setArg(m, "http", ":9090") }, "readinessProbe port \"http\" is not the -http port"},
		{"http on loopback", func(m *k8sManifest) { setArg(m, "http", "127.0.0.1:9000") }, "listens on 127.0.0.1 only"},
		{"probe on /status", func(m *k8sManifest) { container(m).ReadinessProbe.HTTPGet.Path = "/status" }, "readinessProbe path \"/status\""},
		{"no readiness probe", func(m *k8sManifest) { container(m).ReadinessProbe = nil }, "no readinessProbe"},
		{"an exec probe", func(m *k8sManifest) {
			container(m).LivenessProbe = &k8sProbe{Exec: &struct {
				Command []string `yaml:"command"`
			}{[]string{"sh", "-c", "true"}}}
		}, "livenessProbe runs"},
		{"a shell command", func(m *k8sManifest) { container(m).Command = []string{"sh", "-c", "/peer -h hosts"} }, "has no shell"},
		{"a fixed id", func(m *k8sManifest) { container(m).Args = append(container(m).Args, "-id", "1") }, "args give -id 1"},
		{"an unknown flag", func(m *k8sManifest) { container(m).Args = append(container(m).Args, "-datadir", "/data") }, "flag provided but not defined: -datadir"},
		{"another image", func(m *k8sManifest) { container(m).Image = "memberly:v2" }, `image "memberly:v2"`},
		{"pulled image", func(m *k8sManifest) { container(m).ImagePullPolicy = "" }, "imagePullPolicy"},
		{"disruption budget below a majority", func(m *k8sManifest) { three := 3; m.PDB.Spec.MaxUnavailable = &three }, "maxUnavailable 3 of 5 replicas"},
		{"disruption budget min below a majority", func(m *k8sManifest) {
			two := 2
			m.PDB.Spec.MaxUnavailable, m.PDB.Spec.MinAvailable = nil, &two
		}, "minAvailable 2 of 5 replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, flags := loadK8s(t)
			tc.mutate(m)
			problems := checkK8sManifest(m, flags)
			for _, p := range problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("no problem says %q; problems:\n%s", tc.want, strings.Join(problems, "\n"))
		})
	}
}

// TestReadPeerFlags_FindsTheFlags: the flags the manifest relies on are
// found in cmd/peer, booleans told apart, with their literal defaults.
func TestReadPeerFlags_FindsTheFlags(t *testing.T) {
	flags, err := readPeerFlags(filepath.Join("..", "cmd", "peer"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]peerFlag{
		"h":               {name: "h"},
		"data-dir":        {name: "data-dir"},
		"http":            {name: "http"},
		"key-file":        {name: "key-file"},
		"id":              {name: "id", def: "0"},
		"tcp-port":        {name: "tcp-port", def: "8080"},
		"udp-port":        {name: "udp-port", def: "8081"},
		"reset-state":     {name: "reset-state", isBool: true, def: "false"},
		"leave-on-signal": {name: "leave-on-signal", isBool: true, def: "true"},
		"d":               {name: "d"},
	}
	got := map[string]peerFlag{}
	for name := range want {
		got[name] = flags[name]
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(peerFlag{})); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

// TestParsePeerArgs_FlagSyntax: the args are read as the flag package
// reads them, so that a boolean flag does not swallow the next one.
func TestParsePeerArgs_FlagSyntax(t *testing.T) {
	flags := map[string]peerFlag{
		"h": {name: "h"}, "http": {name: "http"}, "v": {name: "v", isBool: true, def: "false"}, "tcp-port": {name: "tcp-port", def: "8080"},
	}
	values, given, err := parsePeerArgs(flags, []string{"-v", "-h", "hosts.txt", "--http=:9000"})
	if err != nil {
		t.Fatal(err)
	}
	type parsed struct {
		Values map[string]string
		Given  map[string]bool
	}
	want := parsed{
		Values: map[string]string{"h": "hosts.txt", "http": ":9000", "v": "true", "tcp-port": "8080"},
		Given:  map[string]bool{"h": true, "http": true, "v": true},
	}
	if diff := cmp.Diff(want, parsed{values, given}); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	if _, _, err := parsePeerArgs(flags, []string{"-h", "hosts.txt", "extra"}); err == nil {
		t.Error("a positional argument: no error")
	}
}

// hostsKey names the ConfigMap's one file, the hosts file.
func hostsKey(m *k8sManifest) string {
	for k := range m.ConfigMap.Data {
		return k
	}
	panic("empty ConfigMap")
}
