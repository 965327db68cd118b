// Package kdfescape holds the one token that lets a virtual SE be created
// with PIN-KDF parameters below vse.MinKDF. Being internal to se/, it can
// be imported only by packages under se/: the virtual SE, which checks the
// token, and the test fixtures of se/setest, which hand it out. Production
// code cannot name it, and a test (TestNoProductionPackageImportsSetest)
// keeps production packages from importing setest.
package kdfescape

// Token is the escape; only the value Get returns counts.
type Token struct{ _ byte }

var token = &Token{}

// Get returns the token.
func Get() *Token { return token }
