package protocol_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

func TestConfig_DefaultIsSeedTiming(t *testing.T) {
	c := protocol.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if c.HeartbeatInterval != 1100*time.Millisecond || c.SuspectAfter != 2200*time.Millisecond || !c.Rejoin || c.MaxChangesPerView != 1 {
		t.Errorf("default config = %+v, want heartbeat 1.1s, suspect after 2.2s, rejoin on, one change per view", c)
	}
}

func TestConfig_ValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*protocol.Config)
		want   string
	}{
		{"zero heartbeat", func(c *protocol.Config) { c.HeartbeatInterval = 0 }, "HeartbeatInterval is 0s, must be positive"},
		{"negative suspect", func(c *protocol.Config) { c.SuspectAfter = -time.Second }, "SuspectAfter is -1s, must be positive"},
		{"zero retry", func(c *protocol.Config) { c.RetryInterval = 0 }, "RetryInterval is 0s"},
		{"zero join retry", func(c *protocol.Config) { c.JoinRetryInterval = 0 }, "JoinRetryInterval is 0s"},
		{"zero leave timeout", func(c *protocol.Config) { c.LeaveTimeout = 0 }, "LeaveTimeout is 0s"},
		{"suspect equals heartbeat", func(c *protocol.Config) { c.SuspectAfter = c.HeartbeatInterval },
			"SuspectAfter 1.1s must be at least twice HeartbeatInterval 1.1s"},
		{"suspect below two heartbeats", func(c *protocol.Config) { c.SuspectAfter = 2199 * time.Millisecond },
			"SuspectAfter 2.199s must be at least twice HeartbeatInterval 1.1s"},
		{"heartbeat of a nanosecond", func(c *protocol.Config) { c.HeartbeatInterval, c.SuspectAfter = 1, 2 },
			"HeartbeatInterval 1ns is below 10ms"},
		{"heartbeat just below the floor", func(c *protocol.Config) { c.HeartbeatInterval = 9 * time.Millisecond },
			"HeartbeatInterval 9ms is below 10ms"},
		{"leave timeout below retry", func(c *protocol.Config) { c.LeaveTimeout = 100 * time.Millisecond },
			"LeaveTimeout 100ms is shorter than RetryInterval 500ms"},
		{"no change per view", func(c *protocol.Config) { c.MaxChangesPerView = 0 }, "MaxChangesPerView is 0, must be 1..64"},
		{"negative changes per view", func(c *protocol.Config) { c.MaxChangesPerView = -3 }, "MaxChangesPerView is -3, must be 1..64"},
		{"more changes than peers", func(c *protocol.Config) { c.MaxChangesPerView = protocol.MaxChangesPerViewLimit + 1 }, "MaxChangesPerView is 65, must be 1..64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := protocol.DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, protocol.ErrConfig) {
				t.Errorf("Validate() = %v, want an ErrConfig containing %q", err, tc.want)
			}
		})
	}
}

func TestNewPeer_RejectsBadArguments(t *testing.T) {
	cfg := protocol.DefaultConfig()
	for _, tc := range []struct {
		id       protocol.PeerID
		universe int
		want     string
	}{
		{0, 5, "peer id 0 outside the universe 1..5"},
		{6, 5, "peer id 6 outside the universe 1..5"},
		{1, 0, "universe of 0 peers"},
		{1, protocol.MaxPeers + 1, "universe of 1025 peers"},
	} {
		if _, err := protocol.NewPeer(cfg, tc.id, tc.universe); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewPeer(id %d, universe %d) = %v, want error containing %q", tc.id, tc.universe, err, tc.want)
		}
	}
	bad := cfg
	bad.HeartbeatInterval = 0
	if _, err := protocol.NewPeer(bad, 1, 5); !errors.Is(err, protocol.ErrConfig) {
		t.Errorf("NewPeer with invalid config = %v, want ErrConfig", err)
	}
}
