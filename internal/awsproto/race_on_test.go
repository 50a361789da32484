//go:build race

package awsproto

// raceEnabled is true under -race, where instrumentation changes escape
// analysis and allocation counts are not meaningful.
const raceEnabled = true
