package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
)

// TestChannelKeyIsSealed: the channel's static X25519 private key is kept
// sealed by the wallet's SE (the finding: channel.key held it in the
// clear, outside the PIN): the file does not hold the key, the same key
// comes back on the next run, a key written in the clear by an older
// version is sealed when first read, and another wallet's SE cannot open
// it.
func TestChannelKeyIsSealed(t *testing.T) {
	open := func(dir string) *wallet.Wallet {
		v, err := vse.Create(filepath.Join(dir, walletSEDir), setest.PIN, setest.Options(nil))
		if err != nil {
			t.Fatal(err)
		}
		w, err := wallet.Open(v, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	dir := t.TempDir()
	w := open(dir)
	k, err := channelKey(w, dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, channelKeyFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, k.Bytes()) {
		t.Fatal("channel.key holds the private key in the clear")
	}
	k2, err := channelKey(w, dir)
	if err != nil || !k2.Equal(k) {
		t.Fatalf("the key changed between runs: %v", err)
	}
	// Another wallet's SE cannot open it.
	other := t.TempDir()
	ow := open(other)
	if err := os.WriteFile(filepath.Join(other, channelKeyFile), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := channelKey(ow, other); !errors.Is(err, se.ErrBadData) {
		t.Fatalf("another SE opened the channel key: %v", err)
	}
	// Written in the clear by an older version: read, then sealed.
	if err := os.WriteFile(path, k.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	k3, err := channelKey(w, dir)
	if err != nil || !k3.Equal(k) {
		t.Fatalf("the clear key was not taken over: %v", err)
	}
	if raw, _ := os.ReadFile(path); bytes.Contains(raw, k.Bytes()) {
		t.Fatal("the clear key was not sealed when read")
	}
}
