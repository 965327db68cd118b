package main

func runBench(e *env, args []string) error {
	return usageErrorf("offpay bench is not built yet")
}
