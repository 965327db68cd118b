//go:build tools

// Package tools pins the project's dependencies in go.mod before the packages
// that use them exist, so that parallel work does not fight over go.mod.
package tools

import (
	_ "github.com/flynn/noise"
	_ "github.com/fxamacker/cbor/v2"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/makiuchi-d/gozxing"
	_ "github.com/mdp/qrterminal/v3"
	_ "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/skip2/go-qrcode"
	_ "golang.org/x/crypto/argon2"
	_ "modernc.org/sqlite"
	_ "pgregory.net/rapid"
	_ "tinygo.org/x/bluetooth"
)
