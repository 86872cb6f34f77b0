package sim_test

import (
	"fmt"

	"github.com/memberly/memberly/scenarios"
)

// scenarioText renders a scenario as a file to save and replay.
func scenarioText(sc scenarios.Scenario) string { return fmt.Sprintf("%+v", sc) }
