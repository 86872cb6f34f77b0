// Package check judges runs by the safety properties S1-S5 of
// docs/design.md, section 11, whether the run was simulated (package sim
// feeds a History as it goes) or real (CheckInstalls reads the installs
// that the peers' log lines show). One set of checkers serves both, so that
// a real run and a simulated one are judged alike.
package check
