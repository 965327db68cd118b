// Package se defines the secure element boundary: the one place keys live and the only code that changes a purse.
package se
