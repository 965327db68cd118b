// Package offpay holds the domain's money type and error codes; standard library only.
package offpay
