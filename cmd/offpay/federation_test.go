package main

// The federation's commands in README's "Command reference" (help_test.go).
func init() {
	documentedFlags["scheme init"] = []string{"data", "currency"}
	documentedFlags["scheme provider add"] = []string{"data", "name", "ledger-data", "url"}
	documentedFlags["scheme provider rotate"] = []string{"data", "name", "ledger-data"}
	documentedFlags["scheme provider suspend"] = []string{"data", "name", "reinstate"}
	documentedFlags["scheme register"] = []string{"data"}
	documentedFlags["scheme serve"] = []string{"data", "listen"}
	documentedFlags["scheme clear"] = []string{"data", "iso-out", "scheme-id", "settlement-agent"}
	documentedFlags["wallet scheme"] = []string{"dir", "scheme"}
	documentedFlags["ledger serve"] = append(documentedFlags["ledger serve"], "scheme", "provider", "nats", "statement-every")
}
