package main

import (
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
	"github.com/memberly/memberly/sim/trace"
)

// writeTraces writes the HTML diagram and the ShiViz log asked for.
func writeTraces(cfg config, sc scenarios.Scenario, res sim.Result, stdout io.Writer) error {
	title := fmt.Sprintf("%s seed %d", sc.Name, cfg.seed)
	if cfg.trace != "" {
		if err := writeFile(cfg.trace, func(w io.Writer) error { return trace.WriteHTML(w, title, sc.Peers, res.Trace) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "trace: %s (a space-time diagram; open it in a browser)\n", cfg.trace)
	}
	if cfg.shiviz != "" {
		if err := writeFile(cfg.shiviz, func(w io.Writer) error { return trace.WriteShiViz(w, res.Trace) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "shiviz: %s (load it at https://bestchai.bitbucket.io/shiviz/)\n", cfg.shiviz)
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return errors.Wrap(err, "trace")
	}
	if err := write(f); err != nil {
		f.Close()
		return errors.Wrapf(err, "writing %s", path)
	}
	return errors.Wrapf(f.Close(), "writing %s", path)
}
