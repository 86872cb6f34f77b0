package scenarios

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/memberly/memberly/protocol"
)

var timingKeys = []string{"heartbeat", "suspect_after", "retry", "join_retry", "leave_timeout", "rejoin", "observers", "max_changes_per_view", "batch_wait"}

// timing reads the timing block over protocol.DefaultConfig. The result
// must pass protocol.Config.Validate, whose message is reported at the
// block's line since it may be about two keys at once.
func (p *parser) timing(t field) (protocol.Config, error) {
	c := protocol.DefaultConfig()
	f, order, err := p.fields(t.val, "timing", timingKeys)
	if err != nil {
		return c, err
	}
	durations := map[string]*time.Duration{
		"heartbeat":     &c.HeartbeatInterval,
		"suspect_after": &c.SuspectAfter,
		"retry":         &c.RetryInterval,
		"join_retry":    &c.JoinRetryInterval,
		"leave_timeout": &c.LeaveTimeout,
		"batch_wait":    &c.BatchWait, // 0 allowed: no wait
	}
	for _, k := range order {
		v := f[k].val
		switch d, ok := durations[k]; {
		case ok:
			*d, err = p.duration(v, k)
		case k == "observers":
			var n int64
			if n, err = p.integer(v, k); err == nil && (n < 2 || n > protocol.MaxPeers) {
				err = p.errf(v.Line, "observers %d: want 2..%d (members watching each member)", n, protocol.MaxPeers)
			}
			c.Observers = int(n)
		case k == "rejoin": // the one switch
			c.Rejoin, err = p.boolean(v, k)
		default: // max_changes_per_view
			c.MaxChangesPerView, err = p.changesPerView(v)
		}
		if err != nil {
			return c, err
		}
	}
	if err := c.Validate(); err != nil {
		// %w keeps errors.Is(err, protocol.ErrConfig) working.
		return c, p.errf(t.key.Line, "timing: %w", err)
	}
	return c, nil
}

// changesPerView reads max_changes_per_view: operations one view change
// may decide, 1 to protocol.MaxChangesPerViewLimit.
func (p *parser) changesPerView(n *yaml.Node) (int, error) {
	const key = "max_changes_per_view"
	v, err := p.integer(n, key)
	switch {
	case err != nil:
		return 0, err
	case v < 1:
		return 0, p.errf(n.Line, "%s %d: a view change decides at least 1 operation", key, v)
	case v > protocol.MaxChangesPerViewLimit:
		return 0, p.errf(n.Line, "%s %d: above %d, the most one change can name (each peer once)", key, v, protocol.MaxChangesPerViewLimit)
	}
	return int(v), nil
}

var networkKeys = []string{"latency_min", "latency_mean", "latency_distribution",
	"loss_percent", "duplicate_percent", "reorder_percent", "reorder_delay_max", "timer_lateness_max"}

// Latency distributions a network may name.
const (
	distExponential = "exponential"
	distUniform     = "uniform"
)

// network reads a network block (the file's, or a timeline change, called
// what) over base: keys it leaves out keep base's values.
func (p *parser) network(n *yaml.Node, what string, base Network) (Network, error) {
	f, order, err := p.fields(n, what, networkKeys)
	if err != nil {
		return base, err
	}
	net := base
	durations := map[string]*time.Duration{
		"latency_min":        &net.LatencyMin,
		"latency_mean":       &net.LatencyMean,
		"reorder_delay_max":  &net.ReorderDelayMax,
		"timer_lateness_max": &net.TimerLatenessMax,
	}
	percents := map[string]*float64{
		"loss_percent":      &net.LossPercent,
		"duplicate_percent": &net.DuplicatePercent,
		"reorder_percent":   &net.ReorderPercent,
	}
	for _, k := range order {
		v := f[k].val
		if d, ok := durations[k]; ok {
			*d, err = p.duration(v, k)
		} else if pc, ok := percents[k]; ok {
			*pc, err = p.percent(v, k)
		} else { // latency_distribution
			net.LatencyDistribution, err = p.distribution(v)
		}
		if err != nil {
			return base, err
		}
	}
	return net, nil
}

func (p *parser) distribution(n *yaml.Node) (string, error) {
	s, err := p.text(n, "latency_distribution")
	if err != nil {
		return "", err
	}
	if s != distExponential && s != distUniform {
		return "", p.errf(n.Line, "latency_distribution %q is not one of %s, %s", s, distExponential, distUniform)
	}
	return s, nil
}
