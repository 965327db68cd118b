package main

func runDemo(e *env, args []string) error {
	return usageErrorf("demo not built yet")
}
