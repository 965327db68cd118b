package main

func walletReceive(e *env, args []string) error { return usageErrorf("not yet") }
func walletSend(e *env, args []string) error    { return usageErrorf("not yet") }
