//go:build !race

package soundtest_test

const raceEnabled = false
