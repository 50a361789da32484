//go:build !race

package awsproto

const raceEnabled = false
